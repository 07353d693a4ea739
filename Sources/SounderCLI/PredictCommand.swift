import ArgumentParser
import Foundation
import Sounder

/// `sounder predict`: one prediction per row.
struct PredictCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "predict",
    abstract:
      "Write one prediction per row: the value (regression), the class (classification), or the cluster (k-means)."
  )

  @Argument(help: "The model file written by sounder train or sounder cluster.")
  var model: String

  @Argument(help: "The data (.sds, LIBSVM, CSV or .npy; labels are read but not needed).")
  var data: String

  @Option(name: .shortAndLong, help: "Write predictions here (default: standard output).")
  var output: String?

  @Flag(
    help:
      "Write every class's probability instead, comma-separated in class order (binary: the negative class's, then the positive's; multiclass: softmax, or one-vs-rest normalised)."
  )
  var proba = false

  @Flag(help: "k-means models: write each row's cluster and its distance to the centre, comma-separated.")
  var distance = false

  @OptionGroup(title: "Reading the data")
  var input: InputOptions

  func run() throws {
    if let output {
      try refuseOutput(output, sameAsAnyOf: [model, data] + (input.labels.map { [$0] } ?? []))
    }
    switch try openStoredModel(model) {
    case .linear(let linear):
      guard !distance else {
        throw CLIError("--distance is for k-means models (from sounder cluster); \(model) is a linear model")
      }
      try predict(linear)
    case .clusters(let clusters):
      guard !proba else {
        throw CLIError("--proba is for classifiers; \(model) is a k-means model (use --distance)")
      }
      let dataset = try input.open(data)
      let assigned = try assign(dataset.rows, to: clusters, data: data)
      let (clusters, squared) = (assigned.clusters, assigned.squaredDistances)
      let withDistance = distance
      try write(
        lines(clusters.count) { row, text in
          text += clusters[row].description
          if withDistance { text += "," + squared[row].squareRoot().description }
        })
    }
  }

  private func predict(_ model: LinearModel) throws {
    let dataset = try input.open(data)
    do { try model.check(dataset.rows) } catch { throw CLIError("\(data): \(error.description)") }
    if proba {
      guard model.hasProbabilities, model.isMulticlass || model.binaryClasses != nil else {
        throw CLIError(
          "--proba is for classifiers with probabilities; this is a \(model.outputs == 1 ? "one-output" : "\(model.outputs)-class") \(model.loss.rawValue) model"
            + (model.outputs == 1 && model.hasProbabilities
              ? ", saved before models kept their labels, whose predictions already are P(positive)" : ""))
      }
    }
    let count = dataset.rows.block.count
    if proba {
      let k = max(model.outputs, 2)
      let values = model.probabilities(dataset.rows)
      try write(
        lines(count) { row, text in
          for c in 0..<k {
            if c > 0 { text += "," }
            text += values[row * k + c].description
          }
        })
    } else if model.isMulticlass || model.binaryClasses != nil {
      let names = model.classNames
      let labels = model.classes ?? (0..<model.outputs).map(Float.init)
      let predicted = model.predictions(dataset.rows)
      try write(
        lines(count) { row, text in
          text +=
            names.map { $0[labels.firstIndex(of: predicted[row])!] } ?? LinearModel.labelText(predicted[row])
        })
    } else {
      let predicted = model.predictions(dataset.rows)
      try write(lines(count) { row, text in text += predicted[row].description })
    }
  }

  /// The output's text, a line a row (`line` writes row `row`'s, without its
  /// newline), made in chunks of rows on every core and kept in row order: a
  /// String a row joined afterwards took 0.9–1.3 s for 2M rows' probabilities.
  private func lines(_ rows: Int, _ line: @Sendable (Int, inout String) -> Void) -> [String] {
    let chunks = max(1, min(4 * ProcessInfoCores.count, rows / 16_384))
    var texts = [String](repeating: "", count: chunks)
    texts.withUnsafeMutableBufferPointer { buffer in
      // Each chunk writes only its own text.
      nonisolated(unsafe) let slots = buffer.baseAddress!
      DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
        var text = ""
        for row in (rows * chunk / chunks)..<(rows * (chunk + 1) / chunks) {
          line(row, &text)
          text += "\n"
        }
        slots[chunk] = text
      }
    }
    return texts
  }

  /// Writes `texts` one after the other to the output file, complete or not
  /// at all, or to standard output.
  private func write(_ texts: [String]) throws {
    guard let output else {
      for text in texts { print(text, terminator: "") }
      return
    }
    do {
      let file = try OutputFile(creating: output)
      for text in texts { try file.write(text) }
      try file.commit()
    } catch {
      throw CLIError(error.description)
    }
  }
}

