import Foundation
import Sounder
import Testing

/// The README's library examples, run as written (on generated data, with
/// paths in a temporary folder), so the README cannot drift from the API.
@Suite("README examples")
struct ReadmeExampleTests {
  @Test("training from Swift, as the README shows it")
  func training() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sounder-readme-\(UUID())")
      .path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let (trainPath, modelPath) = (folder + "/train.sds", folder + "/m.model")
    let spec = SyntheticSpec(kind: .denseClassification, rows: 5_000, features: 16, seed: 3)
    _ = try SyntheticData.write(spec, into: try DatasetWriter(path: trainPath, layout: .dense))

    // --- README: "Training from Swift" ---
    let data = try Dataset(path: trainPath)  // memory-mapped, O(1) to open
    let rows = try data.checkedRows()  // one pass: offsets, indices, finite values
    var setup = TrainingConfiguration()
    setup.problem.loss = .logistic
    setup.execution.strategy = .auto  // or .hogwild, .perNode, .perCore, .sync
    setup.optimizer.algorithm = .sgd
    setup.stopping.epochs = 10
    setup.stopping.holdoutFraction = 0.1
    let result = try Trainer(setup).fit(
      rows,
      progress: { report in
        print(report.epoch, report.trainingLoss, report.validationMetric ?? .nan)
      })
    print(result.strategy.reason)
    let metrics = try result.model.evaluate(rows)  // Metrics: accuracy, log-loss, AUC, ...
    let p = result.model.predictions(rows)  // or model.predict(dense: rowBuffer)
    try ModelFile.write(result.model, metadata: ModelMetadata(model: result.model), to: modelPath)
    // --- end ---

