#if canImport(Glibc)
  import Glibc
#endif

/// A value behind a pthread mutex.
///
/// The engine uses this rather than `Synchronization.Mutex` because the thread
/// sanitizer intercepts pthread locks but not the futex calls inside the
/// toolchain's prebuilt `Mutex`, and reports false races through it. Every
/// access to `value` happens with `mutex` held, which is why the class may be
/// shared between threads.
public final class Locked<Value>: @unchecked Sendable {
  private var value: Value
  private let mutex: UnsafeMutablePointer<pthread_mutex_t>

  /// Wraps `value`.
  public init(_ value: Value) {
    self.value = value
    mutex = .allocate(capacity: 1)
    pthread_mutex_init(mutex, nil)
  }

  deinit {
    pthread_mutex_destroy(mutex)
    mutex.deallocate()
  }

  /// Runs `body` with exclusive access to the value.
  public func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
    pthread_mutex_lock(mutex)
    defer { pthread_mutex_unlock(mutex) }
    return try body(&value)
  }
}
