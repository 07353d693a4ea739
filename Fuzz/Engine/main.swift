// libFuzzer target for what reads untrusted files past the text parsers, run
// by tools/fuzz. The first input byte picks what the rest is:
//
// 0. a `.sds` file: open, check the rows, convert it to LIBSVM and CSV text
//    and back, train one epoch and predict and evaluate with the model;
// 1. a model file or checkpoint: read it, predict with the model;
// 2. a `.npy` file: convert it to `.sds`;
// 3. `sounder` arguments, separated by zero bytes: parse and validate them
//    (nothing runs).
//
// Beyond "no crash, no out-of-bounds access" (AddressSanitizer), each run
// checks what the API promises: rows that passed the check are well-formed,
// and every error is one line naming what was wrong.
import CFuzzDriver
import Foundation
import Sounder
import SounderCLI

/// What every run shares.
enum Shared {
  static let folder = {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("sounder-fuzz-\(getpid())").path
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }()
  static let machine = try! Topology.current()
  /// What a dense block's offsets and indices point at (never read).
  nonisolated(unsafe) static let offsets = UnsafePointer(UnsafeMutablePointer<Int64>.allocate(capacity: 1))
  nonisolated(unsafe) static let indices = UnsafePointer(UnsafeMutablePointer<Int32>.allocate(capacity: 1))
}

/// Writes `bytes` to `name` in this run's folder and returns the path.
func file(_ name: String, _ bytes: UnsafeRawBufferPointer) -> String {
  let path = Shared.folder + "/" + name
  precondition(FileManager.default.createFile(atPath: path, contents: Data(bytes)), "cannot write \(path)")
  return path
}

/// An error's text: one line, no raw control bytes.
func checkMessage(_ error: any Error) {
  let text = "\(error)"
  precondition(
    !text.isEmpty && text.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F },
    "an error with control characters or more than one line: \(text.debugDescription)")
}

func fuzzDataset(_ bytes: UnsafeRawBufferPointer) {
  let path = file("in.sds", bytes)
  let data: Dataset
  let rows: CheckedRows
  do {
    data = try Dataset(path: path)
    rows = try data.checkedRows(threads: 2)
  } catch {
    checkMessage(error)
    return
  }
  // What the check promises, read back plainly.
  for row in 0..<rows.count where rows.layout == .csr {
    let x = rows.sparseRow(row)
    precondition(x.indices.allSatisfy { $0 >= 0 && Int($0) < rows.columns }, "an index past the columns")
    precondition(x.values.allSatisfy(\.isFinite) && rows.label(row).isFinite, "a value that is not finite")
  }
  for (output, format) in [("out.svm", DataFormat.libsvm), ("out.csv", .csv)] {
    do {
      _ = try Importer.convert(input: path, output: Shared.folder + "/" + output)
      // Text without labels reads back only as such.
      let kind: LabelKind? = data.hasLabels ? nil : LabelKind.none
      _ = try Importer.convert(
        input: Shared.folder + "/" + output, output: Shared.folder + "/back.sds", format: format,
        libsvm: LIBSVMOptions(labelKind: kind), csv: CSVOptions(labelKind: kind))
    } catch { checkMessage(error) }
  }
  // Data without labels reads as label 0 everywhere; train needs labels.
  precondition(data.hasLabels || (0..<rows.count).allSatisfy { rows.label($0) == 0 }, "zero labels")
  fuzzClustering(rows)
  guard data.hasLabels, rows.count <= 512, rows.columns <= 4096, rows.nonZeros <= 65_536 else { return }
  var setup = TrainingConfiguration()
  setup.stopping.epochs = 1
  setup.execution.threads = 1
  setup.problem.loss = data.header.labelKind == .real ? .squared : .logistic
  do {
    let model = try Trainer(setup, topology: Shared.machine).fit(rows).model
    precondition(model.predictions(rows).count == rows.count, "one prediction per row")
    _ = try model.evaluate(rows)
  } catch { checkMessage(error) }
}

