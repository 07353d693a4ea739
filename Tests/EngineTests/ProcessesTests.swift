import Dataset
import Foundation
import SeededRandom
import Testing

@testable import Engine

/// Several "processes" as threads of this one: each runs its own fit with a
/// ``Reducer`` view of one group, which sums their buffers in rank order as
/// the MPI reducer does. Lets engine tests run multi-process code paths
/// without mpirun (tools/test-mpi runs the real thing).
final class ThreadedProcesses: @unchecked Sendable {
  let count: Int
  private let condition = NSCondition()
  private var arrived = 0
  private var generation = 0
  private var slots: [[Double]]

  init(_ count: Int) {
    self.count = count
    slots = Array(repeating: [], count: count)
  }

  /// Runs `body(rank)` on `count` threads at once; the results in rank order.
  func run<T: Sendable>(_ body: @escaping @Sendable (any Reducer) throws -> T) throws -> [T] {
    let results = UnsafeMutableBufferPointer<Result<T, any Error>?>.allocate(capacity: count)
    results.initialize(repeating: nil)
    defer { results.deallocate() }
    let shared = UnsafeSendableBuffer(results)
    let done = DispatchGroup()
    for rank in 0..<count {
      done.enter()
      Thread {
        shared.buffer[rank] = Result { try body(View(group: self, rank: rank)) }
        done.leave()
      }.start()
    }
    done.wait()
    return try results.map { try $0!.get() }
  }

  /// Every process's `values` (as Doubles), in rank order, once all have given theirs.
  fileprivate func exchange(_ values: [Double], rank: Int) -> [[Double]] {
    condition.lock()
    defer { condition.unlock() }
    slots[rank] = values
    arriveAndWait()
    let all = slots
    // Nobody may overwrite a slot before every process has read this round's.
    arriveAndWait()
    return all
  }

  /// A barrier over the `count` processes; called with the lock held.
  private func arriveAndWait() {
    let round = generation
    arrived += 1
    if arrived == count {
      arrived = 0
      generation += 1
      condition.broadcast()
    } else {
      while generation == round { condition.wait() }
    }
  }

  private struct View: Reducer {
    let group: ThreadedProcesses
    let rank: Int
    var processes: Int { group.count }
    var reduceSeconds: Double { 0 }
    var bytesSent: Int { 0 }

    func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws { sumInRankOrder(values) }

    func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws { sumInRankOrder(values) }

    /// Every process's `values` summed in rank order, in their own type (Float values are exact as Doubles in transit).
    private func sumInRankOrder<T: BinaryFloatingPoint>(_ values: UnsafeMutableBufferPointer<T>) {
      let all = group.exchange(values.map { Double($0) }, rank: rank)
      for j in values.indices {
        var sum = T(all[0][j])
        for r in 1..<group.count { sum += T(all[r][j]) }
        values[j] = sum
      }
    }

    func allReduceMax(_ value: Int) throws -> Int {
      Int(group.exchange([Double(value)], rank: rank).map { $0[0] }.max()!)
    }
  }
}

private struct UnsafeSendableBuffer<T>: @unchecked Sendable {
  let buffer: UnsafeMutableBufferPointer<T>
  init(_ buffer: UnsafeMutableBufferPointer<T>) { self.buffer = buffer }
}

@Suite struct KMeansAcrossProcessesTests {
  func setup(_ k: Int, algorithm: KMeansAlgorithm = .lloyd) -> KMeansConfiguration {
    var configuration = KMeansConfiguration(clusters: k)
    configuration.execution.threads = 1
    configuration.algorithm = algorithm
    configuration.tolerance = 0
    return configuration
  }

  /// Three rows as centres and a fourth far from every row (empty after the
  /// first assignment, so re-seeded from the farthest row), flat, with the
  /// Double Lloyd reference from them.
  static func farFourthCentre(_ data: MatrixRows) -> (initial: [Float], reference: ReferenceLloyd) {
    let initial = data.matrix[1] + data.matrix[2] + data.matrix[3] + [500, 500, 500, 500]
    let reference = ReferenceLloyd(
      data.matrix, weights: data.weights,
      initial: stride(from: 0, to: initial.count, by: 4).map { Array(initial[$0..<$0 + 4]) },
      reseedingEmpty: true)
    return (initial, reference)
  }

