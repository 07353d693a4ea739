import Dataset
import Testing
import Topology

@testable import Engine
@testable import Parallel

@Suite("Worker counters and data placement", .serialized)
struct WorkerCountersTests {
  static let dense = TestRows(rows: 3_000, columns: 16, classification: true)
  static let sparse = TestRows(rows: 3_000, columns: 400, sparse: 12, classification: true)

  @Test(
    "examples add up to epochs × rows and bytes read to epochs × feature bytes",
    arguments: [
      (UpdateStrategy.hogwild, Algorithm.sgd), (.perCore, .sgd), (.perNode, .minibatch), (.sync, .gd),
      (.sync, .minibatch),
    ], [false, true])
  func countersAddUp(run: (strategy: UpdateStrategy, algorithm: Algorithm), sparse: Bool) throws {
    let (strategy, algorithm) = run
    let rows = sparse ? Self.sparse.block : Self.dense.block
    let epochs = 3
    var setup = configuration(.logistic, strategy, algorithm, epochs: epochs, threads: 2, rate: 0.1)
    setup.optimizer.batchSize = 64
    let counters = WorkerCounters()
    #expect(counters.epochProgress == nil)
    let result = try Trainer(setup).fit(rows, counters: counters)
    let total = result.workers.map(\.counts).reduce(WorkerCounts(), +)
    #expect(result.workers.count == 2)
    #expect(total.examples == epochs * rows.count)
    #expect(total.nonZeros == epochs * rows.nonZeros)
    let featureBytes = rows.nonZeros * (sparse ? 8 : 4)  // values, and column indices when sparse
    #expect(total.bytesRead == epochs * featureBytes)
    #expect(total.computeSeconds > 0)
    let progress = try #require(counters.epochProgress)
    #expect(progress.epoch == epochs && progress.done == rows.count && progress.total == rows.count)
  }

  @Test("partitions bound to their worker's node are 100% local")
  func localPlacement() throws {
    guard NUMAMemory.isAvailable else { return }
    var setup = configuration(.logistic, .perCore, .sgd, epochs: 1, threads: 2)
    setup.execution.dataPlacement = .local
    let result = try Trainer(setup).fit(Self.dense.block)
    for worker in result.workers {
      #expect(worker.localPageShare == 1, "worker \(worker.worker): \(worker.localPageShare ?? -1)")
      #expect(!worker.isMisplaced)
    }
  }

  @Test(
    "on two simulated nodes, per-node keeps a replica per pseudo-node and a misplaced partition is flagged")
  func simulatedNodes() throws {
    let machine = try Topology.current()
    guard machine.cores.count >= 2 else { return }
    var setup = configuration(.logistic, .perNode, .sgd, epochs: 1, threads: 2)
    setup.execution.simulatedNodes = 2
    setup.execution.dataPlacement = .local
    let local = try Trainer(setup).fit(Self.dense.block)
    #expect(local.workers.map(\.node) == [0, 1])
    #expect(local.workers.map(\.replica) == [0, 1])
    #expect(local.workers.allSatisfy { $0.localPageShare == 1 })

    setup.execution.dataPlacement = .singleNode
    let single = try Trainer(setup).fit(Self.dense.block)
    #expect(single.workers.map(\.localPageShare) == [1, 0])
    #expect(single.workers.map(\.isMisplaced) == [false, true])
  }

  @Test("full replication: each simulated node trains on a local copy of every row")
  func fullReplication() throws {
    let machine = try Topology.current()
    guard machine.cores.count >= 2 else { return }
    var setup = configuration(.logistic, .perNode, .sgd, epochs: 4, threads: 2, rate: 0.1)
    setup.execution.simulatedNodes = 2
    setup.execution.dataReplication = .full
    let rows = Self.dense.block
    let result = try Trainer(setup).fit(rows)
    #expect(result.workers.map(\.counts.examples) == [4 * rows.count, 4 * rows.count])
    #expect(result.workers.allSatisfy { $0.localPageShare == 1 })
    #expect(try #require(result.model.evaluate(rows).accuracy) > 0.9)
  }

  @Test("more simulated nodes than cores is refused before training")
  func tooManySimulatedNodes() throws {
    var setup = configuration(.logistic, .perNode, .sgd, epochs: 1, threads: 1)
    setup.execution.simulatedNodes = 4096
    #expect(throws: TrainingError.self) { try Trainer(setup).fit(Self.dense.block) }
  }

  @Test("simulated nodes split cores evenly in core order")
  func pseudoNodes() throws {
    let machine = try Topology.synthetic("pack:1 numa:1 core:8 pu:1")
    let plan = try PlacementPlan(topology: machine, workers: 8, policy: .close)
    #expect(DataLayout.nodes(of: plan, on: machine, simulating: 4) == [0, 0, 1, 1, 2, 2, 3, 3])
    #expect(DataLayout.nodes(of: plan, on: machine, simulating: 3) == [0, 0, 0, 1, 1, 1, 2, 2])
    #expect(DataLayout.nodes(of: plan, on: machine, simulating: nil) == Array(repeating: 0, count: 8))
  }
}
