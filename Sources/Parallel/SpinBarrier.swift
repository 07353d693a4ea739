import Synchronization

/// Thrown by ``SpinBarrier/arrive()`` when the barrier was broken because
/// another worker failed: the waiting workers stop instead of hanging.
public struct BarrierBroken: Error, Equatable, Sendable {}

/// A reusable barrier for a fixed number of threads, spin-then-block.
///
/// Two threads on dedicated cores cross it in well under a microsecond by
/// spinning; when threads outnumber cores, waiters fall asleep after a bounded
/// spin instead of stealing the core the last thread needs.
public final class SpinBarrier: Sendable {
  /// How many threads must arrive before any leaves.
  public let parties: Int
  private let arrived = Atomic<Int>(0)
  private let broken = Atomic<Bool>(false)
  private let generation: Generation

  /// A barrier for `parties` threads; waiters spin `spinLimit` pause rounds
  /// (about 10 to 50 µs at the default) before they sleep.
  public init(parties: Int, spinLimit: Int = 2_000) {
    precondition(parties >= 1, "a barrier needs at least one party")
    self.parties = parties
    generation = Generation(spinLimit: spinLimit)
  }

  /// Waits until all `parties` threads have arrived. Returns `true` in exactly
  /// one of them (the last to arrive), which can do serial work such as
  /// applying a reduced gradient while the others are released.
  ///
  /// - Throws: ``BarrierBroken`` once ``breakBarrier()`` has been called.
  @discardableResult
  public func arrive() throws(BarrierBroken) -> Bool {
    let seen = generation.current
    if broken.load(ordering: .acquiring) { throw BarrierBroken() }
    if arrived.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue == parties {
      arrived.store(0, ordering: .relaxed)
      generation.advance()
      return true
    }
    generation.wait(whileEqualTo: seen)
    if broken.load(ordering: .acquiring) { throw BarrierBroken() }
    return false
  }

  /// Releases every waiter with ``BarrierBroken``, now and on later arrivals,
  /// until ``reset()``.
  public func breakBarrier() {
    broken.store(true, ordering: .releasing)
    generation.advance()
  }

  /// Makes a broken barrier usable again. Only call it while no thread is
  /// inside ``arrive()``.
  public func reset() {
    arrived.store(0, ordering: .relaxed)
    broken.store(false, ordering: .releasing)
  }

  /// Whether the barrier has been broken.
  public var isBroken: Bool { broken.load(ordering: .acquiring) }
}
