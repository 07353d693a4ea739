import Foundation
import Testing

/// A scratch folder with copies of the bundled data.
func scratchWithBundledData() throws -> URL {
  let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
  let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
    "sounder-cli-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
  for name in ["diabetes.csv", "breast-cancer.csv", "iris.csv", "digits.csv"] {
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

    // Predictions are the training labels (0 and 1 here); --proba gives both classes' probabilities.
    let predict = try runSounder(["predict", model, data])
    #expect(predict.status == 0, "stderr: \(predict.stderr)")
    let labels = predict.stdout.split(separator: "\n")
    #expect(labels.count == 569 && Set(labels).isSubset(of: ["0", "1"]))
    let proba = try runSounder(["predict", model, data, "--proba"])
    let pairs = proba.stdout.split(separator: "\n").map { $0.split(separator: ",").compactMap { Float($0) } }
    #expect(pairs.count == 569 && pairs.allSatisfy { $0.count == 2 && abs($0[0] + $0[1] - 1) < 1e-6 })
    #expect(
      zip(pairs, labels).allSatisfy { ($0[1] >= 0.5) == ($1 == "1") },
      "P(class 1) ≥ ½ exactly where 1 is predicted")

    let evaluate = try runSounder(["evaluate", model, data, "--json"])
    #expect(evaluate.status == 0, "stderr: \(evaluate.stderr)")
    let metrics = try #require(
      try JSONSerialization.jsonObject(with: Data(evaluate.stdout.utf8)) as? [String: Any])
    #expect((metrics["accuracy"] as? Double ?? 0) > 0.95)
  }

  @Test("the README's L-BFGS example converges and says so; what it cannot take gets one line")
  func lbfgs() throws {
    let folder = try scratchWithBundledData()
    defer { try? FileManager.default.removeItem(at: folder) }
    let data = folder.appendingPathComponent("breast-cancer.csv").path
    let model = folder.appendingPathComponent("bc.model").path
    let train = try runSounder([
      "train", data, "--algorithm", "lbfgs", "--l2", "0.01", "--epochs", "100", "-o", model,
    ])
    #expect(train.status == 0, "stderr: \(train.stderr)")
    #expect(train.stdout.contains("Stopped: stopped early after epoch"), "\(train.stdout)")
    #expect(train.stdout.contains("Metrics on training rows: accuracy 0.98"), "\(train.stdout)")
    for (extra, reason) in [
      (["--loss", "hinge"], "L-BFGS needs a smooth loss"),
      (["--lr", "0.1"], "line search"), (["--strategy", "per-core"], "use strategy sync"),
    ] {
      let other = folder.appendingPathComponent("refused.model").path
      let refused = try runSounder(["train", data, "--algorithm", "lbfgs", "-o", other] + extra)
      #expect(refused.status == 1 && refused.stderr.contains(reason), "\(extra): \(refused.stderr)")
      #expect(!FileManager.default.fileExists(atPath: other))
    }
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

  @Test("with no options but --label-kind real, diabetes trains squared loss on standardised features")
  func regressionDefaults() throws {
    let folder = try scratchWithBundledData()
    defer { try? FileManager.default.removeItem(at: folder) }
    let data = folder.appendingPathComponent("diabetes.csv").path
    let result = try runSounder([
      "train", data, "-o", folder.appendingPathComponent("d.model").path, "--label-kind", "real", "--holdout",
      "0.2",
    ])
    #expect(result.status == 0, "stderr: \(result.stderr)")
    #expect(result.stdout.hasPrefix("Training squared loss on \(data)"), "\(result.stdout)")
    #expect(result.stdout.contains("Features: standardised: feature spreads differ"), "\(result.stdout)")
    let r2 = result.stdout.split(separator: "R² ").last.flatMap { Double($0.prefix { $0 != "\n" }) }
    #expect((r2 ?? 0) > 0.4, "validation R² \(String(describing: r2)) (0.444 measured)")
  }

  @Test(
    "large sparse data with no options: a rate from a trial, a held-out tenth that stops the run, said in the log and JSON"
  )
  func largeDefaults() throws {
    let folder = try scratchWithBundledData()
    defer { try? FileManager.default.removeItem(at: folder) }
    let data = folder.appendingPathComponent("words.sds").path
    // 30,000 rows × 40 values: 1.2 million stored values, past L-BFGS's 2²⁰.
    let generated = try runSounder([
      "generate", "--kind", "sparse-classification", "--rows", "30000", "--features", "5000", "--nnz-per-row",
      "40", "--seed", "5", "-o", data,
    ])
    #expect(generated.status == 0, "stderr: \(generated.stderr)")
    let model = folder.appendingPathComponent("w.model").path
    let train = try runSounder(["train", data, "-o", model])
    #expect(train.status == 0, "stderr: \(train.stderr)")
    for line in [
      "Algorithm: sgd: 1200000 stored values", "Schedule: adagrad",
      "the least held-out loss",
      "after one epoch on 13440 rows of rates 5, 2, 1, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005",
      "27000 rows trained, 3000 held out",
      "Stopping: at most 20 epochs, until the loss on a held-out tenth of the rows makes 5 epochs without a 0.1% fall",
      "Metrics on validation rows: accuracy 0.",
    ] {
      #expect(train.stdout.contains(line), "\(line) in\n\(train.stdout)")
    }
    let json = try runSounder(["train", data, "-o", model, "--json"])
    let finished = try #require(
      json.stdout.split(separator: "\n").compactMap {
        try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
      }.first { $0["event"] as? String == "finished" })
    #expect((finished["stopping"] as? String)?.contains("held-out tenth") == true, "\(finished)")
    let epochs = json.stdout.split(separator: "\n").filter { $0.contains(#""event":"epoch""#) }.count
    let kept = try #require(finished["modelEpoch"] as? Int)
    #expect(kept >= 1 && kept <= epochs && epochs <= 20, "model of epoch \(kept) of \(epochs)")
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
        ["train", cancer, "-o", model, "--epochs", "\(Int.max)"],
        "Error: epochs must be at most 1000000000 (got \(Int.max))"
      ),
      (
        ["train", cancer, "-o", model, "--algorithm", "minibatch", "--batch-size", "\(Int.max)"],
        "Error: the batch size must be at most 1000000000 (got \(Int.max))"
      ),
      (
        ["train", cancer, "-o", model, "--sync-every", "\(Int.max)"],
        "Error: sync-every must be at most 1000000000 (got \(Int.max))"
      ),
      (
        ["train", cancer, "-o", model, "--threads", "\(Int.max)"],
        "Error: threads must be at most 65536 (got \(Int.max))"
      ),
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
      // Raw diabetes features diverge at this step (the step chosen from the data does not).
      "--epochs", "50", "--no-standardize", "--lr", "0.01",
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
    let data = try generateRunningSizeData(in: folder, named: "big.sds")
    let model = folder.appendingPathComponent("m.model").path
    let arguments = [
      "train", data, "-o", model, "--epochs", "12", "--checkpoint-every", "1", "--strategy", "sync",
      "--algorithm",
      "minibatch", "--threads", "1",
    ]

    let process = try sounderProcess(arguments)
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

  @Test("the log reaches a pipe an epoch at a time, while the run goes on", arguments: [false, true])
  func logFlushedPerEpoch(json: Bool) throws {
    let folder = try scratchWithBundledData()
    defer { try? FileManager.default.removeItem(at: folder) }
    let data = try generateRunningSizeData(in: folder, named: "long.sds")
    let model = folder.appendingPathComponent("m.model").path
    // A million epochs of 200,000 rows: the run is still going when its first epoch's line arrives.
    let process = try sounderProcess(
      ["train", data, "-o", model, "--epochs", "1000000", "--threads", "1"] + (json ? ["--json"] : []))
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    let pid = process.processIdentifier
    // Should the line never come, the kill ends the reads below with end of file.
    DispatchQueue.global().asyncAfter(deadline: .now() + 60) { kill(pid, SIGKILL) }
    let firstEpoch = json ? "{\"event\":\"epoch\"" : "      1  "
    var received = ""
    while !received.contains(firstEpoch) {
      let chunk = output.fileHandleForReading.availableData
      if chunk.isEmpty { break }
      received += String(decoding: chunk, as: UTF8.self)
    }
    let runningWhenItCame = process.isRunning
    kill(pid, SIGKILL)
    process.waitUntilExit()
    #expect(received.contains(firstEpoch), "no epoch line before the run ended:\n\(received)")
    #expect(runningWhenItCame, "the first epoch's line came only at the end of the run")
    // A block-buffered standard output would have sent it in a full buffer of 4 KB or more.
    #expect(received.utf8.count < 4096, "the first epoch's line came in \(received.utf8.count) bytes")
    #expect(!FileManager.default.fileExists(atPath: model))
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

  @Test(
    "multiclass on named classes: predict prints the names, --proba the probabilities, evaluate the confusion"
  )
  func multiclassNamed() throws {
    let folder = try scratchWithBundledData()
    defer { try? FileManager.default.removeItem(at: folder) }
    let iris = folder.appendingPathComponent("iris.csv").path
    let model = folder.appendingPathComponent("iris.model").path
    let train = try runSounder([
      "train", iris, "-o", model, "--standardize", "--holdout", "0.2", "--epochs", "50", "--schedule",
      "adagrad",
      "--lr", "0.5",
    ])
    #expect(train.status == 0, "stderr: \(train.stderr)")
    #expect(
      train.stdout.contains("Multiclass: 3 classes (setosa, versicolor, virginica), softmax"),
      "\(train.stdout)")

    let predict = try runSounder(["predict", model, iris])
    #expect(predict.status == 0, "stderr: \(predict.stderr)")
    let names = predict.stdout.split(separator: "\n").map(String.init)
    #expect(names.count == 150 && Set(names).isSubset(of: ["setosa", "versicolor", "virginica"]))
    // The iris file lists 50 of each species in order: most predictions must agree.
    let truth = (0..<150).map { ["setosa", "versicolor", "virginica"][$0 / 50] }
    #expect(zip(names, truth).count { $0 == $1 } >= 135, "\(names)")

    let proba = try runSounder(["predict", model, iris, "--proba"])
    let rows = proba.stdout.split(separator: "\n").map { $0.split(separator: ",").compactMap { Double($0) } }
    #expect(rows.count == 150 && rows.allSatisfy { $0.count == 3 && abs($0.reduce(0, +) - 1) < 1e-5 })

    let evaluate = try runSounder(["evaluate", model, iris])
    #expect(evaluate.status == 0, "stderr: \(evaluate.stderr)")
    #expect(
      evaluate.stdout.contains("macro-F1") && evaluate.stdout.contains("true \\ predicted"),
      "\(evaluate.stdout)")
    let total = evaluate.stdout.split(separator: "\n").dropFirst(2).flatMap {
      $0.split(separator: " ").dropFirst().compactMap { Int($0) }
    }
    #expect(total.reduce(0, +) == 150, "the confusion matrix counts every row once: \(evaluate.stdout)")

    // A test file whose names number the classes differently: only two species, renumbered by name.
    let lines = try String(contentsOfFile: iris, encoding: .utf8).split(separator: "\n")
    let two = folder.appendingPathComponent("two.csv").path
    try (lines.prefix(1) + lines.dropFirst(51)).joined(separator: "\n").write(
      toFile: two, atomically: true, encoding: .utf8)
    let partial = try runSounder(["evaluate", model, two, "--json"])
    #expect(partial.status == 0, "stderr: \(partial.stderr)")
    let metrics = try #require(
      try JSONSerialization.jsonObject(with: Data(partial.stdout.utf8)) as? [String: Any])
    let confusion = try #require(metrics["confusion"] as? [[Int]])
    #expect(
      confusion[0].reduce(0, +) == 0 && confusion[1].reduce(0, +) == 50 && confusion[2].reduce(0, +) == 50)

    let unknown = folder.appendingPathComponent("unknown.csv").path
    try (lines.prefix(2) + ["5.0,3.0,1.5,0.2,tulip"]).joined(separator: "\n").write(
      toFile: unknown, atomically: true, encoding: .utf8)
    let refused = try runSounder(["evaluate", model, unknown])
    #expect(refused.status == 1)
    #expect(
      refused.stderr.hasPrefix(
        "Error: \(unknown): the class \"tulip\" is not one of the model's classes (setosa, versicolor, virginica)"
      ), "\(refused.stderr)")
  }

  @Test("multiclass on numbered classes, and --proba refused for a model without probabilities")
  func multiclassNumbered() throws {
    let folder = try scratchWithBundledData()
    defer { try? FileManager.default.removeItem(at: folder) }
    let digits = folder.appendingPathComponent("digits.csv").path
    let model = folder.appendingPathComponent("digits.model").path
    let train = try runSounder([
      "train", digits, "-o", model, "--holdout", "0.25", "--epochs", "10", "--schedule", "adagrad", "--lr",
      "0.1",
      "--standardize", "--json",
    ])
    #expect(train.status == 0, "stderr: \(train.stderr)")
    let last = try #require(train.stdout.split(separator: "\n").last)
    let summary = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
    let accuracy = try #require((summary["metrics"] as? [String: Any])?["accuracy"] as? Double)
    #expect(accuracy > 0.9, "digits validation accuracy \(accuracy)")
    let predicted = try runSounder(["predict", model, digits]).stdout.split(separator: "\n")
    #expect(predicted.count == 1797 && Set(predicted).isSubset(of: Set((0...9).map { "\($0)"[...] })))

    let cancer = folder.appendingPathComponent("breast-cancer.csv").path
    let binary = folder.appendingPathComponent("bc.model").path
    #expect(try runSounder(["train", cancer, "-o", binary, "--epochs", "1", "--loss", "hinge"]).status == 0)
    let proba = try runSounder(["predict", binary, cancer, "--proba"])
    #expect(proba.status == 1)
    #expect(
      proba.stderr.hasPrefix(
        "Error: --proba is for classifiers with probabilities; this is a one-output hinge model"
      ), "\(proba.stderr)")
  }

  @Test(
    "binary labels as given: any two values or names, kept in the model, predicted back for every loss",
    arguments: ["logistic", "hinge", "modified-huber"])
  func binaryLabelsAsGiven(loss: String) throws {
    let folder = try scratchWithBundledData()
    defer { try? FileManager.default.removeItem(at: folder) }
    // Two features, the class of a row the sign of their sum: 1/2 as numbers, ham/spam as names.
    var numbers = ""
    var names = "a,b,label\n"
    var state: UInt64 = 5
    for _ in 0..<300 {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      let a = Double(state >> 40 & 0xFFFF) / 32_768 - 1
      let b = Double(state >> 20 & 0xFFFF) / 32_768 - 1
      numbers += "\(a),\(b),\(a + b > 0 ? 2 : 1)\n"
      names += "\(a),\(b),\(a + b > 0 ? "spam" : "ham")\n"
    }
    for (file, text, expected) in [
      ("numbers.csv", numbers, ["1", "2"]), ("names.csv", names, ["ham", "spam"]),
    ] {
      let data = folder.appendingPathComponent(file).path
      try text.write(toFile: data, atomically: true, encoding: .utf8)
      let model = folder.appendingPathComponent(file + ".model").path
      let train = try runSounder(["train", data, "-o", model, "--loss", loss, "--epochs", "20"])
      #expect(train.status == 0, "\(train.stderr)")
      #expect(
        train.stdout.contains(
          "Binary: classes \(expected[0]) and \(expected[1]), \(expected[1]) the positive one"),
        "\(train.stdout)")
      let predicted = try runSounder(["predict", model, data]).stdout.split(separator: "\n").map(String.init)
      let truth = text.split(separator: "\n").dropFirst(file == "names.csv" ? 1 : 0).map {
        String($0.split(separator: ",")[2])
      }
      #expect(Set(predicted).isSubset(of: Set(expected)), "\(Set(predicted))")
      let right = zip(predicted, truth).filter { $0 == $1 }.count
      #expect(right >= 285, "\(loss) on \(file): \(right) of 300 predicted right")
      let evaluate = try runSounder(["evaluate", model, data])
      #expect(
        evaluate.status == 0 && evaluate.stdout.contains("accuracy 0.9"),
        "\(evaluate.stdout)\(evaluate.stderr)")
    }
    // A label the training data did not have is refused by evaluate, with the row.
    let other = folder.appendingPathComponent("other.csv").path
    try "0.5,0.5,3\n".write(toFile: other, atomically: true, encoding: .utf8)
    let refused = try runSounder(["evaluate", folder.appendingPathComponent("numbers.csv.model").path, other])
    #expect(refused.status == 1 && refused.stderr.contains("row 1 has the label 3"), "\(refused.stderr)")
  }

  @Test(
    "generate refuses sizes that overflow, 64-bit feature counts and datasets larger than the free space",
    arguments: [
      (["--rows", "\(Int.max)", "--features", "4"], "Error: \(Int.max) rows of 4 values is more than"),
      (["--rows", "10", "--features", "\(Int.max)"], "Error: --features must be at most 2147483647"),
      (["--rows", "100000000000", "--features", "1000"], "the dataset would take about"),
    ])
  func generateSizes(arguments: [String], message: String) throws {
    let folder = try scratchWithBundledData()
    defer { try? FileManager.default.removeItem(at: folder) }
    let output = folder.appendingPathComponent("big.sds").path
    let result = try runSounder(["generate", "--kind", "dense-classification", "-o", output] + arguments)
    #expect(result.status == 1)
    #expect(result.stderr.contains(message), "expected \"\(message)\", got \"\(result.stderr)\"")
    #expect(!FileManager.default.fileExists(atPath: output))
  }

  @Test("outputs: an input is never overwritten, links are followed, modes kept, devices written as streams")
  func safeOutputs() throws {
    let folder = try scratchWithBundledData()
    defer { try? FileManager.default.removeItem(at: folder) }
    let iris = folder.appendingPathComponent("iris.csv").path
    let original = try Data(contentsOf: URL(fileURLWithPath: iris))
    for arguments in [["convert", iris, "-o", iris], ["train", iris, "-o", iris, "--epochs", "1"]] {
      let result = try runSounder(arguments)
      #expect(result.status == 1)
      #expect(
        result.stderr.hasPrefix(
          "Error: \(iris): cannot write here: it is the same file as the input \(iris); write the output elsewhere"
        ),
        "\(result.stderr)")
      #expect(
        try Data(contentsOf: URL(fileURLWithPath: iris)) == original, "\(arguments[0]) changed its input")
    }

    let model = folder.appendingPathComponent("m.model").path
    #expect(try runSounder(["train", iris, "-o", model, "--epochs", "1"]).status == 0)
    let predictOverModel = try runSounder(["predict", model, iris, "-o", model])
    #expect(predictOverModel.status == 1 && predictOverModel.stderr.contains("the same file as the input"))

    // A model written over an existing one keeps its mode.
    try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: model)
    #expect(try runSounder(["train", iris, "-o", model, "--epochs", "2"]).status == 0)
    let mode = try FileManager.default.attributesOfItem(atPath: model)[.posixPermissions] as? Int
    #expect(mode == 0o600, "mode \(String(mode ?? 0, radix: 8))")

    // Through a symbolic link: the target is replaced, the link stays.
    let link = folder.appendingPathComponent("link.model").path
    try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: model)
    let before = try Data(contentsOf: URL(fileURLWithPath: model))
    #expect(try runSounder(["train", iris, "-o", link, "--epochs", "3"]).status == 0)
    #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == model)
    #expect(
      try Data(contentsOf: URL(fileURLWithPath: model)) != before, "the link's target was not rewritten")

    // A device is written as a stream and stays a device.
    let predict = try runSounder(["predict", model, iris, "-o", "/dev/null"])
    #expect(predict.status == 0, "\(predict.stderr)")
    let type = try FileManager.default.attributesOfItem(atPath: "/dev/null")[.type] as? FileAttributeType
    #expect(type == .typeCharacterSpecial, "/dev/null is now \(String(describing: type))")

    let refused = try runSounder(["train", iris, "-o", folder.path, "--epochs", "1"])
    #expect(refused.status == 1 && refused.stderr.contains("it is a folder"), "\(refused.stderr)")
  }

  @Test(
    "a run that diverges in its first epoch leaves an existing model; damaged sizes and missing folders are one line"
  )
  func divergenceAndDamage() throws {
    let folder = try scratchWithBundledData()
    defer { try? FileManager.default.removeItem(at: folder) }
    let diabetes = folder.appendingPathComponent("diabetes.csv").path
    let model = folder.appendingPathComponent("good.model").path
    let regression = ["--loss", "squared", "--label-kind", "real"]
    #expect(
      try runSounder(["train", diabetes, "-o", model, "--standardize", "--epochs", "1"] + regression).status
        == 0)
    let good = try Data(contentsOf: URL(fileURLWithPath: model))
    let diverged = try runSounder(
      ["train", diabetes, "-o", model, "--lr", "1000", "--schedule", "constant", "--epochs", "3"] + regression
    )
    #expect(diverged.status == 1)
    #expect(
      diverged.stderr.contains("no epoch finished, so no model was written; \(model) was left as it was"),
      "\(diverged.stderr)")
    #expect(try Data(contentsOf: URL(fileURLWithPath: model)) == good, "the good model was replaced")

    // A header whose weights offset is near 2^64: the sizes are checked, nothing overflows.
    var damaged = good
    damaged.replaceSubrange(24..<32, with: withUnsafeBytes(of: (UInt64.max - 7).littleEndian) { Array($0) })
    let bad = folder.appendingPathComponent("bad.model").path
    try damaged.write(to: URL(fileURLWithPath: bad))
    let evaluate = try runSounder(["evaluate", bad, diabetes] + regression.suffix(2))
    #expect(evaluate.status == 1)
    #expect(
      evaluate.stderr.hasPrefix("Error: \(bad): damaged model file: the header promises"),
      "\(evaluate.stderr)")

    // An output folder that does not exist is found before training, not after it.
    let missing = folder.appendingPathComponent("no/such/folder/m.model").path
    let early = try runSounder(["train", diabetes, "-o", missing, "--epochs", "500"] + regression)
    #expect(early.status == 1 && early.stderr.hasPrefix("Error: \(missing): open failed"), "\(early.stderr)")
    #expect(!early.stdout.contains("epoch"), "it trained before finding out: \(early.stdout)")
  }

  @Test(
    "a .sds whose column indices or row offsets are damaged is refused with one line by every command",
    arguments: [(2, 5, "column index"), (2, -1, "column index"), (1, 7, "row offset")])
  func damagedStructure(section: Int, damage: Int, message: String) throws {
    let folder = try scratchWithBundledData()
    defer { try? FileManager.default.removeItem(at: folder) }
    let path = folder.appendingPathComponent("sparse.sds").path
    let generated = try runSounder([
      "generate", "--kind", "sparse-classification", "--rows", "200", "--features", "50", "--nnz-per-row",
      "5", "-o",
      path,
    ])
    #expect(generated.status == 0, "\(generated.stderr)")
    var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    // The section table starts at byte 48, 24 bytes a section: offset, length, checksum.
    let start = Int(
      bytes[(48 + 24 * section)..<(56 + 24 * section)].withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
    if section == 2 {
      // Column index 3 of the file: the column count plus `damage` (5: past the model; −1: the last
      // column, which breaks the increasing order or hits the bias slot's neighbour).
      let value = Int32(50 + damage)
      bytes.replaceSubrange(
        (start + 12)..<(start + 16), with: withUnsafeBytes(of: value.littleEndian) { Array($0) })
    } else {
      // Row offset `damage` points far past the values.
      let value = Int64(1) << 40
      bytes.replaceSubrange(
        (start + 8 * damage)..<(start + 8 * damage + 8),
        with: withUnsafeBytes(of: value.littleEndian) { Array($0) })
    }
    try bytes.write(to: URL(fileURLWithPath: path))
    let model = folder.appendingPathComponent("m.model").path
    let text = folder.appendingPathComponent("back.svm").path
    let cancer = folder.appendingPathComponent("breast-cancer.csv").path
    #expect(try runSounder(["train", cancer, "-o", model, "--epochs", "1"]).status == 0)
    for arguments in [
      ["train", path, "-o", folder.appendingPathComponent("s.model").path, "--epochs", "1"],
      ["predict", model, path], ["convert", path, "-o", text],
    ] {
      let result = try runSounder(arguments)
      #expect(result.status == 1, "\(arguments[0]) exited \(result.status): \(result.stderr)")
      #expect(result.stderr.contains(message), "\(arguments[0]): \(result.stderr)")
      #expect(result.stderr.split(separator: "\n").count == 1, "more than one line: \(result.stderr)")
    }
    #expect(!FileManager.default.fileExists(atPath: text))
  }
}
