import Dataset
import Learning
import Parallel
import Topology

extension Trainer {
  /// AdaGrad's base rates the trial tries, largest first: 1, 2, 5 steps
  /// over three decades (on `sounder generate`'s 50,000 × 5,000 sparse set
  /// 2 beat 1: test log-loss 0.168 against 0.182).
  static let adaGradRates: [Float] = [5, 2, 1, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005]
  /// Rows the trial trains on, at most, and as many it validates on.
  static let trialRows = 16_384
  /// Neighbouring rows the trial takes together.
  static let trialRun = 64
  /// Trial rows below which there is no trial (AdaGrad then takes 0.5):
  /// it needs twice as many training rows, half to validate on.
  static let fewestTrialRows = 256

  /// The learning rate when the configuration leaves it to the data, and why.
  ///
  /// The global schedules take a bound from the rows' norms
  /// (``boundedRate(for:configuration:)``). AdaGrad's per-feature steps
  /// need no such bound, but how far one row's step moves its margin still
  /// grows with the row's values, and no fixed rate fits every data set:
  /// on the defaults panel's sparse set 0.5 reached test accuracy 0.7524
  /// after 10 epochs where 0.05 reached 0.7632 (1 epoch: 0.7492 against
  /// 0.7614). So the rate is chosen as Bottou advises ("Stochastic Gradient
  /// Descent Tricks", 2012): one epoch on a sample of the training rows
  /// for each of ``adaGradRates``, each scored on as many other training
  /// rows (evenly spaced, so sorted files give a fair sample), and the rate
  /// of the least held-out loss is kept. With up to 16,384 rows each, the
  /// trial is ten epochs of at most 16,384 rows: a small share of a run
  /// on data large enough to want SGD, and never more rows than the run
  /// plans to read (else, and for a fit that starts from a model, 0.5).
  func automaticRate(
    _ rows: CheckedRows, data: TrainingSet, configuration: TrainingConfiguration, machine: Topology,
    startsFromModel: Bool
  ) throws -> (value: Float, reason: String) {
    guard configuration.optimizer.schedule == .adagrad, configuration.optimizer.algorithm != .lbfgs else {
      return try Self.boundedRate(for: data, configuration: configuration)
    }
    // A trial from zeros says little of steps from a model, and each batch
    // of a stream would get a rate of its own.
    guard !startsFromModel else { return (0.5, "a fit that starts from a model: AdaGrad's 0.5 unless given") }
    // Every process tries the same rates on rows it holds; when each has
    // rows of its own, the held-out losses are summed over them.
    let candidates = data.everywhere == nil ? data.allTraining : data.training
    let count = min(Self.trialRows, candidates.count / 2)
    let fewest = try data.everywhere.map { -(try $0.allReduceMax(-count)) } ?? count
    guard fewest >= Self.fewestTrialRows else {
      let whose = data.everywhere == nil ? "" : " (the process with the fewest)"
      return (0.5, "\(2 * fewest) training rows\(whose) are too few for a trial of rates: 0.5")
    }
    // The trial never reads more rows than the run plans to: a fit of one
    // pass over a batch (a stream's step) keeps AdaGrad's 0.5 from its first
    // batch on, as those that start from its model do.
    let trialReads = Self.adaGradRates.count * 2 * fewest * (data.everywhere?.processes ?? 1)
    let plannedReads = (configuration.stopping.epochs ?? 1) * data.trainingRowsEverywhere
    guard trialReads <= plannedReads else {
      return (
        0.5,
        "a trial of rates would read \(trialReads) rows, more than the \(plannedReads) the run plans to: 0.5"
      )
    }
    let (training, validation) = Self.trialSample(of: candidates, rows: count)
    let sample = data.sample(training: training, validation: validation)
    var trial = self
    trial.configuration = configuration
    trial.reducer = InProcess()
    trial.rowsPerProcess = false
    trial.stopRequest = nil
    trial.configuration.optimizer.learningRate = nil
    trial.configuration.stopping.epochs = 1
    trial.configuration.stopping.tolerance = nil
    trial.configuration.stopping.targetLoss = nil
    trial.configuration.stopping.holdoutFraction = nil
    // One worker: an epoch of the sample is shorter than waking a team.
    trial.configuration.execution.threads = 1
    trial.configuration.execution.partitions = nil
    trial.configuration.execution.strategy = .auto
    var losses: [Double] = []
    for rate in Self.adaGradRates {
      trial.configuration.optimizer.learningRate = rate
      let result = try trial.train(sample, rows: rows, machine: machine)
      let loss = result.history.last?.validationLoss
      losses.append(loss.map { $0.isFinite ? $0 : .infinity } ?? .infinity)
    }
    losses = try TrainingSet.summed(losses, over: data.everywhere)
    let best = losses.indices.min { losses[$0] < losses[$1] }!
    guard losses[best].isFinite else {
      return (0.5, "no rate of the trial kept a finite loss: 0.5")
    }
    let tried = Self.adaGradRates.map { printed(Double($0), "%g") }.joined(separator: ", ")
    return (
      Self.adaGradRates[best],
      "the least held-out loss (\(printed(losses[best] / Double(data.everywhere?.processes ?? 1), "%.4g"))) after one epoch on \(training.count) rows\(data.everywhere == nil ? "" : " (this process's)") of rates \(tried)"
    )
  }

  /// The trial's rows from `candidates` (ascending): up to `rows` to train
  /// on and as many to validate on, in runs of ``trialRun`` neighbours
  /// (whole cache lines and pages, where single rows would each cost a
  /// miss) at evenly spaced places from the first candidate to the last;
  /// the first run of each pair trains and the second validates.
  static func trialSample(of candidates: [Int32], rows: Int) -> (training: [Int32], validation: [Int32]) {
    precondition(2 * rows <= candidates.count, "two rows of the candidates for each trial row")
    let run = min(trialRun, rows)
    let pairs = rows / run
    var training: [Int32] = []
    var validation: [Int32] = []
    for k in 0..<pairs {
      let start = k * (candidates.count - 2 * run) / max(pairs - 1, 1)
      training += candidates[start..<start + run]
      validation += candidates[start + run..<start + 2 * run]
    }
    return (training, validation)
  }
}
