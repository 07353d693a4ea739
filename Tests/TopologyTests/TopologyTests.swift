import Testing

@testable import Topology

@Suite("Topology discovery")
struct TopologyTests {
  @Test("this machine has consistent nodes, cores and PUs")
  func currentMachine() throws {
    let topology = try Topology.current()
    #expect(topology.isThisSystem)
    #expect(!topology.nodes.isEmpty && !topology.cores.isEmpty)
    #expect(topology.processingUnits.count >= topology.cores.count)
    #expect(topology.nodes.flatMap(\.processingUnits).sorted() == Array(topology.processingUnits.indices))
    #expect(topology.distances.values.count == topology.nodes.count)
    for (i, row) in topology.distances.values.enumerated() {
      #expect(row[i] == 10, "a node's distance to itself should be 10, got \(row[i])")
    }
  }

  @Test("a synthetic description gives the machine it describes")
  func synthetic() throws {
    let topology = try Topology.synthetic("pack:2 numa:2 core:8 pu:2")
    #expect(!topology.isThisSystem)
    #expect(topology.packages.count == 2)
    #expect(topology.nodes.count == 4)
    #expect(topology.cores.count == 32)
    #expect(topology.processingUnits.count == 64)
    #expect(topology.nodes.map(\.package) == [0, 0, 1, 1])
    #expect(topology.nodes.allSatisfy { $0.cores.count == 8 && $0.processingUnits.count == 16 })
    #expect(topology.cores.allSatisfy { $0.processingUnits.count == 2 })
    #expect(topology.distances.source == .assumed)
    #expect(topology.distances.values[0] == [10, 20, 20, 20])
  }

  @Test("synthetic caches are reported with their sizes")
  func syntheticCaches() throws {
    let topology = try Topology.synthetic("pack:1 numa:1 l3:1(size=8MB) l2:4(size=512KB) core:1 pu:2")
    let l3 = try #require(topology.caches.first { $0.level == 3 })
    #expect(l3.sizeBytes == 8_000_000 && l3.count == 1 && l3.processingUnitsPerInstance == 8)
    let l2 = try #require(topology.caches.first { $0.level == 2 })
    #expect(l2.sizeBytes == 512_000 && l2.count == 4)
  }

  @Test(
    "malformed synthetic descriptions are refused with a clear message",
    arguments: ["", "   ", "pack:two", "core:0", "frobnicate:2 pu:2", "pack:2 numa"])
  func malformedSynthetic(description: String) {
    let error = #expect(throws: TopologyError.self) { try Topology.synthetic(description) }
    #expect(
      error?.description.hasPrefix("invalid synthetic topology \"") == true,
      "got: \(String(describing: error))")
    #expect(
      error?.description.contains("pack:2 numa:2 core:8 pu:2") == true, "the message should show an example")
  }

  @Test("binding a thread on a synthetic topology is refused, not silently ignored")
  func bindingSyntheticFails() throws {
    let topology = try Topology.synthetic("numa:2 core:2 pu:1")
    #expect(throws: TopologyError.notThisSystem(operation: "bind a thread")) {
      try topology.bindCurrentThread(to: 0)
    }
  }
}
