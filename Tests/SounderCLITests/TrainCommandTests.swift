import Foundation
import Testing

/// A scratch folder with copies of the bundled data.
func scratchWithBundledData() throws -> URL {
  let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
  let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
    "sounder-cli-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
  for name in ["diabetes.csv", "breast-cancer.csv"] {
    try FileManager.default.copyItem(
      at: root.appendingPathComponent("data/\(name)"), to: folder.appendingPathComponent(name))
  }
  return folder
}

@Suite("sounder train, predict, evaluate")
struct TrainCommandTests {
  @Test("train prints a row per epoch, writes a model that predict and evaluate read")
  func trainPredictEvaluate() throws {
    let folder = try scratchWithBundledData()
    defer { try? FileManager.default.removeItem(at: folder) }
    let data = folder.appendingPathComponent("breast-cancer.csv").path
    let model = folder.appendingPathComponent("bc.model").path
    let train = try runSounder([
      "train", data, "-o", model, "--standardize", "--holdout", "0.2", "--epochs", "5", "--lr", "0.1",
    ])
    #expect(train.status == 0, "stderr: \(train.stderr)")
    #expect(train.stdout.hasPrefix("Training logistic loss on \(data): 569 rows × 30 features (dense)"))
    #expect(
      train.stdout.split(separator: "\n").filter { $0.hasPrefix("      ") }.count == 5,
      "one row per epoch:\n\(train.stdout)")
    #expect(train.stdout.contains("Metrics on validation rows: accuracy 0.9"))
    #expect(FileManager.default.fileExists(atPath: model))

    let predict = try runSounder(["predict", model, data])
    #expect(predict.status == 0, "stderr: \(predict.stderr)")
    let probabilities = predict.stdout.split(separator: "\n").compactMap { Float($0) }
    #expect(probabilities.count == 569 && probabilities.allSatisfy { $0 >= 0 && $0 <= 1 })

    let evaluate = try runSounder(["evaluate", model, data, "--json"])
    #expect(evaluate.status == 0, "stderr: \(evaluate.stderr)")
    let metrics = try #require(
      try JSONSerialization.jsonObject(with: Data(evaluate.stdout.utf8)) as? [String: Any])
    #expect((metrics["accuracy"] as? Double ?? 0) > 0.95)
  }

  @Test("regression on the diabetes data reports MSE and R²")
  func regression() throws {
    let folder = try scratchWithBundledData()
    defer { try? FileManager.default.removeItem(at: folder) }
    let result = try runSounder([
      "train", folder.appendingPathComponent("diabetes.csv").path, "-o",
      folder.appendingPathComponent("d.model").path,
      "--loss", "squared", "--algorithm", "gd", "--standardize", "--epochs", "500", "--lr", "0.3", "--json",
    ])
    #expect(result.status == 0, "stderr: \(result.stderr)")
    let last = try #require(result.stdout.split(separator: "\n").last)
    let summary = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
    let metrics = try #require(summary["metrics"] as? [String: Any])
    #expect((metrics["r2"] as? Double ?? 0) > 0.5, "R² should be about 0.52 on diabetes: \(metrics)")
  }

  @Test("bad input gives a clear message, a non-zero exit and no model file")
  func badInput() throws {
    let folder = try scratchWithBundledData()
    defer { try? FileManager.default.removeItem(at: folder) }
    let cancer = folder.appendingPathComponent("breast-cancer.csv").path
    let diabetes = folder.appendingPathComponent("diabetes.csv").path
    let model = folder.appendingPathComponent("m.model").path
    let cases: [([String], String)] = [
      (["train", cancer, "-o", model, "--epochs", "0"], "Error: epochs must be at least 1 (got 0)"),
      (
        ["train", cancer, "-o", model, "--lr", "nan"],
        "Error: the learning rate must be a finite number above 0 (got nan)"
      ),
      (
        ["train", diabetes, "-o", model],
        "Error: logistic loss: the labels take 214 distinct values in 442 rows, fewer than 5 rows a class"
      ),
      (
        ["train", folder.appendingPathComponent("missing.csv").path, "-o", model],
        "Error: \(folder.appendingPathComponent("missing.csv").path): open failed: No such file or directory"
      ),
      (
        ["train", cancer, "-o", model, "--algorithm", "gd", "--strategy", "hogwild"],
        "Error: gd is full-batch gradient descent"
      ),
    ]
    for (arguments, message) in cases {
      let result = try runSounder(arguments)
      #expect(result.status != 0, "should fail: \(arguments)")
      #expect(result.stderr.hasPrefix(message), "expected \"\(message)…\", got \"\(result.stderr)\"")
      #expect(!FileManager.default.fileExists(atPath: model), "no model may be written on failure")
    }
  }

  @Test("a model used on data with more features is refused")
  func featureMismatch() throws {
    let folder = try scratchWithBundledData()
    defer { try? FileManager.default.removeItem(at: folder) }
    let model = folder.appendingPathComponent("d.model").path
    let trained = try runSounder([
      "train", folder.appendingPathComponent("diabetes.csv").path, "-o", model, "--loss", "squared",
      "--epochs", "1", "--standardize",
    ])
    #expect(trained.status == 0, "stderr: \(trained.stderr)")
    let cancer = folder.appendingPathComponent("breast-cancer.csv").path
    let result = try runSounder(["evaluate", model, cancer])
    #expect(result.status == 1)
    #expect(result.stderr == "Error: \(cancer): the model was trained on 10 features but the data has 30\n")
    let notAModel = try runSounder(["predict", cancer, cancer])
    #expect(notAModel.stderr.hasPrefix("Error: \(cancer): not a Sounder model"))
  }
}

