import CAtomics
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// A counter that threads wait on until it moves: they spin for a while (the
/// cheap case when every waiter has a core of its own) and then sleep on a
/// condition variable, so an oversubscribed machine is not starved by
/// busy-waiting threads.
///
/// Shared by reference between threads; every field is either atomic or
/// guarded by `mutex`, which is why the class may be marked Sendable.
final class Generation: @unchecked Sendable {
  private let value = Atomic<Int>(0)
  private let sleepers = Atomic<Int>(0)
  private let mutex: UnsafeMutablePointer<pthread_mutex_t>
  private let condition: UnsafeMutablePointer<pthread_cond_t>
  /// How many `pause` rounds a waiter spins before it sleeps.
  let spinLimit: Int

  init(spinLimit: Int) {
    self.spinLimit = spinLimit
    mutex = .allocate(capacity: 1)
    condition = .allocate(capacity: 1)
    pthread_mutex_init(mutex, nil)
    pthread_cond_init(condition, nil)
  }

  deinit {
    pthread_cond_destroy(condition)
    pthread_mutex_destroy(mutex)
    mutex.deallocate()
    condition.deallocate()
  }

  /// The current value.
  var current: Int { value.load(ordering: .acquiring) }

  /// Moves the counter on and wakes every waiter.
  func advance() {
    value.wrappingAdd(1, ordering: .sequentiallyConsistent)
    // A waiter registers as a sleeper before its last look at `value`, both
    // sequentially consistent: either it sees the new value, or we see it.
    if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
      pthread_mutex_lock(mutex)
      pthread_cond_broadcast(condition)
      pthread_mutex_unlock(mutex)
    }
  }

  /// Returns once the counter differs from `seen`.
  func wait(whileEqualTo seen: Int) {
    for _ in 0..<spinLimit {
      if value.load(ordering: .acquiring) != seen { return }
      catomics_spin_pause()
    }
    pthread_mutex_lock(mutex)
    sleepers.wrappingAdd(1, ordering: .sequentiallyConsistent)
    while value.load(ordering: .sequentiallyConsistent) == seen {
      pthread_cond_wait(condition, mutex)
    }
    sleepers.wrappingSubtract(1, ordering: .sequentiallyConsistent)
    pthread_mutex_unlock(mutex)
  }
}
