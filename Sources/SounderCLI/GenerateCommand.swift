import ArgumentParser
import Foundation
import Sounder

/// `sounder generate`: seeded synthetic data from a known linear model.
struct GenerateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "generate",
    abstract: "Write seeded synthetic data drawn from a known linear model.",
    discussion: """
      dense-classification and dense-regression draw standard normal features; \
      sparse-classification draws RCV1-like rows (power-law feature frequencies, unit L2 norm). \
      The same seed gives the same bytes. The output's extension picks the format: .sds, .svm or .csv.
      """
  )

  @Option(help: "dense-classification, dense-regression or sparse-classification.")
  var kind: SyntheticKind

  @Option(help: "Number of rows.")
  var rows: Int

  @Option(help: "Number of features.")
  var features: Int

  @Option(name: .customLong("nnz-per-row"), help: "Sparse: stored values per row.")
  var nonZerosPerRow = 80

  @Option(help: "Random seed.")
  var seed: UInt64 = 1

  @Option(help: "Seed of the true model (default: --seed); keep it and change --seed for a test set.")
  var modelSeed: UInt64?

  @Option(help: "Standard deviation of the label noise.")
  var noise: Float = 0.1

  @Option(
    help:
      "Classification kinds: classes. 2 gives labels ±1; more give class indices 0..<K, the largest of K models' noisy outputs."
  )
  var classes = 2

  @Option(name: .shortAndLong, help: "The file to write: .sds, .svm or .csv.")
  var output: String

  @Option(help: "Threads (default: one per core).")
  var threads: Int?

  func validate() throws {
    if rows < 1 { throw ValidationError("--rows must be at least 1 (got \(rows))") }
    if features < 1 { throw ValidationError("--features must be at least 1 (got \(features))") }
    if let threads, threads < 1 { throw ValidationError("--threads must be at least 1 (got \(threads))") }
  }

  func run() throws {
    var spec = SyntheticSpec(
      kind: kind, rows: rows, features: features, nonZerosPerRow: nonZerosPerRow, seed: seed, noise: noise)
    spec.modelSeed = modelSeed
    spec.classes = classes
    try checkRoom(for: spec)
    let started = Date()
    let summary: ConversionSummary
    do {
      let layout: Layout = kind == .sparseClassification ? .csr : .dense
      let sink: RowSink
      switch DataFormat(path: output) {
      case .sds: sink = try DatasetWriter(path: output, layout: layout)
      case .libsvm: sink = try TextWriter(path: output, format: .libsvm)
      case .csv where layout == .dense: sink = try TextWriter(path: output, format: .csv)
      default:
        throw CLIError(
          "cannot tell what to write to \(output): expected a name ending in .sds, .svm or (dense kinds) .csv"
        )
      }
      summary = try SyntheticData.write(spec, into: sink, threads: threads ?? ProcessInfoCores.count)
    } catch let error as CLIError {
      throw error
    } catch {
      throw CLIError("\(error)")
    }
    print(
      "wrote \(output): \(summary.rows) rows × \(summary.columns) columns, \(summary.nonZeros) values, "
        + "\(summary.labelKind) labels, seed \(seed), in "
        + String(format: "%.2f s", Date().timeIntervalSince(started)))
  }
}

extension SyntheticKind: ExpressibleByArgument {}

extension GenerateCommand {
  /// Refuses a dataset larger than the free space where it would be written
  /// (an estimate: 4 bytes a value, and 4 more per index for sparse rows;
  /// text about three times that), before anything is generated.
  func checkRoom(for spec: SyntheticSpec) throws {
    guard let values = SyntheticData.estimatedValues(spec) else { return }  // write() refuses it with the reason
    let sparse = spec.kind == .sparseClassification
    let binary = Double(values) * (sparse ? 8 : 4) + Double(spec.rows) * (sparse ? 12 : 4)
    let bytes = DataFormat(path: output) == .sds ? binary : 3 * binary
    let folder = URL(fileURLWithPath: output).deletingLastPathComponent().path
    var stats = statvfs()
    guard statvfs(folder, &stats) == 0 else { return }  // the writer reports an unusable folder
    let free = Double(stats.f_bavail) * Double(stats.f_frsize)
    guard bytes <= free else {
      throw CLIError(
        "\(output): the dataset would take about \(gigabytes(bytes)) but \(folder) has \(gigabytes(free)) free; generate fewer rows or features"
      )
    }
  }

  private func gigabytes(_ bytes: Double) -> String { String(format: "%.3g GB", bytes / 1e9) }
}
