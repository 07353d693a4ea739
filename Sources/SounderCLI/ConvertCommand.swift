import ArgumentParser
import Foundation
import Sounder

/// `sounder convert`: text or NumPy data to a `.sds` dataset, or back to text.
struct ConvertCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "convert",
    abstract: "Convert LIBSVM, CSV or .npy data to a .sds dataset, or a .sds dataset back to text.",
    discussion: """
      Formats come from the file extensions (.svm/.libsvm/.txt, .csv, .npy, .sds) unless --format \
      names the input's. The output appears only when complete: on any error nothing is written \
      and an existing output file is left as it was.
      """
  )

  @Argument(help: "The file to convert.")
  var input: String

  @Option(name: .shortAndLong, help: "The file to write: .sds, .svm or .csv.")
  var output: String

  @OptionGroup var reading: InputOptions

  @Option(help: "Parsing threads (default: one per core).")
  var threads: Int?

  @Flag(help: "No progress bar.")
  var quiet = false

  func validate() throws {
    if let threads, threads < 1 { throw ValidationError("--threads must be at least 1 (got \(threads))") }
  }

  func run() throws {
    try refuseOutput(output, sameAsAnyOf: [input] + (reading.labels.map { [$0] } ?? []))
    let bar = ProgressBar(quiet: quiet)
    let settings = IngestSettings(
      threads: threads ?? ProcessInfoCores.count, progress: { bar.update($0) })
    let started = Date()
    let summary: ConversionSummary
    do {
      summary = try Importer.convert(
        input: input, output: output, format: reading.format, libsvm: reading.libsvm, csv: reading.csv,
        npyLabels: reading.labels, settings: settings)
    } catch {
      bar.finish()
      throw CLIError(error.description)
    }
    bar.finish()
    let seconds = Date().timeIntervalSince(started)
    print(
      "wrote \(output): \(summary.rows) rows × \(summary.columns) columns, \(summary.nonZeros) values "
        + "(\(summary.layout)), "
        + (summary.labelKind == LabelKind.none ? "no labels" : "\(summary.labelKind) labels")
        + (summary.classNames.map { " (\($0.count) named classes)" } ?? "") + ", in "
        + String(format: "%.2f s (%.0f MB/s)", seconds, Double(summary.inputBytes) / 1e6 / max(seconds, 1e-9))
    )
  }
}

extension DataFormat: ExpressibleByArgument {}

extension LabelKind: ExpressibleByArgument {
  public init?(argument: String) { self.init(name: argument) }
  public static var allValueStrings: [String] { allCases.map(\.description) }
}
