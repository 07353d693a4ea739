import Dataset
import Foundation
import Learning
import Testing
import Topology

@testable import Engine

/// A configuration for the engine tests.
func configuration(
  _ loss: Loss, _ strategy: UpdateStrategy, _ algorithm: Algorithm, epochs: Int = 10, threads: Int? = nil,
  rate: Float = 0.05
) -> TrainingConfiguration {
  var configuration = TrainingConfiguration()
  configuration.problem.loss = loss
  configuration.execution.strategy = strategy
  configuration.optimizer.algorithm = algorithm
  configuration.stopping.epochs = epochs
  configuration.execution.threads = threads
  configuration.optimizer.learningRate = rate
  configuration.optimizer.schedule = .constant
  // No penalty unless a test sets one (not one chosen from the data).
  configuration.problem.l2 = 0
  // These tests hold training losses against optima: the exact loss of each epoch's model.
  configuration.stopping.exactLoss = true
  return configuration
}

@Suite("Trainer", .serialized)
struct TrainerTests {
  static let dense = TestRows(rows: 4_000, columns: 16, classification: true)
  static let sparse = TestRows(rows: 4_000, columns: 500, sparse: 10, classification: true)

  @Test("sync gd with 1 and 2 threads agree, and reruns are bitwise identical")
  func syncIsReproducible() throws {
    var setup = configuration(.logistic, .sync, .gd, epochs: 30, threads: 1, rate: 0.5)
    let one = try Trainer(setup).fit(Self.dense.block)
    let again = try Trainer(setup).fit(Self.dense.block)
    #expect(one.model.weights == again.model.weights && one.model.bias == again.model.bias)
    setup.execution.threads = 2
    let two = try Trainer(setup).fit(Self.dense.block)
    let againTwo = try Trainer(setup).fit(Self.dense.block)
    #expect(
      two.model.weights == againTwo.model.weights, "same seed and thread count must be bitwise identical")
    for (a, b) in zip(one.model.weights, two.model.weights) {
      #expect(abs(a - b) <= 1e-5 * max(abs(a), 1e-3), "1 and 2 threads differ: \(a) vs \(b)")
    }
  }

  @Test("hogwild with one thread is deterministic")
  func hogwildOneThread() throws {
    let setup = configuration(.logistic, .hogwild, .sgd, epochs: 3, threads: 1)
    let first = try Trainer(setup).fit(Self.dense.block)
    let second = try Trainer(setup).fit(Self.dense.block)
    #expect(first.model == second.model)
  }

  /// Noisy labels and a little L2: a unique, finite optimum to converge to.
  static let noisyDense = TestRows(rows: 4_000, columns: 16, classification: true, noise: 1)
  static let noisySparse = TestRows(rows: 4_000, columns: 500, sparse: 10, classification: true, noise: 0.3)
  static let lambda: Float = 1e-3

  /// The regularised optimum's loss, dense and sparse, from 1-thread sync
  /// gradient descent run to convergence, and its last epoch's relative change.
  static let optimum: [Bool: (loss: Double, change: Double)] = Dictionary(
    uniqueKeysWithValues: [false, true].map { sparse in
      var setup = configuration(
        .logistic, .sync, .gd, epochs: sparse ? 2_000 : 300, threads: 1, rate: sparse ? 4 : 2)
      setup.problem.l2 = lambda
      let rows = sparse ? noisySparse.block : noisyDense.block
      let history = try! Trainer(setup).fit(rows).history
      let (last, previous) = (
        history[history.count - 1].trainingLoss, history[history.count - 2].trainingLoss
      )
      return (sparse, (last, abs(previous - last) / last))
    })

  @Test(
    "every strategy reaches the 1-thread sync loss within 1%",
    arguments: [UpdateStrategy.hogwild, .perNode, .perCore], [false, true])
  func strategiesConverge(strategy: UpdateStrategy, sparse: Bool) throws {
    let rows = sparse ? Self.noisySparse.block : Self.noisyDense.block
    let optimum = try #require(Self.optimum[sparse])
    #expect(optimum.change < 1e-6, "the reference run has not converged")
    let reference = optimum.loss
    // Two workers whatever the machine, so the claim is the same on every CI host.
    var setup = configuration(.logistic, strategy, .sgd, epochs: 40, threads: 2, rate: sparse ? 1 : 0.1)
    setup.problem.l2 = Self.lambda
    setup.optimizer.schedule = .optimal
    // "Reaches": the best of the last five epochs, in the first of up to three runs
    // (seeds 1, 2, 3) that gets there. Hogwild!'s racy writes make each run's path
    // depend on the OS scheduler: on a loaded machine a preempted worker can write
    // back stale weights. A strategy that is wrong misses in every run; a run that
    // needed a retry is printed, so the log shows how often that happens.
    var misses: [String] = []
    for seed in UInt64(1)...3 {
      setup.execution.seed = seed
      let result = try Trainer(setup).fit(rows)
      let loss = result.history.suffix(5).map(\.trainingLoss).min() ?? .infinity
      if loss <= reference * 1.01 {
        if !misses.isEmpty {
          print(
            "note: \(strategy.rawValue) (sparse: \(sparse)) reached \(loss) with seed \(seed) after: \(misses)"
          )
        }
        return
      }
      let path = result.history.map { String(format: "%.4f", $0.trainingLoss) }.joined(separator: " ")
      let seconds = result.workers.map {
        String(format: "%.3f/%.3f", $0.counts.computeSeconds, $0.counts.waitSeconds)
      }
      misses.append(
        "seed \(seed): \(loss) (\(result.stopReason); compute/wait s per worker \(seconds); losses \(path))")
    }
    Issue.record("\(strategy.rawValue) missed 1-thread sync \(reference) + 1% in every run: \(misses)")
  }

  @Test("minibatch under sync and per-core converges")
  func minibatch() throws {
    for strategy in [UpdateStrategy.sync, .perCore] {
      var setup = configuration(.squared, strategy, .minibatch, epochs: 30, rate: 0.1)
      setup.optimizer.batchSize = 32
      let regression = TestRows(rows: 2_000, columns: 8, classification: false, noise: 0.01)
      let result = try Trainer(setup).fit(regression.block)
      let loss = result.history.last!.trainingLoss
      #expect(
        loss < 0.001, "\(strategy.rawValue) minibatch squared loss \(loss) should be near the noise floor")
      for (w, t) in zip(result.model.weights, regression.truth) { #expect(abs(w - t) < 0.02) }
      #expect(abs(result.model.bias - 0.5) < 0.02)
    }
  }

  @Test("mini-batch on a shared replica applies the penalty once per update, not once per row")
  func minibatchPenaltyOncePerUpdate() throws {
    // The repro of the bug: λ was applied for every row of a batch while the loss stepped once,
    // so the run minimised the objective with 64 λ (0.662 where the optimum is 0.2408).
    let rows = TestRows(rows: 4_000, columns: 16, classification: true, noise: 1)
    var setup = configuration(.logistic, .hogwild, .minibatch, epochs: 30, threads: 1, rate: 0.5)
    setup.optimizer.batchSize = 64
    setup.problem.l2 = 0.01
    let model = try Trainer(setup).fit(rows.block).model
    let problem = OracleProblem(
      features: (0..<rows.block.count).map { rows.block.denseRow($0).map(Double.init) },
      labels: (0..<rows.block.count).map { rows.block.label($0) > 0 ? 1 : -1 }, loss: .logistic, l2: 0.01)
    let optimum = Oracle.solve(problem).objective
    let reached = Oracle.objective(
      problem, weights: model.weights.map { [Double($0)] }, bias: [Double(model.bias)])
    #expect(reached <= optimum * 1.01, "objective \(reached) against the optimum \(optimum)")
  }

  @Test(
    "two per-core replicas of sparse rows add up their changes and lose no epochs to one shared model",
    arguments: [ScheduleKind.constant, .inverseScaling, .adagrad])
  func sparseReplicasAddChanges(schedule: ScheduleKind) throws {
    var setup = configuration(.logistic, .hogwild, .sgd, epochs: 3, threads: 1, rate: 0.5)
    setup.optimizer.schedule = schedule
    let rows = AdaGradTrainingTests.words.block
    let shared = try Trainer(setup).fit(rows).history.map(\.trainingLoss)
    setup.execution.strategy = .perCore
    setup.execution.threads = 2
    setup.execution.syncEvery = 1_000
    let replicated = try Trainer(setup).fit(rows).history.map(\.trainingLoss)
    for (epoch, (one, two)) in zip(shared, replicated).enumerated() {
      // Measured: within 4% in the first epoch under a constant rate of 0.5, below from the
      // second. Averaging the replicas instead halves each rare feature's update: under
      // AdaGrad it measured 0.273 after 3 epochs against one shared model's 0.231.
      let allowed = epoch == shared.count - 1 ? 1.01 : 1.05
      #expect(
        two <= one * allowed, "\(schedule), epoch \(epoch + 1): two replicas \(two), one shared model \(one)")
    }
  }

  @Test("auto picks per-core for dense and for sparse data while the replicas are small")
  func autoChoice() throws {
    let dense = try Trainer(configuration(.logistic, .auto, .sgd, epochs: 1, threads: 2)).fit(
      Self.dense.block)
    #expect(dense.strategy.strategy == .perCore, "\(dense.strategy.reason)")
    let sparse = try Trainer(configuration(.logistic, .auto, .sgd, epochs: 1, threads: 2)).fit(
      Self.sparse.block)
    #expect(sparse.strategy.strategy == .perCore, "\(sparse.strategy.reason)")
    let gd = try Trainer(configuration(.logistic, .auto, .gd, epochs: 1)).fit(Self.sparse.block)
    #expect(gd.strategy.strategy == .sync)
  }

  @Test("holdout rows are left out of training and reported")
  func holdout() throws {
    var setup = configuration(.logistic, .perCore, .sgd, epochs: 3)
    setup.stopping.holdoutFraction = 0.2
    let result = try Trainer(setup).fit(Self.dense.block)
    #expect(result.validationRows == 800 && result.trainingRows == 3_200)
    let accuracy = try #require(result.history.last?.validationMetric)
    #expect(
      accuracy > 0.9, "a nearly separable problem should be >90% accurate on held-out rows, got \(accuracy)")
  }

  @Test("early stopping ends training once the loss stops improving")
  func earlyStopping() throws {
    var setup = configuration(.logistic, .sync, .gd, epochs: 500, threads: 1, rate: 1)
    setup.stopping.tolerance = 1e-3
    setup.stopping.iterationsWithoutChange = 3
    let result = try Trainer(setup).fit(Self.dense.block)
    guard case .converged(let epoch) = result.stopReason else {
      Issue.record("expected early stopping, got \(result.stopReason)")
      return
    }
    #expect(epoch < 500 && result.history.count == epoch)
  }

  @Test("a learning rate that blows up stops with the last good model")
  func divergence() throws {
    let regression = TestRows(rows: 500, columns: 8, classification: false)
    let result = try Trainer(configuration(.squared, .sync, .gd, epochs: 200, threads: 1, rate: 50)).fit(
      regression.block)
    guard case .diverged(let epoch, _) = result.stopReason else {
      Issue.record("expected divergence, got \(result.stopReason)")
      return
    }
    #expect(result.history.count == epoch - 1)
    #expect(result.model.weights.allSatisfy { $0.isFinite })
    #expect(result.stopReason.description.contains("try a learning rate 10× smaller"))
  }

  @Test("standardised training folds the scaling back into raw weights")
  func standardize() throws {
    let regression = TestRows(rows: 2_000, columns: 4, classification: false, noise: 0.01)
    var setup = configuration(.squared, .sync, .gd, epochs: 300, threads: 1, rate: 0.5)
    setup.problem.standardize = true
    let result = try Trainer(setup).fit(regression.block)
    for (w, t) in zip(result.model.weights, regression.truth) {
      #expect(abs(w - t) < 0.01, "\(w) vs truth \(t)")
    }
    #expect(abs(result.model.bias - 0.5) < 0.01)
  }

  @Test(
    "bad configurations and labels are refused with a clear message",
    arguments: [
      (
        {
          var c = configuration(.logistic, .sync, .sgd)
          c.stopping.epochs = 1
          return c
        }(),
        "strategy sync combines gradients at barriers; use algorithm gd or minibatch with it, not sgd"
      ),
      (
        {
          var c = configuration(.logistic, .hogwild, .gd)
          c.stopping.epochs = 1
          return c
        }(),
        "gd is full-batch gradient descent, whose workers combine at barriers: use strategy sync (or auto), not hogwild"
      ),
      (
        {
          var c = configuration(.logistic, .auto, .sgd)
          c.stopping.epochs = 0
          return c
        }(), "epochs must be at least 1 (got 0)"
      ),
      (
        {
          var c = configuration(.logistic, .auto, .sgd)
          c.optimizer.learningRate = .nan
          return c
        }(),
        "the learning rate must be a finite number above 0 (got nan)"
      ),
      (
        {
          var c = configuration(.logistic, .auto, .sgd)
          c.optimizer.schedule = .optimal
          return c
        }(),
        "the optimal schedule η₀/(1 + η₀λt) needs an L2 strength above 0 (one chosen from the data may be 0); set l2 or use another schedule"
      ),
      (
        {
          var c = configuration(.logistic, .auto, .sgd)
          c.stopping.tolerance = -1
          return c
        }(), "the tolerance must be a finite number of 0 or more (got -1.0)"
      ),
      (
        {
          var c = configuration(.logistic, .auto, .sgd)
          c.stopping.targetLoss = -0.5
          return c
        }(), "the target loss must be a finite number of 0 or more (got -0.5)"
      ),
      (
        {
          var c = configuration(.logistic, .auto, .sgd)
          c.stopping.holdoutFraction = 0.00001
          return c
        }(), "a holdout of 1e-05 holds out no row of the 4000; use at least 0.00025 (one row)"
      ),
    ])
  func badConfiguration(setup: TrainingConfiguration, message: String) {
    let error = #expect(throws: TrainingError.self) { try Trainer(setup).fit(Self.dense.block) }
    #expect(error?.description == message)
  }

  @Test("real-valued labels for a classifier are refused")
  func realLabelsForClassifier() {
    let regression = TestRows(rows: 50, columns: 2, classification: false)
    let error = #expect(throws: TrainingError.self) {
      try Trainer(configuration(.logistic, .auto, .sgd, epochs: 1)).fit(regression.block)
    }
    #expect(
      error?.description.hasPrefix("logistic loss: the labels take 50 distinct values in 50 rows") == true
    )
  }

  @Test("the progressive loss of full-batch gd is the exact loss of the model each epoch started from")
  func progressiveLossOfGD() throws {
    var setup = configuration(.logistic, .sync, .gd, epochs: 6, threads: 2, rate: 1)
    let exact = try Trainer(setup).fit(TrainerTests.noisyDense.block).history.map(\.trainingLoss)
    setup.stopping.exactLoss = false
    let progressive = try Trainer(setup).fit(TrainerTests.noisyDense.block).history.map(\.trainingLoss)
    #expect(
      abs(progressive[0] - log(2)) < 1e-6, "epoch 1 starts from zero weights: log 2, found \(progressive[0])")
    for epoch in 1..<6 {
      #expect(
        abs(progressive[epoch] - exact[epoch - 1]) <= 1e-5 * exact[epoch - 1],
        "epoch \(epoch + 1): progressive \(progressive[epoch]), exact after epoch \(epoch) \(exact[epoch - 1])"
      )
    }
  }

  @Test(
    "every loop tallies each row's loss at its step: with steps too small to move the model it is the exact loss",
    arguments: [UpdateStrategy.hogwild, .perCore, .sync], [Algorithm.sgd, .minibatch])
  func progressiveLossTallies(strategy: UpdateStrategy, algorithm: Algorithm) throws {
    guard !(strategy == .sync && algorithm == .sgd) else { return }
    for schedule in [ScheduleKind.constant, .adagrad] {
      var setup = configuration(.logistic, strategy, algorithm, epochs: 3, threads: 2, rate: 1e-30)
      setup.optimizer.schedule = schedule
      setup.stopping.exactLoss = false
      for report in try Trainer(setup).fit(TrainerTests.noisySparse.block).history {
        // The model stays at zero: every row's loss is log 2.
        #expect(
          abs(report.trainingLoss - log(2)) < 1e-6,
          "\(schedule), epoch \(report.epoch): \(report.trainingLoss)")
      }
    }
    var diverging = configuration(.squared, strategy, algorithm, epochs: 5, threads: 2, rate: 1e4)
    diverging.stopping.exactLoss = false
    let result = try Trainer(diverging).fit(TrainerTests.noisyDense.block)
    guard case .diverged = result.stopReason else {
      Issue.record("a rate of 10⁴ on squared loss did not diverge: \(result.stopReason)")
      return
    }
  }
}

