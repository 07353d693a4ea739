import Foundation
import Synchronization
import Testing

@testable import Parallel
@testable import Topology

struct WorkerFailed: Error, Equatable { let worker: Int }

/// Threads in this process, from /proc/self/status.
func threadCount() throws -> Int {
  let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
  let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("Threads:") })
  return try #require(Int(line.dropFirst("Threads:".count).trimmingCharacters(in: .whitespaces)))
}

@Suite("Worker teams", .serialized)
struct WorkerTeamTests {
  @Test("every worker runs on the CPU its plan names")
  func workersArePinned() throws {
    let topology = try Topology.current()
    let plan = try PlacementPlan(topology: topology, workers: topology.processingUnits.count)
    let team = try WorkerTeam(topology: topology, plan: plan)
    let seen = Locked([Int: Set<Int>]())
    for _ in 0..<20 {
      try team.run { context in
        let cpu = Topology.currentCPU()
        seen.withLock { $0[context.index, default: []].insert(cpu) }
      }
    }
    let cpus = seen.withLock { $0 }
    for placement in plan.workers {
      #expect(
        cpus[placement.worker] == [placement.cpu],
        "worker \(placement.worker) ran on \(cpus[placement.worker] ?? [])")
    }
  }

  @Test("each run calls the body exactly once per worker")
  func runsOncePerWorker() throws {
    let topology = try Topology.current()
    let team = try WorkerTeam(topology: topology, plan: try PlacementPlan(topology: topology))
    let calls = Locked([Int](repeating: 0, count: team.count))
    for _ in 0..<500 {
      try team.run { context in calls.withLock { $0[context.index] += 1 } }
    }
    #expect(calls.withLock { $0 } == Array(repeating: 500, count: team.count))
  }

  @Test("no worker leaves a barrier before all have written their phase", arguments: [false, true])
  func barrierOrdersPhases(oversubscribed: Bool) throws {
    let topology = try Topology.current()
    // Oversubscribed: twice as many unpinned workers as PUs, so waiters must
    // sleep rather than spin for the team to make progress.
    let workers = topology.processingUnits.count * (oversubscribed ? 2 : 1)
    let plan = try PlacementPlan(
      topology: oversubscribed ? Topology.synthetic("numa:1 core:\(workers) pu:1") : topology)
    let team = try WorkerTeam(topology: topology, plan: plan, pin: !oversubscribed)
    let phases = oversubscribed ? 300 : 3_000
    let box = SlotBox(count: workers)
    let violations = Atomic<Int>(0)
    let leaders = Atomic<Int>(0)
    try team.run { context in
      for phase in 0..<phases {
        box.write(context.index, phase)
        if try context.barrier.arrive() { leaders.wrappingAdd(1, ordering: .relaxed) }
        for other in 0..<context.count where box.read(other) < phase {
          violations.wrappingAdd(1, ordering: .relaxed)
        }
        try context.barrier.arrive()
      }
    }
    #expect(violations.load(ordering: .relaxed) == 0)
    #expect(
      leaders.load(ordering: .relaxed) == phases,
      "exactly one worker per phase should be told it arrived last")
  }

  @Test("a failing worker stops the others at the barrier and is reported once")
  func errorsStopTheTeam() throws {
    let topology = try Topology.current()
    let team = try WorkerTeam(topology: topology, plan: try PlacementPlan(topology: topology))
    let failing = team.count - 1
    #expect(throws: WorkerFailed(worker: failing)) {
      try team.run { context in
        if context.index == failing { throw WorkerFailed(worker: failing) }
        while true { try context.barrier.arrive() }  // would hang without the broken barrier
      }
    }
    // The team is still usable afterwards.
    let ran = Atomic<Int>(0)
    try team.run { context in
      try context.barrier.arrive()
      ran.wrappingAdd(1, ordering: .relaxed)
    }
    #expect(ran.load(ordering: .relaxed) == team.count)
  }

  @Test("releasing a team stops and joins its threads")
  func shutdown() throws {
    let topology = try Topology.current()
    let before = try threadCount()
    do {
      let team = try WorkerTeam(topology: topology, plan: try PlacementPlan(topology: topology))
      #expect(try threadCount() >= before + team.count)
      try team.run { _ in }
    }
    #expect(try threadCount() <= before, "threads left behind after the team was released")
  }

  @Test("a plan for a synthetic machine cannot be pinned here")
  func pinningSyntheticPlanFails() throws {
    let synthetic = try Topology.synthetic("numa:1 core:2 pu:1")
    let error = #expect(throws: WorkerTeamError.self) {
      try WorkerTeam(topology: synthetic, plan: try PlacementPlan(topology: synthetic))
    }
    #expect(
      error?.description
        == "could not pin worker 0 to CPU 0: cannot bind a thread on a synthetic topology: it describes a simulated machine"
    )
  }
}

/// Slots written by one worker each and read by all, behind a lock so the
/// test itself has no data race.
final class SlotBox: Sendable {
  private let slots: Locked<[Int]>
  init(count: Int) { slots = Locked(Array(repeating: -1, count: count)) }
  func write(_ index: Int, _ value: Int) { slots.withLock { $0[index] = value } }
  func read(_ index: Int) -> Int { slots.withLock { $0[index] } }
}
