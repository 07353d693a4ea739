import Dataset
import Foundation
import Learning
import SeededRandom
import Testing

@testable import Engine

/// Rows held in memory for k-means tests, from a matrix: dense, or CSR with
/// the zeros left out; labels are whatever the caller gives (the blob each
/// row came from), weights optional.
final class MatrixRows: @unchecked Sendable {
  let rows: CheckedRows
  let matrix: [[Float]]
  let weights: [Float]?
  private let features: UnsafeMutableBufferPointer<Float>
  private let labels: UnsafeMutableBufferPointer<Float>
  private let offsets: UnsafeMutableBufferPointer<Int64>
  private let indices: UnsafeMutableBufferPointer<Int32>
  private let weightBuffer: UnsafeMutableBufferPointer<Float>?

  init(_ matrix: [[Float]], labels given: [Float]? = nil, weights: [Float]? = nil, sparse: Bool = false) {
    self.matrix = matrix
    self.weights = weights
    let columns = matrix[0].count
    let stored = sparse ? matrix.joined().filter { $0 != 0 }.count : matrix.count * columns
    features = .allocate(capacity: max(stored, 1))
    indices = .allocate(capacity: max(stored, 1))
    offsets = .allocate(capacity: matrix.count + 1)
    labels = .allocate(capacity: matrix.count)
    offsets[0] = 0
    var k = 0
    for (r, row) in matrix.enumerated() {
      for (j, value) in row.enumerated() where !sparse || value != 0 {
        features[k] = value
        indices[k] = Int32(j)
        k += 1
      }
      offsets[r + 1] = Int64(k)
      labels[r] = given?[r] ?? 0
    }
    weightBuffer = weights.map { w in
      let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: w.count)
      _ = buffer.initialize(from: w)
      return buffer
    }
    rows = try! CheckedRows(
      RowBlock(
        count: matrix.count, columns: columns, layout: sparse ? .csr : .dense,
        features: UnsafePointer(features.baseAddress!), offsets: UnsafePointer(offsets.baseAddress!),
        indices: UnsafePointer(indices.baseAddress!), labels: UnsafePointer(labels.baseAddress!),
        weights: weightBuffer.map { UnsafePointer($0.baseAddress!) }), source: "test rows")
  }

  deinit {
    features.deallocate()
    labels.deallocate()
    offsets.deallocate()
    indices.deallocate()
    weightBuffer?.deallocate()
  }

  /// `count` rows around `clusters` centres (spread `spread`, centres
  /// within ±10), each row's blob as its label; with `sparse`, about half
  /// the values are zero.
  static func blobs(
    count: Int, columns: Int, clusters: Int, spread: Float = 1, seed: UInt64, sparse: Bool = false,
    weighted: Bool = false
  ) -> MatrixRows {
    var rng = SplitMix64(seed: seed)
    func uniform() -> Float { Float(rng.next() >> 40) / Float(1 << 24) }
    let centres = (0..<clusters).map { _ in (0..<columns).map { _ in 20 * uniform() - 10 } }
    var matrix: [[Float]] = []
    var labels: [Float] = []
    for r in 0..<count {
      let blob = r % clusters
      matrix.append(
        (0..<columns).map { j in
          sparse && uniform() < 0.5
            ? 0 : centres[blob][j] + spread * (uniform() + uniform() + uniform() - 1.5)
        })
      labels.append(Float(blob))
    }
    let weights = weighted ? (0..<count).map { _ in Float(1 + rng.next(below: 3)) } : nil
    return MatrixRows(matrix, labels: labels, weights: weights, sparse: sparse)
  }
}

/// Lloyd's iteration in Double, brute force: the oracle the engine's
/// iterations are held to.
struct ReferenceLloyd {
  var centres: [[Double]]
  var labels: [Int]
  var inertia: Double