  /// Each process assigns its share of the rows; the centres are those of
  /// the Double reference, every process holds the same ones, and an empty
  /// cluster takes the farthest row of all processes' rows.
  @Test(arguments: [2, 3], [KMeansAlgorithm.lloyd, .bounded])
  func lloydAcrossProcessesMatchesTheReference(processes: Int, algorithm: KMeansAlgorithm) throws {
    let data = MatrixRows.blobs(count: 300, columns: 4, clusters: 3, spread: 6, seed: 4, weighted: true)
    let (initial, reference) = Self.farFourthCentre(data)
    let configuration = setup(4, algorithm: algorithm)
    let results = try ThreadedProcesses(processes).run { reducer in
      var kMeans = KMeans(configuration)
      kMeans.reducer = reducer
      return try kMeans.fit(data.rows, initialCentres: initial)
    }
    #expect(results[0].history[0].reseeded == 1, "the far centre was re-seeded")
    #expect(results.map(\.assignedRows).reduce(0, +) == 300, "the processes share the rows")
    for result in results.dropFirst() {
      #expect(result.model.centres == results[0].model.centres, "every process holds the same centres")
      #expect(result.inertia == results[0].inertia)
    }
    for c in 0..<4 {
      for j in 0..<4 {
        let expected = reference.centres[c][j]
        #expect(abs(Double(results[0].model.centres[c * 4 + j]) - expected) <= 1e-5 * (abs(expected) + 1))
      }
    }
    #expect(abs(results[0].inertia - reference.inertia) <= 1e-6 * reference.inertia)
  }

  /// Rows of each process's own (`--shard`): every process assigns all of
  /// its rows, and the fit is that of all rows together, the far centre
  /// re-seeded with the farthest row of whichever process holds it.
  @Test(arguments: [KMeansAlgorithm.lloyd, .bounded])
  func ownRowsAcrossProcessesMatchTheReference(algorithm: KMeansAlgorithm) throws {
    let data = MatrixRows.blobs(count: 300, columns: 4, clusters: 3, spread: 6, seed: 4, weighted: true)
    let shards = [
      MatrixRows(Array(data.matrix[..<120]), weights: Array(data.weights![..<120])),
      MatrixRows(Array(data.matrix[120...]), weights: Array(data.weights![120...])),
    ]
    let (initial, reference) = Self.farFourthCentre(data)
    let configuration = setup(4, algorithm: algorithm)
    let results = try ThreadedProcesses(2).run { reducer in
      var kMeans = KMeans(configuration)
      kMeans.reducer = reducer
      kMeans.rowsPerProcess = true
      return try kMeans.fit(shards[reducer.rank].rows, initialCentres: initial)
    }
    #expect(results[0].history[0].reseeded == 1)
    #expect(results.map(\.assignedRows) == [120, 180] && results[0].rows == 300)
    #expect(results[1].model.centres == results[0].model.centres)
    for c in 0..<4 {
      for j in 0..<4 {
        let expected = reference.centres[c][j]
        #expect(abs(Double(results[0].model.centres[c * 4 + j]) - expected) <= 1e-5 * (abs(expected) + 1))
      }
    }
    #expect(abs(results[0].inertia - reference.inertia) <= 1e-6 * reference.inertia)
  }

  /// Process 0 chooses the starting centres over every row; the others start from them.
  @Test func seedingAcrossProcessesIsProcessZeros() throws {
    let data = MatrixRows.blobs(count: 400, columns: 3, clusters: 5, spread: 2, seed: 6)
    var oneIteration = setup(5)
    oneIteration.maxIterations = 1
    let configuration = oneIteration
    let alone = try KMeans(configuration).fit(data.rows)
    let results = try ThreadedProcesses(2).run { reducer in
      var kMeans = KMeans(configuration)
      kMeans.reducer = reducer
      return try kMeans.fit(data.rows)
    }
    // One iteration from the same start: the same first report's inertia (the start's).
    #expect(results[0].history[0].inertia == results[1].history[0].inertia)
    #expect(abs(results[0].history[0].inertia - alone.history[0].inertia) <= 1e-9 * alone.history[0].inertia)
  }

  @Test func miniBatchStaysInOneProcess() throws {
    let data = MatrixRows.blobs(count: 100, columns: 3, clusters: 2, seed: 1)
    let configuration = setup(2, algorithm: .minibatch)
    let results = try ThreadedProcesses(2).run { reducer -> String in
      var kMeans = KMeans(configuration)
      kMeans.reducer = reducer
      do {
        _ = try kMeans.fit(data.rows)
        return "fitted"
      } catch { return "\(error)" }
    }
    #expect(results.allSatisfy { $0.contains("mini-batch k-means runs in one process") }, "\(results)")
  }
}

/// Training where each process has rows of its own (`--shard`): the classes,
/// the scaling and the rate come from every process's rows.
@Suite struct OwnRowsAcrossProcessesTests {
  /// Three blobs as three classes; the first process's rows hold classes 0
  /// and 1 only, the second's all three.
  static let data = MatrixRows.blobs(count: 300, columns: 4, clusters: 3, spread: 8, seed: 12)
  static var split: (first: [Int], second: [Int]) {
    let labels = data.matrix.indices.map { data.rows.label($0) }
    let first = data.matrix.indices.filter { labels[$0] != 2 && $0 < 200 }
    return (first, data.matrix.indices.filter { !first.contains($0) })
  }

  static func configuration(standardize: Bool?) -> TrainingConfiguration {
    var setup = TrainingConfiguration()
    setup.problem.loss = .logistic
    setup.problem.l2 = 0.01
    setup.problem.standardize = standardize
    setup.optimizer.algorithm = .lbfgs
    setup.execution.threads = 1
    setup.stopping.epochs = 200
    return setup
  }