/// `sounder evaluate`: a model's metrics on labelled data.
struct EvaluateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "evaluate",
    abstract:
      "Print a model's metrics on labelled data (MSE, R², … or accuracy, log-loss, ROC AUC, F1, …; k-means: inertia and adjusted Rand index)."
  )

  @Argument(help: "The model file written by sounder train or sounder cluster.")
  var model: String

  @Argument(help: "Labelled data (.sds, LIBSVM, CSV or .npy); for a k-means model labels are optional.")
  var data: String

  @OptionGroup(title: "Reading the data")
  var input: InputOptions

  @Flag(help: "Print JSON instead of text.")
  var json = false

  func run() throws {
    if case .clusters(let clusters) = try openStoredModel(model) {
      try evaluate(clusters)
      return
    }
    let (model, dataset) = try openModelAndData(model: model, data: data, input: input)
    try dataset.requireLabels(for: "evaluate")
    let named = try NamedRows(dataset, path: data, names: model.classNames)
    let metrics: Metrics
    do { metrics = try model.evaluate(named.rows) } catch {
      throw CLIError("\(data): \(error.description)")
    }
    if json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      print(String(decoding: try encoder.encode(metrics), as: UTF8.self))
    } else {
      print("\(data): \(metrics.rows) rows; \(describe(metrics))")
      if let confusion = metrics.confusion, let classes = metrics.classes {
        print(confusionTable(confusion, classes: classes))
      }
    }
  }
}

extension EvaluateCommand {
  /// A k-means model's inertia on the data and, when the data has labels,
  /// the adjusted Rand index of its clusters against them.
  private func evaluate(_ model: ClusterModel) throws {
    let dataset = try input.open(data)
    let assigned = try assign(dataset.rows, to: model, data: data)
    let labels = UnsafeBufferPointer(start: dataset.rows.block.labels, count: dataset.rows.count)
    let kind = dataset.dataset.header.labelKind
    let rand =
      kind == .binary || kind == .classIndex ? adjustedRandIndex(Array(labels), assigned.clusters) : nil
    if json {
      struct Figures: Encodable {
        var rows: Int
        var inertia: Double
        var adjustedRandIndex: Double?
      }
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      let figures = Figures(rows: dataset.rows.count, inertia: assigned.inertia, adjustedRandIndex: rand)
      print(String(decoding: try encoder.encode(figures), as: UTF8.self))
    } else {
      print(
        "\(data): \(dataset.rows.count) rows; inertia \(String(format: "%.6g", assigned.inertia))"
          + (rand.map { String(format: ", adjusted Rand index %.4f against the labels", $0) } ?? ""))
    }
  }
}

/// A model file's model, of whichever kind it holds.
enum StoredModel {
  case linear(LinearModel)
  case clusters(ClusterModel)
}

/// Reads the model at `path`, linear or k-means.
func openStoredModel(_ path: String) throws -> StoredModel {
  do {
    switch try ModelFile.kind(of: path) {
    case .linear: return .linear(try ModelFile.read(path).model)
    case .kMeans: return .clusters(try ModelFile.readClusters(path).model)
    }
  } catch { throw CLIError(error.description) }
}

/// Each row's cluster under `model`, with one clear line when the data does not fit it.
func assign(_ rows: CheckedRows, to model: ClusterModel, data: String) throws -> (
  clusters: [Int32], squaredDistances: [Float], inertia: Double
) {
  do { return try KMeans.assign(rows, to: model) } catch let error as TrainingError {
    throw CLIError("\(data): \(error.description)")
  }
}

/// Reads a model and data, and checks that they fit together.
func openModelAndData(model path: String, data: String, input: InputOptions) throws -> (
  LinearModel, OpenedData
) {
  let model: LinearModel
  do { model = try ModelFile.read(path).model } catch { throw CLIError(error.description) }
  let dataset = try input.open(data)
  do { try model.check(dataset.rows) } catch { throw CLIError("\(data): \(error.description)") }
  return (model, dataset)
}

/// The confusion matrix as a table: a row per true class, a column per
/// predicted class.
func confusionTable(_ confusion: [[Int]], classes: [String]) -> String {
  let width = max(classes.map(\.count).max() ?? 1, confusion.joined().map { String($0).count }.max() ?? 1) + 2
  let corner = "true \\ predicted"
  var lines = [corner.leftPadded(max(width, corner.count)) + classes.map { $0.leftPadded(width) }.joined()]
  for (name, row) in zip(classes, confusion) {
    lines.append(
      name.leftPadded(max(width, corner.count)) + row.map { String($0).leftPadded(width) }.joined())
  }
  return lines.joined(separator: "\n")
}

/// Refuses to write `output` when it is one of the command's inputs.
func refuseOutput(_ output: String, sameAsAnyOf inputs: [String]) throws {
  do { try OutputFile.refuse(output, sameAsAnyOf: inputs) } catch { throw CLIError(error.description) }
}