  /// Iterates from `initial` until no row changes cluster (or `limit`
  /// iterations); an empty cluster keeps its centre, or with
  /// `reseedingEmpty` takes the row farthest from its centre (lowest row on
  /// ties), which leaves its old cluster's sums (scikit-learn's rule).
  init(
    _ matrix: [[Float]], weights: [Float]?, initial: [[Float]], limit: Int = 300, reseedingEmpty: Bool = false
  ) {
    let x = matrix.map { $0.map(Double.init) }
    let w = weights.map { $0.map(Double.init) } ?? [Double](repeating: 1, count: x.count)
    centres = initial.map { $0.map(Double.init) }
    labels = [Int](repeating: -1, count: x.count)
    inertia = 0
    for _ in 0..<limit {
      let assigned = x.map { Self.nearest($0, centres).cluster }
      var sums = centres.map { [Double](repeating: 0, count: $0.count) }
      var totals = [Double](repeating: 0, count: centres.count)
      for (r, c) in assigned.enumerated() {
        for j in x[r].indices { sums[c][j] += w[r] * x[r][j] }
        totals[c] += w[r]
      }
      let empty = reseedingEmpty ? centres.indices.filter { totals[$0] == 0 } : []
      if assigned == labels && empty.isEmpty { break }
      labels = assigned
      var farthest: [(row: Int, distance: Double)] = []
      for r in x.indices {
        var distance = 0.0
        for j in x[r].indices {
          distance += (x[r][j] - centres[labels[r]][j]) * (x[r][j] - centres[labels[r]][j])
        }
        farthest.append((r, distance))
      }
      farthest.sort { $0.distance > $1.distance || ($0.distance == $1.distance && $0.row < $1.row) }
      var moved: [Int: [Double]] = [:]
      for (c, (r, _)) in zip(empty, farthest) {
        let from = labels[r]
        for j in x[r].indices { sums[from][j] -= w[r] * x[r][j] }
        totals[from] -= w[r]
        moved[c] = x[r]
      }
      for c in centres.indices {
        if let row = moved[c] {
          centres[c] = row
        } else if totals[c] > 0 {
          centres[c] = sums[c].map { $0 / totals[c] }
        }
      }
    }
    inertia = zip(x, w).reduce(0.0) { $0 + $1.1 * Self.nearest($1.0, centres).distance }
  }

  static func nearest(_ row: [Double], _ centres: [[Double]]) -> (cluster: Int, distance: Double) {
    var best = (cluster: 0, distance: Double.infinity)
    for (c, centre) in centres.enumerated() {
      let distance = zip(row, centre).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
      if distance < best.distance { best = (c, distance) }
    }
    return best
  }
}

@Suite struct KMeansTests {
  /// Ways to share rows among workers on this 2-core machine: threads, then
  /// partitions dealt round-robin (3 partitions on 2 threads: one worker reads two).
  static let layouts = [(1, 1), (2, 2), (2, 3)]

  func configuration(_ k: Int, threads: Int = 2, partitions: Int? = nil, algorithm: KMeansAlgorithm = .lloyd)
    -> KMeansConfiguration
  {
    var setup = KMeansConfiguration(clusters: k)
    setup.execution.threads = threads
    setup.execution.partitions = partitions
    setup.algorithm = algorithm
    setup.tolerance = 0
    return setup
  }

  /// The first k rows of each blob's second member: a start that needs iterations.
  func start(_ data: MatrixRows, k: Int) -> [Float] {
    (0..<k).flatMap { data.matrix[$0 * 7 + 1] }
  }