/// k-means on checked rows (labelled or not): two iterations, the algorithm and start
/// chosen by the row and column counts; every cluster index must be a real centre.
func fuzzClustering(_ rows: CheckedRows) {
  guard rows.count <= 512, rows.columns <= 4096, rows.nonZeros <= 65_536 else { return }
  var clustering = KMeansConfiguration(clusters: min(3, rows.count))
  clustering.algorithm = KMeansAlgorithm.allCases[rows.count % KMeansAlgorithm.allCases.count]
  clustering.initialization =
    KMeansInitialization.allCases[rows.columns % KMeansInitialization.allCases.count]
  clustering.maxIterations = 2
  clustering.batchSize = 2
  clustering.execution.threads = 1 + rows.count % 2
  do {
    let fit = try KMeans(clustering, topology: Shared.machine).fit(rows)
    let assigned = try KMeans.assign(rows, to: fit.model, threads: 1, topology: Shared.machine)
    precondition(
      assigned.clusters.allSatisfy { $0 >= 0 && Int($0) < fit.model.clusters }, "a cluster out of range")
  } catch { checkMessage(error) }
}

func fuzzModel(_ bytes: UnsafeRawBufferPointer) {
  let path = file("in.model", bytes)
  do {
    let model = try ModelFile.read(path).model
    guard model.features <= 4096 else { return }
    let values = [Float](repeating: 0.5, count: 2 * model.features)
    let labels = [Float](repeating: 0, count: 2)
    try values.withUnsafeBufferPointer { v in
      try labels.withUnsafeBufferPointer { l in
        let block = RowBlock(
          count: 2, columns: model.features, layout: .dense, features: v.baseAddress!,
          offsets: Shared.offsets,
          indices: Shared.indices, labels: l.baseAddress!, weights: nil)
        let rows = try CheckedRows(block, source: "fuzz rows")
        precondition(model.predictions(rows).count == 2, "one prediction per row")
        if model.isMulticlass && model.hasProbabilities { _ = model.probabilities(rows) }
      }
    }
    _ = try ModelFile.readCheckpoint(path)
  } catch { checkMessage(error) }
  do {
    let model = try ModelFile.readClusters(path).model
    guard model.features <= 4096, model.clusters <= 4096 else { return }
    let values = [Float](repeating: 0.5, count: 2 * model.features)
    let labels = [Float](repeating: 0, count: 2)
    try values.withUnsafeBufferPointer { v in
      try labels.withUnsafeBufferPointer { l in
        let block = RowBlock(
          count: 2, columns: model.features, layout: .dense, features: v.baseAddress!,
          offsets: Shared.offsets, indices: Shared.indices, labels: l.baseAddress!, weights: nil)
        let rows = try CheckedRows(block, source: "fuzz rows")
        let assigned = try KMeans.assign(rows, to: model, threads: 1, topology: Shared.machine)
        precondition(assigned.clusters.count == 2, "one cluster per row")
      }
    }
  } catch { checkMessage(error) }
}

func fuzzNPY(_ bytes: UnsafeRawBufferPointer) {
  let path = file("in.npy", bytes)
  do { _ = try Importer.convert(input: path, output: Shared.folder + "/npy.sds") } catch {
    checkMessage(error)
  }
}

func fuzzArguments(_ bytes: UnsafeRawBufferPointer) {
  let arguments = bytes.split(separator: 0, omittingEmptySubsequences: false).map {
    String(decoding: $0, as: UTF8.self)
  }
  do { _ = try SounderCommand.parseAsRoot(arguments) } catch {
    _ = SounderCommand.message(for: error)
  }
}

/// libFuzzer's entry point (its driver refers to it by name; this program's
/// main hands it to the driver too).
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
  guard let data, count > 0 else { return 0 }
  let input = UnsafeRawBufferPointer(start: data, count: count)
  let rest = UnsafeRawBufferPointer(rebasing: input[1...])
  switch input[0] % 4 {
  case 0: fuzzDataset(rest)
  case 1: fuzzModel(rest)
  case 2: fuzzNPY(rest)
  default: fuzzArguments(rest)
  }
  return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOne))