  /// `rows` of the blobs (their features scaled by `scales`) as their own rows.
  static func rows(_ rows: [Int], scales: [Float] = [1, 1, 1, 1]) -> MatrixRows {
    MatrixRows(
      rows.map { r in zip(data.matrix[r], scales).map(*) }, labels: rows.map { data.rows.label($0) })
  }

  /// Each shard trained as its own process's rows, its configuration from
  /// `setup(rank)`; each process's result, or its error's text.
  static func fitShards(
    _ shards: [MatrixRows], _ setup: @escaping @Sendable (Int) -> TrainingConfiguration
  ) throws -> [Result<TrainingResult, TrainingError>] {
    try ThreadedProcesses(shards.count).run { reducer in
      var trainer = Trainer(setup(reducer.rank))
      trainer.reducer = reducer
      trainer.rowsPerProcess = true
      return Result { () throws(TrainingError) in
        do { return try trainer.fit(shards[reducer.rank].rows) } catch let error as TrainingError {
          throw error
        } catch {
          throw .invalidData("\(error)")
        }
      }
    }
  }

  @Test func softmaxOverShardsReachesTheNewtonOptimumOfAllRows() throws {
    let (first, second) = Self.split
    let shards = [Self.rows(first), Self.rows(second)]
    let results = try Self.fitShards(shards) { _ in Self.configuration(standardize: false) }.map {
      try $0.get()
    }
    #expect(
      results.map(\.model.classes) == [[0, 1, 2], [0, 1, 2]], "the first shard alone has two classes")
    #expect(results[0].model.weights == results[1].model.weights, "every process holds the same model")
    let all = first + second
    let problem = OracleProblem(
      features: all.map { Self.data.matrix[$0].map(Double.init) },
      labels: all.map { Double(Self.data.rows.label($0)) },
      loss: .softmax(classes: 3), l2: 0.01)
    let (gap, reached, optimum) = LBFGSTests.gap(results[0].model, problem)
    #expect(gap <= 1e-6, "\(reached) against \(optimum)")
  }

  @Test func scalingAndRateComeFromEveryProcesssRows() throws {
    let (first, second) = Self.split
    let scales: [Float] = [1, 1000, 1, 0.01]
    let shards = [Self.rows(first, scales: scales), Self.rows(second, scales: scales)]
    var configuration = Self.configuration(standardize: nil)
    configuration.optimizer.algorithm = .gd
    configuration.stopping.epochs = 30
    let setup = configuration
    let results = try Self.fitShards(shards) { _ in setup }.map { try $0.get() }
    let whole = Self.rows(first + second, scales: scales)
    let alone = try Trainer(setup).fit(whole.rows)
    #expect(results[0].scaling.standardized && alone.scaling.standardized)
    #expect(results[0].learningRate.value == alone.learningRate.value, "the rate from every process's rows")
    for (a, b) in zip(
      results[0].model.weights + results[0].model.intercepts, alone.model.weights + alone.model.intercepts)
    {
      #expect(abs(a - b) <= 1e-4 * (abs(b) + 1e-3), "\(a) against \(b)")
    }
  }

  /// Sparse shards of different density (10 and 20 values a row) under
  /// AdaGrad's per-core replicas: the merge interval comes from every
  /// process's rows, so both meet as often (from its own rows, one would
  /// meet twice as often as the other and wait for ever).
  @Test func sparseShardsOfDifferentDensityMeetAlike() throws {
    func shard(valuesPerRow: Int, seed: UInt64) -> MatrixRows {
      var rng = SplitMix64(seed: seed)
      let matrix = (0..<4_096).map { _ -> [Float] in
        var row = [Float](repeating: 0, count: 1_024)
        for _ in 0..<valuesPerRow { row[Int(rng.next(below: 1_024))] = 1 }
        return row
      }
      return MatrixRows(matrix, labels: matrix.map { $0[0] + $0[1] > 0 ? 1 : 0 }, sparse: true)
    }
    let shards = [shard(valuesPerRow: 10, seed: 1), shard(valuesPerRow: 20, seed: 2)]
    var setup = TrainingConfiguration()
    setup.execution.threads = 1
    setup.execution.strategy = .perCore
    setup.stopping.epochs = 2
    let configuration = setup
    let results = try Self.fitShards(shards) { _ in configuration }.map { try $0.get() }
    #expect(results[0].model.weights == results[1].model.weights, "every process holds the same model")
  }

  /// Processes that would run different numbers of workers are refused alike.
  @Test func differentWorkerCountsAreRefusedEverywhere() throws {
    let (first, second) = Self.split
    let shards = [Self.rows(first), Self.rows(second)]
    let outcomes = try Self.fitShards(shards) { rank in
      var setup = Self.configuration(standardize: false)
      setup.execution.threads = rank + 1
      return setup
    }.map { outcome -> String in
      switch outcome {
      case .success: "trained"
      case .failure(let error): error.description
      }
    }
    #expect(
      outcomes.allSatisfy { $0.contains("the processes would train with 1 to 2 workers each") }, "\(outcomes)"
    )
  }
}