  @Test(arguments: [false, true], layouts)
  func lloydMatchesTheDoubleReference(sparse: Bool, layout: (threads: Int, partitions: Int)) throws {
    let threads = layout.threads
    let data = MatrixRows.blobs(
      count: 600, columns: 6, clusters: 5, spread: 6, seed: 11, sparse: sparse, weighted: true)
    let initial = start(data, k: 5)
    let reference = ReferenceLloyd(
      data.matrix, weights: data.weights,
      initial: stride(from: 0, to: initial.count, by: 6).map { Array(initial[$0..<$0 + 6]) })
    for algorithm in [KMeansAlgorithm.lloyd, .bounded] {
      let result = try KMeans(
        configuration(5, threads: threads, partitions: layout.partitions, algorithm: algorithm)
      ).fit(
        data.rows, initialCentres: initial)
      #expect(
        result.stopReason == .stable(iteration: result.iterations),
        "\(algorithm) stopped: \(result.stopReason)")
      let assigned = try KMeans.assign(data.rows, to: result.model, threads: threads)
      #expect(assigned.clusters.map(Int.init) == reference.labels, "\(algorithm): the assignments differ")
      for c in 0..<5 {
        for j in 0..<6 {
          let expected = reference.centres[c][j]
          #expect(abs(Double(result.model.centres[c * 6 + j]) - expected) <= 1e-5 * (abs(expected) + 1))
        }
      }
      #expect(abs(result.inertia - reference.inertia) <= 1e-6 * reference.inertia, "\(algorithm) inertia")
      #expect(abs(assigned.inertia - reference.inertia) <= 1e-6 * reference.inertia)
    }
  }

  @Test(arguments: layouts)
  func boundedIsBitwiseLloydAndSkipsDistances(layout: (threads: Int, partitions: Int)) throws {
    let data = MatrixRows.blobs(count: 2_000, columns: 16, clusters: 20, spread: 8, seed: 3)
    let initial = start(data, k: 20)
    let (threads, partitions) = layout
    let lloyd = try KMeans(configuration(20, threads: threads, partitions: partitions)).fit(
      data.rows, initialCentres: initial)
    let bounded = try KMeans(configuration(20, threads: threads, partitions: partitions, algorithm: .bounded))
      .fit(
        data.rows, initialCentres: initial)
    #expect(bounded.model.centres == lloyd.model.centres, "bitwise the same centres")
    #expect(bounded.inertia == lloyd.inertia)
    #expect(bounded.history.map(\.changed) == lloyd.history.map(\.changed))
    #expect(lloyd.history.allSatisfy { $0.distanceShare == 1 })
    let late = bounded.history.dropFirst(3)
    #expect(!late.isEmpty && late.allSatisfy { $0.distanceShare < 0.5 }, "bounds should skip most distances")
  }

  @Test func reproducibleForAThreadCountAndCloseForAny() throws {
    let data = MatrixRows.blobs(count: 3_000, columns: 8, clusters: 6, spread: 5, seed: 8)
    var setup = configuration(6, threads: 2)
    setup.runs = 3
    setup.tolerance = 1e-4
    let first = try KMeans(setup).fit(data.rows)
    let again = try KMeans(setup).fit(data.rows)
    #expect(first.model.centres == again.model.centres)
    #expect(first.runInertias == again.runInertias)
    var sampled = setup
    sampled.initialization = .kMeansParallel
    #expect(try KMeans(sampled).fit(data.rows).model.centres == KMeans(sampled).fit(data.rows).model.centres)
    for (threads, partitions) in Self.layouts {
      setup.execution.threads = threads
      setup.execution.partitions = partitions
      let other = try KMeans(setup).fit(data.rows)
      #expect(
        abs(other.inertia - first.inertia) <= 1e-6 * first.inertia,
        "\(threads) threads, \(partitions) partitions")
    }
  }

  @Test(arguments: KMeansInitialization.allCases)
  func separatedBlobsAreFound(initialization: KMeansInitialization) throws {
    let data = MatrixRows.blobs(count: 900, columns: 4, clusters: 3, spread: 0.5, seed: 21)
    var setup = configuration(3)
    setup.initialization = initialization
    setup.runs = 5
    let result = try KMeans(setup).fit(data.rows)
    let assigned = try KMeans.assign(data.rows, to: result.model)
    let truth = (0..<900).map { $0 % 3 }
    #expect(adjustedRandIndex(truth, assigned.clusters) == 1)
    #expect(result.runInertias.count == 5 && result.inertia == result.runInertias.min())
  }

  @Test(arguments: layouts)
  func miniBatchesComeWithinAPercentOfLloyd(layout: (threads: Int, partitions: Int)) throws {
    let data = MatrixRows.blobs(count: 6_000, columns: 8, clusters: 6, spread: 6, seed: 4, weighted: true)
    let initial = start(data, k: 6)
    let lloyd = try KMeans(configuration(6, threads: layout.threads, partitions: layout.partitions)).fit(
      data.rows, initialCentres: initial)
    for strategy in [UpdateStrategy.sync, .perCore, .hogwild] {
      var setup = configuration(
        6, threads: layout.threads, partitions: layout.partitions, algorithm: .minibatch)
      setup.batchSize = 256
      setup.maxIterations = 20
      setup.tolerance = 1e-4
      setup.execution.strategy = strategy
      let batches = try KMeans(setup).fit(data.rows, initialCentres: initial)
      #expect(batches.strategy.strategy == strategy)
      #expect(
        batches.inertia <= lloyd.inertia * 1.01, "\(strategy): \(batches.inertia), Lloyd \(lloyd.inertia)")
      #expect(batches.inertia >= lloyd.inertia * 0.999, "Lloyd's fixed point is a local optimum")
      // The reported inertia is the final centres' exact one.
      let assigned = try KMeans.assign(data.rows, to: batches.model)
      #expect(abs(assigned.inertia - batches.inertia) <= 1e-9 * assigned.inertia)
      // Shared sums without locks (Hogwild!) may lose a racing update: not reproducible.
      guard strategy != .hogwild else { continue }
      let again = try KMeans(setup).fit(data.rows, initialCentres: initial)
      #expect(
        again.model.centres == batches.model.centres, "\(strategy): bitwise reproducible for a thread count")
    }
  }

  @Test func weightsCountAsRepeatedRows() throws {
    let data = MatrixRows.blobs(count: 300, columns: 5, clusters: 4, spread: 7, seed: 5, weighted: true)
    let repeated = MatrixRows(
      zip(data.matrix, data.weights!).flatMap { row, weight in Array(repeating: row, count: Int(weight)) })
    let initial = start(data, k: 4)
    let weighted = try KMeans(configuration(4)).fit(data.rows, initialCentres: initial)
    let plain = try KMeans(configuration(4)).fit(repeated.rows, initialCentres: initial)
    for (a, b) in zip(weighted.model.centres, plain.model.centres) {
      #expect(abs(a - b) <= 1e-4 * (abs(b) + 1))
    }
    #expect(abs(weighted.inertia - plain.inertia) <= 1e-6 * plain.inertia)
  }

  @Test func anEmptyClusterTakesTheFarthestRow() throws {
    let data = MatrixRows.blobs(count: 200, columns: 3, clusters: 2, spread: 1, seed: 2)
    // The third centre is far from every row: no row is nearest to it.
    let initial = data.matrix[0] + data.matrix[1] + [1000, 1000, 1000]
    let result = try KMeans(configuration(3)).fit(data.rows, initialCentres: initial)
    #expect(result.history[0].reseeded == 1)
    let assigned = try KMeans.assign(data.rows, to: result.model)
    #expect(Set(assigned.clusters).count == 3, "every cluster has rows at the end")
  }

  @Test func standardisedModelsAssignInTheirOwnSpace() throws {
    var matrix = MatrixRows.blobs(count: 400, columns: 3, clusters: 3, spread: 2, seed: 9).matrix
    for r in matrix.indices { matrix[r][2] *= 1000 }
    let data = MatrixRows(matrix)
    var setup = configuration(3)
    setup.standardize = true
    let result = try KMeans(setup).fit(data.rows)
    #expect(result.model.scaler != nil)
    let assigned = try KMeans.assign(data.rows, to: result.model)
    for r in 0..<400 {
      let exact = matrix[r].withUnsafeBufferPointer { result.model.nearest(dense: $0) }
      #expect(Int(assigned.clusters[r]) == exact.cluster)
      #expect(
        abs(Double(assigned.squaredDistances[r]) - exact.squaredDistance) <= 1e-4
          * (exact.squaredDistance + 1))
    }
  }

  @Test func badRequestsAreOneClearError() throws {
    let repeats = MatrixRows(Array(repeating: [[1, 2], [3, 4], [5, 6]], count: 4).flatMap { $0 })
    for initialization in KMeansInitialization.allCases {
      var setup = configuration(4)
      setup.initialization = initialization
      #expect(
        throws: TrainingError.invalidConfiguration(
          "k = 4 is more than the 3 distinct rows in the data; use k ≤ 3")
      ) {
        try KMeans(setup).fit(repeats.rows)
      }
    }
    #expect(throws: TrainingError.invalidConfiguration("k = 13 is more than the 12 rows to cluster")) {
      try KMeans(configuration(13)).fit(repeats.rows)
    }
    #expect(throws: TrainingError.invalidConfiguration("k must be at least 1 (got 0)")) {
      try KMeans(configuration(0)).fit(repeats.rows)
    }
    var perNode = configuration(2, algorithm: .minibatch)
    perNode.execution.strategy = .perNode
    #expect(
      throws: TrainingError.invalidConfiguration(
        "mini-batch k-means takes --strategy sync, per-core, hogwild or auto (got per-node)")
    ) { try KMeans(perNode).fit(repeats.rows) }
    var replicas = configuration(2)
    replicas.execution.strategy = .perCore
    #expect(
      throws: TrainingError.invalidConfiguration(
        "--strategy per-core is for --algorithm minibatch; lloyd combines at a barrier (sync)")
    ) { try KMeans(replicas).fit(repeats.rows) }
    var none = configuration(2)
    none.runs = 0
    #expect(throws: TrainingError.invalidConfiguration("--n-init must be at least 1 (got 0)")) {
      try KMeans(none).fit(repeats.rows)
    }
  }

  @Test func valuesWhoseSquaresOverflowAreRefusedAndAssignInRange() throws {
    // ‖x‖² of these rows is past Float's range: scores are NaN, never a centre past k.
    let data = MatrixRows([[1e30, 0], [1e30, 1], [0, 0], [1, 1], [2, 2], [3, 1e30]])
    for algorithm in KMeansAlgorithm.allCases {
      var setup = configuration(2, algorithm: algorithm)
      setup.maxIterations = 5
      setup.batchSize = 2
      #expect(throws: TrainingError.self, "\(algorithm)") { try KMeans(setup).fit(data.rows) }
    }
    let model = ClusterModel(centres: [0, 0, 1e30, 1e30], features: 2)
    let assigned = try KMeans.assign(data.rows, to: model)
    #expect(assigned.clusters.allSatisfy { (0..<2).contains($0) })
    let broken = ClusterModel(centres: [.nan, 0, 1, 1], features: 2)
    #expect(throws: TrainingError.self) { try KMeans.assign(data.rows, to: broken) }
  }

  @Test func adjustedRandIndexMatchesKnownValues() {
    // Values from scikit-learn's adjusted_rand_score.
    #expect(adjustedRandIndex([0, 0, 1, 1], [1, 1, 0, 0]) == 1)
    #expect(abs(adjustedRandIndex([0, 0, 1, 1], [0, 0, 1, 2]) - 0.5714285714285715) < 1e-12)
    #expect(abs(adjustedRandIndex([0, 0, 0, 1, 1, 1], [0, 1, 2, 0, 1, 2]) - (-4.0 / 11)) < 1e-12)
    #expect(adjustedRandIndex([1, 1, 1], [7, 7, 7]) == 1)
  }

  @Test func modelFilesRoundTripAndRefuseTheOtherKind() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kmeans-model-\(getpid())")
      .path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let model = ClusterModel(
      centres: [1, 2, 3, 4, 5, 6], features: 3, scaler: FeatureScaler(means: [0, 1, 2], scales: [1, 2, 3]))
    let path = folder + "/k.model"
    try ModelFile.write(model, metadata: ClusterMetadata(model: model), to: path)
    #expect(try ModelFile.readClusters(path).model == model)
    #expect(try ModelFile.kind(of: path) == .kMeans)
    #expect(
      throws: ModelFileError.wrongKind(
        path: path, found: "a k-means model (from sounder cluster)",
        expected: "a linear model (from sounder train)")
    ) { try ModelFile.read(path) }
    let linear = LinearModel(loss: .squared, weights: [1, 2], bias: 0)
    let linearPath = folder + "/l.model"
    try ModelFile.write(linear, metadata: ModelMetadata(model: linear), to: linearPath)
    #expect(
      throws: ModelFileError.wrongKind(
        path: linearPath, found: "a linear model (from sounder train)",
        expected: "a k-means model (from sounder cluster)")
    ) { try ModelFile.readClusters(linearPath) }
  }
}

