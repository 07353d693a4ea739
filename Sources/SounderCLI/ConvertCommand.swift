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

  @Option(help: "The input's format: libsvm, csv, npy or sds (default: from the extension).")
  var format: DataFormat?

  @Flag(help: "LIBSVM: feature indices start at 0 (default: 1).")
  var zeroBased = false

  @Option(help: "LIBSVM: the number of features; larger indices are an error.")
  var features: Int?

  @Option(help: "What the labels are: real, binary or class (default: detected).")
  var labelKind: LabelKind?

  @Flag(inversion: .prefixedNo, help: "CSV: the first line is (or is not) a header (default: detected).")
  var header: Bool?

  @Option(
    help: "CSV: the label column, by name or 0-based index (default: label/target/y/class, or the last).")
  var labelColumn: String?

  @Option(help: "CSV: the field separator, one character; \\t for tab.")
  var delimiter: String = ","

  @Option(help: "CSV: the value to use for missing fields (default: missing fields are an error).")
  var fill: Float?

  @Option(help: "NumPy: the .npy file holding the labels.")
  var labels: String?

  @Option(help: "Parsing threads (default: one per core).")
  var threads: Int?

  @Flag(help: "No progress bar.")
  var quiet = false

  func validate() throws {
    if let threads, threads < 1 { throw ValidationError("--threads must be at least 1 (got \(threads))") }
    if let features, features < 1 { throw ValidationError("--features must be at least 1 (got \(features))") }
    let separator = delimiter == "\\t" ? "\t" : delimiter
    guard separator.utf8.count == 1 else {
      throw ValidationError("--delimiter must be one character (got \"\(delimiter)\")")
    }
  }

  func run() throws {
    let bar = ProgressBar(quiet: quiet)
    let settings = IngestSettings(
      threads: threads ?? ProcessInfoCores.count, progress: { bar.update($0) })
    let separator = delimiter == "\\t" ? "\t" : delimiter
    let started = Date()
    let summary: ConversionSummary
    do {
      summary = try Importer.convert(
        input: input, output: output, format: format,
        libsvm: LIBSVMOptions(zeroBased: zeroBased, features: features, labelKind: labelKind),
        csv: CSVOptions(
          header: header, labelColumn: labelColumn.map(ColumnSelector.init), delimiter: separator.utf8.first!,
          fill: fill, labelKind: labelKind),
        npyLabels: labels, settings: settings)
    } catch {
      bar.finish()
      throw CLIError(error.description)
    }
    bar.finish()
    let seconds = Date().timeIntervalSince(started)
    print(
      "wrote \(output): \(summary.rows) rows × \(summary.columns) columns, \(summary.nonZeros) values "
        + "(\(summary.layout)), \(summary.labelKind) labels, in "
        + String(format: "%.2f s (%.0f MB/s)", seconds, Double(summary.inputBytes) / 1e6 / max(seconds, 1e-9))
    )
  }
}

extension DataFormat: ExpressibleByArgument {}

extension LabelKind: ExpressibleByArgument {
  public init?(argument: String) { self.init(name: argument) }
  public static var allValueStrings: [String] { allCases.map(\.description) }
}