@Suite("sounder train divergence")
struct DivergenceTests {
  @Test("a diverging run stops, keeps the last good model and exits non-zero")
  func diverges() throws {
    let folder = try scratchWithBundledData()
    defer { try? FileManager.default.removeItem(at: folder) }
    let model = folder.appendingPathComponent("d.model").path
    let result = try runSounder([
      "train", folder.appendingPathComponent("diabetes.csv").path, "-o", model, "--loss", "squared",
      "--epochs", "50",
    ])
    #expect(result.status == 1)
    #expect(result.stderr.hasPrefix("Error: training diverged in epoch "), "got \(result.stderr)")
    #expect(result.stderr.contains("try a learning rate 10× smaller, --standardize"))
  }
}

@Suite("sounder train checkpoints")
struct CheckpointCommandTests {
  @Test("a run killed with SIGKILL mid-epoch resumes from its last checkpoint")
  func killAndResume() throws {
    let folder = try scratchWithBundledData()
    defer { try? FileManager.default.removeItem(at: folder) }
    let data = folder.appendingPathComponent("big.sds").path
    let generated = try runSounder([
      "generate", "--kind", "dense-classification", "--rows", "200000", "--features", "16", "-o", data,
    ])
    try #require(generated.status == 0, "generate failed: \(generated.stderr)")
    let model = folder.appendingPathComponent("m.model").path
    let arguments = [
      "train", data, "-o", model, "--epochs", "12", "--checkpoint-every", "1", "--strategy", "sync",
      "--algorithm",
      "minibatch", "--threads", "1",
    ]

    let binary = try #require(
      Bundle.main.executableURL?.deletingLastPathComponent().appendingPathComponent("sounder"))
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    let checkpoint = model + ".checkpoint"
    let deadline = Date().addingTimeInterval(60)
    while !FileManager.default.fileExists(atPath: checkpoint) && Date() < deadline { usleep(20_000) }
    usleep(150_000)  // well inside a later epoch
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
    #expect(process.terminationReason == .uncaughtSignal)
    try #require(FileManager.default.fileExists(atPath: checkpoint), "no checkpoint appeared")
    #expect(!FileManager.default.fileExists(atPath: model), "a killed run must not leave a model file")

    let resumed = try runSounder(arguments + ["--resume"])
    #expect(resumed.status == 0, "stderr: \(resumed.stderr)")
    let epochRows = resumed.stdout.split(separator: "\n").filter {
      $0.hasPrefix("      ") || $0.hasPrefix("     ")
    }
    #expect(epochRows.count == 12, "the resumed run should show all 12 epochs:\n\(resumed.stdout)")
    #expect(FileManager.default.fileExists(atPath: model))
    #expect(
      !FileManager.default.fileExists(atPath: checkpoint), "the finished model supersedes the checkpoint")
  }

  @Test("resume without a checkpoint says so")
  func resumeWithoutCheckpoint() throws {
    let folder = try scratchWithBundledData()
    defer { try? FileManager.default.removeItem(at: folder) }
    let model = folder.appendingPathComponent("m.model").path
    let result = try runSounder([
      "train", folder.appendingPathComponent("breast-cancer.csv").path, "-o", model, "--resume",
    ])
    #expect(result.status == 1)
    #expect(
      result.stderr == "Error: --resume: there is no checkpoint at \(model).checkpoint to carry on from\n")
  }
}