/// Inertia on the bundled data against scikit-learn 1.9.1's `KMeans`
/// (float32 rows, `n_init=10`, `random_state=0`), recorded here, with the
/// adjusted Rand index of its clusters against the classes.
@Suite struct KMeansScikitLearnFixtureTests {
  @Test(arguments: [
    ("iris", 3, 78.8514404296875, 0.7302382722834697),
    ("digits", 10, 1165188.625, 0.6657284343995036),
  ])
  func inertiaWithinHalfAPercentOfScikitLearn(name: String, k: Int, inertia: Double, rand: Double) throws {
    let dataset = try Bundled.open(name)
    let rows = try dataset.checkedRows()
    var setup = KMeansConfiguration(clusters: k)
    setup.runs = 10
    setup.execution.threads = 2
    let result = try KMeans(setup).fit(rows)
    #expect(result.inertia <= inertia * 1.005, "Sounder \(result.inertia), scikit-learn \(inertia)")
    let assigned = try KMeans.assign(rows, to: result.model)
    let labels = Array(UnsafeBufferPointer(start: rows.block.labels, count: rows.count))
    #expect(abs(adjustedRandIndex(labels, assigned.clusters) - rand) < 0.05)
    // The reported inertia is the assignment's, summed in Double.
    let exact = (0..<rows.count).reduce(0.0) { total, row in
      total + result.model.nearest(dense: rows.denseRow(row)).squaredDistance
    }
    #expect(abs(exact - result.inertia) <= 1e-6 * exact)
  }
}
