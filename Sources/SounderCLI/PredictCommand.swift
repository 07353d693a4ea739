import ArgumentParser
import Foundation
import Sounder

/// `sounder predict`: one prediction per row.
struct PredictCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "predict",
    abstract:
      "Write one prediction per row: the value (squared), P(positive) (logistic, modified-huber) or ±1 (hinge)."
  )

  @Argument(help: "The model file written by sounder train.")
  var model: String

  @Argument(help: "The data (.sds, LIBSVM, CSV or .npy; labels are read but not needed).")
  var data: String

  @Option(name: .shortAndLong, help: "Write predictions here (default: standard output).")
  var output: String?

  @OptionGroup(title: "Reading the data")
  var input: InputOptions

  func run() throws {
    let (model, dataset) = try openModelAndData(model: model, data: data, input: input)
    let lines = model.predictions(dataset.rows).map { "\($0)\n" }.joined()
    guard let output else {
      print(lines, terminator: "")
      return
    }
    do {
      let file = try OutputFile(creating: output)
      try file.write(lines)
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
    abstract: "Print a model's metrics on labelled data (MSE, R², … or accuracy, log-loss, ROC AUC, F1, …)."
  )

  @Argument(help: "The model file written by sounder train.")
  var model: String

  @Argument(help: "Labelled data (.sds, LIBSVM, CSV or .npy).")
  var data: String

  @OptionGroup(title: "Reading the data")
  var input: InputOptions

  @Flag(help: "Print JSON instead of text.")
  var json = false

  func run() throws {
    let (model, dataset) = try openModelAndData(model: model, data: data, input: input)
    let metrics = model.evaluate(dataset.rows)
    if json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      print(String(decoding: try encoder.encode(metrics), as: UTF8.self))
    } else {
      print("\(data): \(metrics.rows) rows; \(describe(metrics))")
    }
  }
}

/// Reads a model and data, and checks that they fit together.
func openModelAndData(model path: String, data: String, input: InputOptions) throws -> (LinearModel, Dataset)
{
  let model: LinearModel
  do { model = try ModelFile.read(path).model } catch { throw CLIError(error.description) }
  let dataset = try input.open(data)
  do { try model.check(dataset.rows) } catch { throw CLIError("\(data): \(error.description)") }
  return (model, dataset)
}