@Suite("Checkpoints")
struct CheckpointTests {
  @Test("a sync run resumed from a checkpoint is bitwise the same as one that never stopped")
  func resumeIsExact() throws {
    let rows = TrainerTests.dense.block
    var setup = configuration(.logistic, .sync, .minibatch, epochs: 6, threads: 2, rate: 0.1)
    setup.optimizer.batchSize = 64
    let whole = try Trainer(setup).fit(rows)
    var saved: [Checkpoint] = []
    _ = try Trainer(setup).fit(rows, checkpointEvery: 2, checkpoint: { saved.append($0) })
    #expect(saved.map(\.epoch) == [2, 4, 6])
    let resumed = try Trainer(setup).fit(rows, resuming: saved[0])
    #expect(resumed.model == whole.model)
    #expect(resumed.history.map(\.trainingLoss) == whole.history.map(\.trainingLoss))
  }

  @Test("a checkpoint survives a trip through a file and refuses other settings")
  func checkpointFile() throws {
    let rows = TrainerTests.dense.block
    let setup = configuration(.logistic, .hogwild, .sgd, epochs: 2, threads: 1)
    var saved: Checkpoint?
    _ = try Trainer(setup).fit(rows, checkpointEvery: 1, checkpoint: { saved = $0 })
    let checkpoint = try #require(saved)
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try ModelFile.write(checkpoint, to: path)
    #expect(try ModelFile.readCheckpoint(path) == checkpoint)
    var other = setup
    other.optimizer.learningRate = 0.5
    #expect(throws: TrainingError.self) { try Trainer(other).fit(rows, resuming: checkpoint) }
    // Other data of the same width and length is refused too.
    let otherRows = TestRows(rows: 4_000, columns: 16, classification: true, seed: 99)
    let error = #expect(throws: TrainingError.self) {
      try Trainer(setup).fit(otherRows.block, resuming: checkpoint)
    }
    #expect(
      error?.description.hasPrefix("the checkpoint was made on other data (4000 rows × 16 columns") == true)
    #expect(error?.description.hasSuffix("; resume on the same data") == true, "\(error?.description ?? "")")
  }
}

