import ArgumentParser
import Sounder

/// How to read a data file: the options `convert`, `train`, `predict` and
/// `evaluate` share, so a file reads the same way in each, labelled or not.
struct InputOptions: ParsableArguments {
  @Option(help: "The input's format: libsvm, csv, npy or sds (default: from the extension).")
  var format: DataFormat?

  @Flag(help: "LIBSVM: feature indices start at 0 (default: 1).")
  var zeroBased = false

  @Option(help: "LIBSVM: the number of features; larger indices are an error.")
  var features: Int?

  @Option(help: "What the labels are: real, binary, class, or none as --no-labels says (default: detected).")
  var labelKind: LabelKind?

  @Flag(
    help: """
      Text input has no labels (label kind none): every CSV column is a feature, and a LIBSVM line \
      starts with its first index:value. The same as --label-kind none. (A .npy file without \
      --labels has none anyway; a .sds file is read as it is.)
      """)
  var noLabels = false

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
    if noLabels, let labelKind, labelKind != LabelKind.none {
      throw ValidationError(
        "--no-labels says there are no labels, and --label-kind \(labelKind) that there are")
    }
    if !hasLabels, let labelColumn {
      throw ValidationError(
        "--label-column \(labelColumn) names a label column, and \(noLabelsFlag) says there is none")
    }
    if !hasLabels, let labels {
      throw ValidationError("--labels \(labels) gives labels, and \(noLabelsFlag) says there are none")
    }
    guard separator.utf8.count == 1 else {
      throw ValidationError("--delimiter must be one character (got \"\(delimiter)\")")
    }
  }

  var separator: String { delimiter == "\\t" ? "\t" : delimiter }

  /// The label kind asked for: none with `--no-labels`, else `--label-kind`'s.
  var kind: LabelKind? { noLabels ? LabelKind.none : labelKind }

  /// Whether the options leave rows with labels (neither `--no-labels` nor `--label-kind none`).
  var hasLabels: Bool { kind != LabelKind.none }

  /// The option that said there are no labels, for messages.
  var noLabelsFlag: String { noLabels ? "--no-labels" : "--label-kind none" }

  var libsvm: LIBSVMOptions { LIBSVMOptions(zeroBased: zeroBased, features: features, labelKind: kind) }

  var csv: CSVOptions {
    CSVOptions(
      header: header, labelColumn: labelColumn.map(ColumnSelector.init), delimiter: separator.utf8.first!,
      fill: fill, labelKind: kind)
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
      // On every core whatever `threads` says, as the final metrics are: it is a pass over
      // the rows before the workers start, not training (1 thread took 0.05 s of a 0.53 s
      // run on 2,000,000 × 64 rows, 2 took 0.03).
      let start = monotonicSeconds()
      let rows = try dataset.checkedRows(threads: ProcessInfoCores.count)
      return OpenedData(
        dataset: dataset, rows: rows, checkSeconds: monotonicSeconds() - start, path: path,
        howToLabel: howToLabel(path))
    } catch let error as DatasetError {
      throw CLIError(error.description)
    } catch {
      throw CLIError("\(error)")
    }
  }

  /// What to do to read `path` with labels, when it opened without.
  private func howToLabel(_ path: String) -> String {
    switch format ?? DataFormat(path: path) {
    case .sds: return "convert the source data with its labels"
    case _ where !hasLabels: return "read it without \(noLabelsFlag)"
    case .npy: return "give the labels with --labels y.npy"
    default: return "convert the source data with its labels"
    }
  }
}

/// A dataset and its checked rows, and how long the check took.
struct OpenedData {
  let dataset: Dataset
  let rows: CheckedRows
  let checkSeconds: Double
  /// The path the data was opened from, as given.
  let path: String
  /// What to do to read the data with labels, for ``requireLabels(for:)``.
  let howToLabel: String

  /// Refuses data without labels (label kind none) with one line, for
  /// `command` (such as "train"), which needs labelled rows.
  func requireLabels(for command: String) throws {
    guard !dataset.hasLabels else { return }
    throw CLIError(
      "\(path) has no labels (label kind none): \(command) needs labelled rows; \(howToLabel)")
  }
}
