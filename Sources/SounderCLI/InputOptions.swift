import ArgumentParser
import Sounder

/// How to read a data file: the options `convert`, `train`, `predict` and
/// `evaluate` share, so a labelled file reads the same way in each.
struct InputOptions: ParsableArguments {
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

  func validate() throws {
    if let features, features < 1 { throw ValidationError("--features must be at least 1 (got \(features))") }
    guard separator.utf8.count == 1 else {
      throw ValidationError("--delimiter must be one character (got \"\(delimiter)\")")
    }
  }

  var separator: String { delimiter == "\\t" ? "\t" : delimiter }

  var libsvm: LIBSVMOptions { LIBSVMOptions(zeroBased: zeroBased, features: features, labelKind: labelKind) }

  var csv: CSVOptions {
    CSVOptions(
      header: header, labelColumn: labelColumn.map(ColumnSelector.init), delimiter: separator.utf8.first!,
      fill: fill, labelKind: labelKind)
  }

  /// Opens `path`: a `.sds` file directly, anything else through the cache
  /// of converted files, with a progress bar on a terminal while converting;
  /// then checks its rows (``Dataset/checkedRows(threads:)``), timed.
  func open(_ path: String, threads: Int? = nil) throws -> OpenedData {
    let bar = ProgressBar(quiet: false)
    defer { bar.finish() }
    do {
      let dataset = try DatasetCache.open(
        source: path, format: format, libsvm: libsvm, csv: csv, npyLabels: labels,
        settings: IngestSettings(threads: threads ?? ProcessInfoCores.count, progress: { bar.update($0) })
      ).dataset
      // The kernels trust the offsets and indices: a damaged file stops here, not in them.
      let start = monotonicSeconds()
      let rows = try dataset.checkedRows(threads: threads ?? ProcessInfoCores.count)
      return OpenedData(dataset: dataset, rows: rows, checkSeconds: monotonicSeconds() - start)
    } catch let error as DatasetError {
      throw CLIError(error.description)
    } catch {
      throw CLIError("\(error)")
    }
  }
}

/// A dataset and its checked rows, and how long the check took.
struct OpenedData {
  let dataset: Dataset
  let rows: CheckedRows
  let checkSeconds: Double
}
