import Foundation
import Sounder
import Synchronization

/// Seconds taken by `body`.
public func seconds(_ body: () -> Void) -> Double {
  let elapsed = ContinuousClock().measure(body)
  return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
}

/// The number of calls that takes at least `minimum` seconds (doubling from 1).
public func calibrate(_ body: (Int) -> Void, minimum: Double) -> Int {
  var reps = 1
  while seconds({ body(reps) }) < minimum && reps < 1 << 30 { reps *= 2 }
  return reps
}

/// Best seconds per call of the Swift and the C kernel over `samples`
/// samples, the two alternating so that both see the same machine load.
public func bestOfInterleaved(_ workload: Workload, samples: Int, minimum: Double) -> (
  swift: Double, c: Double
) {
  let reps = max(calibrate(workload.swift, minimum: minimum), calibrate(workload.c, minimum: minimum))
  var best = (swift: Double.infinity, c: Double.infinity)
  for _ in 0..<samples {
    best.swift = min(best.swift, seconds { workload.swift(reps) } / Double(reps))
    best.c = min(best.c, seconds { workload.c(reps) } / Double(reps))
  }
  return best
}

/// Runs a body on every worker of a placement plan at once, each on its own
/// OS thread pinned to its processing unit, and times the whole.
public final class PinnedTeam: Sendable {
  /// The machine the workers are pinned on.
  public let topology: Topology
  /// Where each worker runs.
  public let plan: PlacementPlan

  /// A team of one worker per core, spread over NUMA nodes.
  public init() throws {
    topology = try Topology.current()
    plan = try PlacementPlan(topology: topology, policy: .spread)
  }

  /// Number of workers.
  public var count: Int { plan.workers.count }

  /// Starts every worker, releases them together once all are pinned, runs
  /// `body(worker)` on each, and returns the seconds from release until the
  /// last one finished.
  public func run(_ body: @escaping @Sendable (Int) -> Void) -> Double {
    let gate = StartGate()
    let done = DispatchSemaphore(value: 0)
    let clock = ContinuousClock()
    for worker in plan.workers {
      let thread = Thread { [topology] in
        try? topology.bindCurrentThread(to: worker.processingUnit)
        gate.ready.add(1, ordering: .releasing)
        while !gate.go.load(ordering: .acquiring) { sched_yield() }
        body(worker.worker)
        let end = clock.now
        gate.ends.withLock { $0.append(end) }
        done.signal()
      }
      thread.start()
    }
    while gate.ready.load(ordering: .acquiring) < count { sched_yield() }
    let start = clock.now
    gate.go.store(true, ordering: .releasing)
    for _ in 0..<count { done.wait() }
    let elapsed = gate.ends.withLock { $0.max()! } - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
  }
}

/// What the workers of one ``PinnedTeam/run(_:)`` share: a count of pinned
/// workers, the release flag, and when each finished.
private final class StartGate: Sendable {
  let ready = Atomic<Int>(0)
  let go = Atomic<Bool>(false)
  let ends = Mutex<[ContinuousClock.Instant]>([])
}