@Suite("Class weights")
struct ClassWeightTests {
  @Test("balanced class weights raise recall on a rare class")
  func balanced() throws {
    // About 10% positives: the margin threshold sits far on the positive side.
    let rows = TestRows(rows: 4_000, columns: 8, classification: true, noise: 1, seed: 11, offset: -2.5)
    var setup = configuration(.logistic, .sync, .gd, epochs: 200, threads: 1, rate: 1)
    let plain = try Trainer(setup).fit(rows.block).model.evaluate(rows.block)
    setup.problem.classWeight = .balanced
    let balanced = try Trainer(setup).fit(rows.block).model.evaluate(rows.block)
    let plainRecall = try #require(plain.recall)
    let balancedRecall = try #require(balanced.recall)
    #expect(balancedRecall > plainRecall + 0.05, "recall \(plainRecall) → \(balancedRecall)")
  }

  @Test("a configuration is encoded flat, as files before its parts hold it, and reads back")
  func configurationEncoding() throws {
    // As the previous release wrote it into model files and checkpoints (no multiclass key).
    let old =
      #"{"algorithm":"minibatch","batchSize":64,"dataPlacement":"as-loaded","dataReplication":"shard","epochs":7,"fitIntercept":false,"iterationsWithoutChange":5,"l1":0,"l2":0.001,"learningRate":0.5,"loss":"hinge","placement":"spread","power":0.25,"schedule":"constant","seed":3,"standardize":true,"strategy":"per-core","threads":2}"#
    let decoded = try JSONDecoder().decode(TrainingConfiguration.self, from: Data(old.utf8))
    #expect(decoded.problem.loss == .hinge && decoded.problem.l2 == 0.001 && !decoded.problem.fitIntercept)
    #expect(decoded.problem.standardize == true && decoded.problem.multiclass == nil)
    #expect(decoded.optimizer.algorithm == .minibatch && decoded.optimizer.batchSize == 64)
    #expect(
      decoded.execution.strategy == .perCore && decoded.execution.threads == 2 && decoded.execution.seed == 3)
    #expect(decoded.stopping.epochs == 7 && decoded.stopping.holdoutFraction == nil)
    var setup = decoded
    setup.problem.multiclass = .ovr
    setup.stopping.targetLoss = 0.25
    let encoded = try JSONEncoder().encode(setup)
    let keys = try #require(try JSONSerialization.jsonObject(with: encoded) as? [String: Any]).keys
    #expect(
      Set(keys).isSuperset(of: ["loss", "multiclass", "epochs", "targetLoss", "strategy", "learningRate"]))
    #expect(try JSONDecoder().decode(TrainingConfiguration.self, from: encoded) == setup)
  }
}
