import CAtomics
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// What one worker has done so far in a training run.
public struct WorkerCounts: Sendable, Equatable, Codable {
  /// Examples (rows) the worker processed, summed over epochs.
  public var examples: Int = 0
  /// Stored feature values the worker read (dense rows: every column).
  public var nonZeros: Int = 0
  /// Bytes of features read: values, and for sparse rows their column indices.
  public var bytesRead: Int = 0
  /// Seconds computing gradients and updates.
  public var computeSeconds: Double = 0
  /// Seconds waiting at barriers for the other workers.
  public var waitSeconds: Double = 0
  /// Seconds averaging replicas or reducing gradients.
  public var mergeSeconds: Double = 0

  public init() {}

  /// The sum of two workers' counts.
  public static func + (a: WorkerCounts, b: WorkerCounts) -> WorkerCounts {
    var sum = a
    sum.examples += b.examples
    sum.nonZeros += b.nonZeros
    sum.bytesRead += b.bytesRead
    sum.computeSeconds += b.computeSeconds
    sum.waitSeconds += b.waitSeconds
    sum.mergeSeconds += b.mergeSeconds
    return sum
  }
}

/// Where the time of a worker goes.
package enum WorkerActivity: Int {
  case compute = 2
  case wait = 3
  case merge = 4
}

/// Per-worker counters that cost nothing measurable on the hot path: each
/// worker adds to its own 128-byte slot (two cache lines, so neither a
/// neighbour's writes nor the adjacent-line prefetcher bring them into
/// contention) with plain relaxed stores, once per round of examples, never
/// per example. Any thread may read them at any time, e.g. to draw a
/// progress bar during an epoch.
///
/// ```swift
/// let counters = WorkerCounters()
/// // on another thread while `fit` runs:
/// if let progress = counters.epochProgress { print(progress.done, "of", progress.total) }
/// let result = try Trainer(setup).fit(rows, counters: counters)
/// ```
public final class WorkerCounters: @unchecked Sendable {
  /// UInt64 fields per slot: examples, non-zeros, then nanoseconds of
  /// compute, wait and merge (indexed by `WorkerActivity`), then padding.
  static let slotWords = 16

  private struct State {
    var slots: UnsafeMutablePointer<UInt64>?
    var workers = 0
    var bytesPerNonZero = 4
    var epoch = 0
    var epochTotal = 0
    var examplesBefore = 0
  }
  private let state = Mutex(State())

  /// Empty counters; a training run sizes them for its workers.
  public init() {}

  deinit { state.withLock { $0.slots?.deallocate() } }

  /// Makes room for `workers` zeroed slots and returns their memory. Called
  /// by the trainer before its workers start; they write only through it.
  package func prepare(workers: Int, bytesPerNonZero: Int) -> CounterSlots {
    state.withLock { state in
      state.slots?.deallocate()
      let words = workers * Self.slotWords
      let raw = UnsafeMutableRawPointer.allocate(byteCount: words * 8, alignment: 128)
      let slots = raw.bindMemory(to: UInt64.self, capacity: words)
      slots.initialize(repeating: 0, count: words)
      state.slots = slots
      state.workers = workers
      state.bytesPerNonZero = bytesPerNonZero
      state.epoch = 0
      return CounterSlots(base: slots)
    }
  }

  /// Marks the start of epoch `epoch`, which will process `examples` rows.
  package func beginEpoch(_ epoch: Int, examples: Int) {
    let done = perWorker.reduce(0) { $0 + $1.examples }
    state.withLock { state in
      state.epoch = epoch
      state.epochTotal = examples
      state.examplesBefore = done
    }
  }

  /// Every worker's counts so far, in worker order (empty before training).
  public var perWorker: [WorkerCounts] {
    state.withLock { state in
      guard let slots = state.slots else { return [] }
      return (0..<state.workers).map { worker in
        let slot = slots + worker * Self.slotWords
        func word(_ i: Int) -> UInt64 { catomics_load_relaxed_u64(slot + i) }
        var counts = WorkerCounts()
        counts.examples = Int(word(0))
        counts.nonZeros = Int(word(1))
        counts.bytesRead = counts.nonZeros * state.bytesPerNonZero
        counts.computeSeconds = Double(word(WorkerActivity.compute.rawValue)) * 1e-9
        counts.waitSeconds = Double(word(WorkerActivity.wait.rawValue)) * 1e-9
        counts.mergeSeconds = Double(word(WorkerActivity.merge.rawValue)) * 1e-9
        return counts
      }
    }
  }

  /// The epoch in progress: its number, and examples done of its total
  /// (`nil` before the first epoch starts).
  public var epochProgress: (epoch: Int, done: Int, total: Int)? {
    let done = perWorker.reduce(0) { $0 + $1.examples }
    return state.withLock { state in
      state.epoch == 0
        ? nil : (state.epoch, min(done - state.examplesBefore, state.epochTotal), state.epochTotal)
    }
  }
}

/// The workers' slots of a `WorkerCounters`, handed to the training loops.
/// Each worker writes only its own slot, so sharing the pointer is safe.
package struct CounterSlots: @unchecked Sendable {
  let base: UnsafeMutablePointer<UInt64>

  /// Worker `worker`'s slot, with its clock started now.
  package func slot(_ worker: Int) -> CounterSlot { CounterSlot(base, worker: worker) }
}

/// A worker's own slot in `WorkerCounters`: the only writer of its words.
package struct CounterSlot {
  private let slot: UnsafeMutablePointer<UInt64>
  private var mark: UInt64

  init(_ slots: UnsafeMutablePointer<UInt64>, worker: Int) {
    slot = slots + worker * WorkerCounters.slotWords
    mark = Self.now()
  }

  /// Adds a round of work.
  @inline(__always)
  package func count(examples: Int, nonZeros: Int) {
    catomics_add_relaxed_u64(slot, UInt64(examples))
    catomics_add_relaxed_u64(slot + 1, UInt64(nonZeros))
  }

  /// Charges the time since the last call (or since the slot was made) to
  /// `activity`.
  @inline(__always)
  package mutating func charge(_ activity: WorkerActivity) {
    let now = Self.now()
    catomics_add_relaxed_u64(slot + activity.rawValue, now &- mark)
    mark = now
  }

  @inline(__always)
  private static func now() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
  }
}
