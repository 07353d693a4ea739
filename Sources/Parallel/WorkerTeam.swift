import Synchronization
import Topology

#if canImport(Glibc)
  import Glibc
#endif

/// Why a worker team could not start or a parallel run failed.
public enum WorkerTeamError: Error, Sendable, CustomStringConvertible {
  /// The operating system refused to create a thread.
  case threadCreationFailed(worker: Int, errno: Int32)
  /// A worker could not be pinned to its processing unit.
  case pinningFailed(worker: Int, cpu: Int, reason: TopologyError)

  public var description: String {
    switch self {
    case .threadCreationFailed(let worker, let code):
      return
        "could not start worker \(worker): \(TopologyError.system(function: "pthread_create", errno: code))"
    case .pinningFailed(let worker, let cpu, let reason):
      return "could not pin worker \(worker) to CPU \(cpu): \(reason)"
    }
  }
}

/// What a worker knows about itself and its team while it runs.
public struct WorkerContext: Sendable {
  /// The worker's number, 0 ..< ``count``.
  public let index: Int
  /// How many workers the team has.
  public let count: Int
  /// Where the worker runs (core, NUMA node, CPU).
  public let placement: WorkerPlacement
  /// The team's barrier, for workers that synchronise inside a run.
  public let barrier: SpinBarrier
}

/// A fixed team of OS threads, one per entry of a placement plan, each pinned
/// to its processing unit for its whole life, that runs parallel regions.
///
/// Threads are created once and reused: ``run(_:)`` wakes them, runs the body
/// on every worker and returns when all are done, so an engine can run one
/// region per epoch (or per step) without creating threads. Swift's
/// cooperative thread pool cannot pin threads, which is why the team uses
/// pthreads directly. The threads stop when the team is released.
///
/// If a worker's body throws, the team's barrier breaks so that workers
/// waiting on it stop, and ``run(_:)`` rethrows that first error, once.
public final class WorkerTeam: Sendable {
  /// The workers' placements, in worker order.
  public var placements: [WorkerPlacement] { state.placements }
  /// The barrier handed to every worker through ``WorkerContext``.
  public var barrier: SpinBarrier { state.barrier }
  /// How many workers the team has.
  public var count: Int { state.placements.count }

  private let state: TeamState
  private let threads: [pthread_t]

  /// Starts one thread per placement in `plan`, pinned when `pin` is true
  /// (pinning needs `topology` to be this machine).
  ///
  /// - Throws: ``WorkerTeamError`` when a thread cannot be created or pinned;
  ///   the threads already started are stopped first.
  public init(topology: Topology, plan: PlacementPlan, pin: Bool = true) throws(WorkerTeamError) {
    let state = TeamState(placements: plan.workers)
    var threads: [pthread_t] = []
    for placement in plan.workers {
      do {
        threads.append(
          try Self.spawn(worker: placement.worker) {
            state.workerMain(placement, pinningWith: pin ? topology : nil)
          })
      } catch {
        state.stop(threads)
        throw error
      }
    }
    // Start-up happens once, so a yielding wait is good enough here.
    while state.started.load(ordering: .acquiring) < plan.workers.count { sched_yield() }
    if let failure = state.startupError.withLock({ $0 }) {
      state.stop(threads)
      throw failure
    }
    self.state = state
    self.threads = threads
  }

  deinit { state.stop(threads) }

  /// Runs `body` once on every worker, in parallel, and returns when all have
  /// finished. Calls must not overlap (the team runs one region at a time).
  ///
  /// - Throws: the first error a worker threw. Workers blocked on the team's
  ///   barrier at that moment get ``BarrierBroken``, which is not reported.
  public func run(_ body: @escaping @Sendable (WorkerContext) throws -> Void) throws {
    try state.run(body)
  }

  private static func spawn(worker: Int, _ body: @escaping @Sendable () -> Void) throws(WorkerTeamError)
    -> pthread_t
  {
    let box = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    var thread = pthread_t()
    let status = pthread_create(
      &thread, nil,
      { pointer in
        Unmanaged<ThreadBody>.fromOpaque(pointer!).takeRetainedValue().run()
        return nil
      }, box)
    guard status == 0 else {
      Unmanaged<ThreadBody>.fromOpaque(box).release()
      throw .threadCreationFailed(worker: worker, errno: status)
    }
    return thread
  }
}

/// What the team's threads share. The threads hold it, not the team, so the
/// team can be released (and stop them) while they run.
private final class TeamState: Sendable {
  let placements: [WorkerPlacement]
  let barrier: SpinBarrier
  let started = Atomic<Int>(0)
  let startupError = Locked<WorkerTeamError?>(nil)
  private let start = Generation(spinLimit: 2_000)
  private let finish: SpinBarrier
  private let job = Locked<(@Sendable (WorkerContext) throws -> Void)?>(nil)
  private let firstError = Locked<(any Error)?>(nil)
  private let shuttingDown = Atomic<Bool>(false)

  init(placements: [WorkerPlacement]) {
    self.placements = placements
    barrier = SpinBarrier(parties: placements.count)
    finish = SpinBarrier(parties: placements.count + 1)
  }

  func run(_ body: @escaping @Sendable (WorkerContext) throws -> Void) throws {
    job.withLock { $0 = body }
    firstError.withLock { $0 = nil }
    barrier.reset()
    start.advance()
    _ = try? finish.arrive()
    job.withLock { $0 = nil }
    if let error = firstError.withLock({ $0 }) { throw error }
  }

  func workerMain(_ placement: WorkerPlacement, pinningWith topology: Topology?) {
    if let topology {
      do {
        try topology.bindCurrentThread(to: placement.processingUnit)
      } catch {
        // Report the lowest-numbered failure, whatever order threads ran in.
        startupError.withLock { recorded in
          if case .pinningFailed(let worker, _, _) = recorded, worker < placement.worker { return }
          recorded = .pinningFailed(worker: placement.worker, cpu: placement.cpu, reason: error)
        }
      }
    }
    started.wrappingAdd(1, ordering: .releasing)

    let context = WorkerContext(
      index: placement.worker, count: placements.count, placement: placement, barrier: barrier)
    var seen = 0
    while true {
      start.wait(whileEqualTo: seen)
      seen = start.current
      if shuttingDown.load(ordering: .acquiring) { return }
      if let body = job.withLock({ $0 }) {
        do {
          try body(context)
        } catch is BarrierBroken {
          // Another worker failed first and broke the barrier; its error is the one reported.
        } catch {
          firstError.withLock { if $0 == nil { $0 = error } }
          barrier.breakBarrier()
        }
      }
      _ = try? finish.arrive()
    }
  }

  /// Wakes every thread with the shutdown flag set and waits for them to end.
  func stop(_ threads: [pthread_t]) {
    shuttingDown.store(true, ordering: .releasing)
    start.advance()
    for thread in threads { pthread_join(thread, nil) }
  }
}

/// Carries a Swift closure through `pthread_create`'s C function pointer.
private final class ThreadBody: Sendable {
  let run: @Sendable () -> Void
  init(_ run: @escaping @Sendable () -> Void) { self.run = run }
}
