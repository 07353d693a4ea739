import Testing

@testable import Topology

/// Machines the placement rules are checked on, from one node to four.
let syntheticMachines = [
  "numa:1 core:2 pu:1",
  "pack:2 numa:2 core:8 pu:2",
  "pack:2 [numa] l3:2 core:4 pu:1",
  "pack:1 numa:3 core:3 pu:2",
]

@Suite("Placement plans")
struct PlacementPlanTests {
  @Test("spread is even over nodes and takes every core before any sibling", arguments: syntheticMachines)
  func spreadIsEven(machine: String) throws {
    let topology = try Topology.synthetic(machine)
    for workers in 1...topology.processingUnits.count {
      let plan = try PlacementPlan(topology: topology, workers: workers, policy: .spread)
      let perNode = plan.workersPerNode(nodeCount: topology.nodes.count)
      #expect(
        perNode.max()! - perNode.min()! <= 1,
        "\(workers) workers on \(machine): per-node counts \(perNode) should differ by at most 1")
      try checkInvariants(plan, on: topology, workers: workers)
    }
  }

  @Test("close fills one node's cores before the next", arguments: syntheticMachines)
  func closeFillsNodesInOrder(machine: String) throws {
    let topology = try Topology.synthetic(machine)
    let coresPerNode = topology.nodes[0].cores.count
    for workers in 1...topology.processingUnits.count {
      let plan = try PlacementPlan(topology: topology, workers: workers, policy: .close)
      try checkInvariants(plan, on: topology, workers: workers)
      if workers <= coresPerNode {
        #expect(
          plan.workers.allSatisfy { $0.node == 0 },
          "\(workers) workers fit node 0 of \(machine) and should all be there: \(plan.workers.map(\.node))")
      }
    }
  }

  @Test("plans are deterministic", arguments: PlacementPolicy.allCases)
  func deterministic(policy: PlacementPolicy) throws {
    let first = try PlacementPlan(
      topology: try Topology.synthetic("pack:2 numa:2 core:8 pu:2"), workers: 13, policy: policy)
    let second = try PlacementPlan(
      topology: try Topology.synthetic("pack:2 numa:2 core:8 pu:2"), workers: 13, policy: policy)
    #expect(first == second)
  }

  @Test("spread alternates packages and spaces workers within a node")
  func spreadOrder() throws {
    let topology = try Topology.synthetic("pack:2 numa:2 core:8 pu:2")
    let plan = try PlacementPlan(topology: topology, workers: 5, policy: .spread)
    #expect(
      plan.workers.map(\.node) == [0, 2, 1, 3, 0], "the first workers visit one node per package in turn")
    #expect(plan.workers.map(\.package) == [0, 1, 0, 1, 0])
    let nodeZeroCores = plan.workers.filter { $0.node == 0 }.map(\.core)
    #expect(
      nodeZeroCores == [0, 4], "two workers on an 8-core node should sit 4 cores apart, got \(nodeZeroCores)")
  }

  @Test("the default is one worker per core")
  func defaultIsOnePerCore() throws {
    let topology = try Topology.synthetic("pack:2 numa:2 core:8 pu:2")
    let plan = try PlacementPlan(topology: topology)
    #expect(plan.workers.count == 32)
    #expect(Set(plan.workers.map(\.core)).count == 32, "every core should get exactly one worker")
  }

  @Test("an odd worker count on two nodes differs by one")
  func oddCount() throws {
    let topology = try Topology.synthetic("numa:2 core:4 pu:2")
    let plan = try PlacementPlan(topology: topology, workers: 7, policy: .spread)
    #expect(plan.workersPerNode(nodeCount: 2).sorted() == [3, 4])
  }

  @Test("zero workers and more workers than PUs are refused with a clear message")
  func badCounts() throws {
    let topology = try Topology.synthetic("numa:1 core:2 pu:1")
    #expect(throws: PlacementError.noWorkers(requested: 0)) {
      try PlacementPlan(topology: topology, workers: 0)
    }
    let tooMany = #expect(throws: PlacementError.self) {
      try PlacementPlan(topology: topology, workers: 3)
    }
    #expect(
      tooMany?.description
        == "3 workers is more than the 2 processing units of the machine; use at most 2")
    #expect(
      PlacementError.noWorkers(requested: 0).description == "the worker count must be at least 1 (got 0)")
  }

  /// No PU is used twice, and no core holds two workers while a core is free.
  private func checkInvariants(_ plan: PlacementPlan, on topology: Topology, workers: Int) throws {
    #expect(plan.workers.count == workers)
    #expect(plan.workers.map(\.worker) == Array(0..<workers))
    let units = plan.workers.map(\.processingUnit)
    #expect(Set(units).count == units.count, "two workers share a processing unit: \(units)")
    var perCore = [Int: Int]()
    for worker in plan.workers { perCore[worker.core, default: 0] += 1 }
    if perCore.values.contains(where: { $0 > 1 }) {
      #expect(
        perCore.count == topology.cores.count,
        "a core holds two workers while \(topology.cores.count - perCore.count) cores are free")
    }
    for worker in plan.workers {
      let unit = topology.processingUnits[worker.processingUnit]
      #expect(unit.node == worker.node && unit.core == worker.core && unit.osIndex == worker.cpu)
    }
  }
}

@Suite("Placement restricted to nodes")
struct RestrictedPlacementTests {
  @Test("a plan for one node uses only that node's cores")
  func oneNode() throws {
    let topology = try Topology.synthetic("pack:2 numa:2 core:8 pu:2")
    let plan = try PlacementPlan(topology: topology, policy: .spread, nodes: [2])
    #expect(plan.workers.count == 8, "the default is one worker per core of the chosen node")
    #expect(plan.workers.allSatisfy { $0.node == 2 })
    #expect(throws: PlacementError.moreWorkersThanProcessingUnits(requested: 17, available: 16)) {
      try PlacementPlan(topology: topology, workers: 17, nodes: [2])
    }
  }
}