    #expect(result.history.count == 10)
    #expect(p.count == data.rows.count)
    #expect(try #require(metrics.accuracy) > 0.9)
    #expect(try ModelFile.read(modelPath).model == result.model)
  }

  @Test("clustering from Swift, as the README shows it")
  func clustering() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sounder-readme-\(UUID())")
      .path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let path = folder + "/train.sds"
    let spec = SyntheticSpec(kind: .denseClassification, rows: 4_000, features: 8, seed: 3)
    _ = try SyntheticData.write(spec, into: try DatasetWriter(path: path, layout: .dense))
    let rows = try Dataset(path: path).checkedRows()

    // --- README: "Clustering from Swift" ---
    var clustering = KMeansConfiguration(clusters: 8)
    clustering.algorithm = .bounded  // or .lloyd, .minibatch
    clustering.initialization = .kMeansPlusPlus  // or .kMeansParallel, .random
    clustering.runs = 3
    let fit = try KMeans(clustering).fit(rows) { report in print(report.iteration, report.inertia) }
    let centre = fit.model.centre(0)  // fit.model.centres: k × features, centre-major
    let assigned = try KMeans.assign(rows, to: fit.model)  // clusters, squared distances, inertia
    try ModelFile.write(fit.model, metadata: ClusterMetadata(model: fit.model), to: folder + "/k.model")
    // --- end ---

    #expect(centre.count == 8 && fit.runInertias.count == 3)
    #expect(abs(assigned.inertia - fit.inertia) <= 1e-6 * fit.inertia)
    #expect(try ModelFile.readClusters(folder + "/k.model").model == fit.model)
  }

  @Test("watching workers and profiling, as the README shows it")
  func profiling() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sounder-readme-\(UUID())")
      .path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let path = folder + "/train.sds"
    let spec = SyntheticSpec(kind: .denseClassification, rows: 4_000, features: 8, seed: 3)
    _ = try SyntheticData.write(spec, into: try DatasetWriter(path: path, layout: .dense))
    let rows = try Dataset(path: path).checkedRows()  // keeps the mapping alive
    var setup = TrainingConfiguration()
    setup.optimizer.algorithm = .sgd  // an epoch is one pass (auto: L-BFGS on data this small)
    setup.stopping.epochs = 2

    // --- README: "Watching workers and profiling" ---
    let counters = WorkerCounters()  // read it from any thread during fit
    let run = try Trainer(setup).fit(rows, counters: counters)
    for worker in run.workers { print(worker.cpu, worker.counts.examples, worker.localPageShare ?? .nan) }

    var sweep = ProfileSweep(base: setup)  // threads × strategies × placement × replication
    sweep.threads = ProcessInfo.processInfo.activeProcessorCount >= 2 ? [1, 2] : [1]  // README: [1, 2]
    sweep.strategies = [.hogwild, .perCore]
    sweep.epochs = 3
    let report = try sweep.run(on: rows, machine: try Topology.current())
    let svg = ProfileChart.svg(report)  // also report.json, report.csv
    // --- end ---

    #expect(run.workers.map(\.counts.examples).reduce(0, +) == 2 * 4_000)
    #expect(report.runs.count == 2 * sweep.threads.count)
    #expect(svg.contains("<svg"))
  }

  @Test("datasets and placement, as the README shows them")
  func datasets() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sounder-readme-\(UUID())")
      .path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let previous = FileManager.default.currentDirectoryPath
    FileManager.default.changeCurrentDirectoryPath(folder)
    defer { FileManager.default.changeCurrentDirectoryPath(previous) }
    let source = SyntheticSpec(
      kind: .sparseClassification, rows: 2_000, features: 500, nonZerosPerRow: 10, seed: 5)
    _ = try SyntheticData.write(source, into: try TextWriter(path: "train.svm", format: .libsvm))

    // --- README: "Datasets" ---
    _ = try Importer.convert(input: "train.svm", output: "train.sds")  // or readLIBSVM/readCSV into any RowSink
    let data = try Dataset(path: "train.sds")  // O(1): maps, checks the header
    let rows = data.rows  // RowBlock: plain pointers, Sendable
    for i in 0..<rows.count {
      let row = rows.sparseRow(i)  // row.indices, row.values (denseRow for dense data)
      _ = (row, rows.label(i), rows.weight(i))
    }
    try data.verify()  // checksums and structure, on demand

    // Placement (module Parallel): partitions, their pages on a NUMA node, node-local copies.
    let parts = try DataLayout.partitions(of: rows, count: 4)  // contiguous, balanced by non-zeros
    let numa = NUMAMemory.isAvailable  // (the README's machine has NUMA support)
    if numa { try DataLayout.bind(rows: parts[0].rows, of: rows, toNode: 0) }  // move a partition's pages to a NUMA node
    let replica = numa ? try NodeLocalRows(copying: rows.slice(parts[1].rows), onNode: 0) : nil  // or copy it into node-local memory

    let (cached, _) = try DatasetCache.open(source: "train.svm")  // .train.svm.sounder.sds, rebuilt only when the source changes

    let spec = SyntheticSpec(kind: .sparseClassification, rows: 10_000, features: 1_000, seed: 7)
    _ = try SyntheticData.write(spec, into: try DatasetWriter(path: "synthetic.sds", layout: .csr))
    // --- end ---

    #expect(rows.count == 2_000 && parts.count == 4 && parts.map(\.rows.count).reduce(0, +) == 2_000)
    #expect(replica.map { $0.rows.count == parts[1].rows.count } ?? true)
    #expect(cached.header.rows == 2_000)
    #expect(try Dataset(path: "synthetic.sds").header.rows == 10_000)
  }

  @Test("objectives and kernels on their own, as the README shows them")
  func kernels() throws {
    // Two rows that tell feature 3 (label 1) from feature 5 (label −1).
    let pair: [(indices: [Int32], values: [Float], label: Float)] = [([3], [1], 1), ([5], [1], -1)]
    let rows = Array(repeating: pair, count: 50).flatMap { $0 }
    let x: [Float] = [1, 2, 3, 4]
    var weights: [Float] = [0, 0, 0, 0]

    // --- README: "Library: Kernels and objectives" ---
    // One SGD epoch of logistic regression over sparse rows, on a model in a raw buffer.
    func epoch<O: Objective>(
      _ rows: [(indices: [Int32], values: [Float], label: Float)], objective: O,
      model w: UnsafeMutableBufferPointer<Float>, schedule: StepSizeSchedule, step t: inout Int
    ) {
      for row in rows {
        row.indices.withUnsafeBufferPointer { indices in
          row.values.withUnsafeBufferPointer { values in
            let margin = Sparse.dot(indices: indices, values: values, model: UnsafeBufferPointer(w))  // w·x
            let slope = objective.derivative(margin: margin, label: row.label)  // ℓ′(m, y)
            Sparse.axpy(-schedule.rate(at: t) * slope, indices: indices, values: values, into: w)  // w ← w − η ℓ′ x
            t += 1
          }
        }
      }
    }
    var model = [Float](repeating: 0, count: 1 << 20)
    var t = 0
    model.withUnsafeMutableBufferPointer { w in
      epoch(
        rows, objective: LogisticLoss(), model: w, schedule: .optimal(initial: 0.1, lambda: 1e-4), step: &t)
    }

    // Dense kernels on raw buffers: m = w·x, then w ← w + c(m) x in one call.
    let margin = x.withUnsafeBufferPointer { x in
      weights.withUnsafeMutableBufferPointer { w in
        Dense.step(x, w) { m in -0.1 * LogisticLoss().derivative(margin: m, label: 1) }
      }
    }
    // --- end ---

    #expect(t == 100 && model[3] > 0 && model[5] < 0, "feature 3 \(model[3]), feature 5 \(model[5])")
    #expect(margin == 0)
    for (w, expected) in zip(weights, [0.05, 0.1, 0.15, 0.2] as [Float]) { #expect(abs(w - expected) < 1e-7) }
  }
}
