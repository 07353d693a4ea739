import Dataset
import Learning
import Topology

extension Trainer {
  /// The L2 strengths cross-validation tries: 1 down to 10⁻⁶ in half
  /// decades, strongest first (each fold's fits start from the previous
  /// strength's model, and the strongest converges fastest). The optimum
  /// of squared loss moves with the labels' scale and its penalty alike,
  /// so one grid serves every scale of labels (features are standardised).
  static let penaltyGrid: [Float] = [
    1, 3.162_277_7e-1, 1e-1, 3.162_277_7e-2, 1e-2, 3.162_277_7e-3, 1e-3, 3.162_277_7e-4, 1e-4, 3.162_277_7e-5,
    1e-5,
    3.162_277_7e-6, 1e-6,
  ]
  /// Folds of the cross-validation.
  static let penaltyFolds = 5

  /// The L2 strength when the configuration leaves it open, and why.
  ///
  /// For the full-batch methods (`lbfgs`, which `auto` picks on small data,
  /// and `gd`) on small data (``smallData``) it is chosen by 5-fold
  /// cross-validation:
  /// for each of the 13 strengths of ``penaltyGrid``, L-BFGS to the optimum on four
  /// fifths of the rows (not held out), the loss measured on the fifth, and
  /// the strength of the least mean validation loss is kept. The exact
  /// optimum of the objective it chooses is what the run then minimises,
  /// whatever its algorithm. On the defaults panel it took test log-loss
  /// from 0.165 to 0.029 on iris and from 0.042 to 0.018 on wine, where the
  /// unpenalised optimum is near separation. Large data gets no penalty: with
  /// hundreds of thousands of rows the strengths 0 to 10⁻⁴ moved the panel's
  /// test accuracy by at most 0.00003. The stochastic methods (asked for on
  /// small data: their last iterate is no optimum to score), hinge loss,
  /// which L-BFGS cannot fit, and a fit that starts from a model (one batch
  /// of a stream) get none either.
  func automaticL2(
    _ rows: CheckedRows, data: TrainingSet, configuration: TrainingConfiguration, machine: Topology,
    startsFromModel: Bool
  ) throws -> (value: Float, reason: String) {
    let values = data.nonZerosEverywhere
    let folds = Self.penaltyFolds
    guard values <= Self.smallData else {
      return (0, "large data (\(values) stored values): none, which costs no test quality at this size")
    }
    let algorithm = configuration.optimizer.algorithm
    guard algorithm == .lbfgs || algorithm == .gd else {
      return (
        0,
        "\(algorithm.rawValue): none unless given (cross-validation serves lbfgs and gd, which reach the optimum it scores)"
      )
    }
    guard !startsFromModel else { return (0, "a fit that starts from a model: none unless given") }
    guard data.loss != .hinge else {
      return (
        0, "hinge loss: none unless given (cross-validation fits with L-BFGS, which hinge's kink defeats)"
      )
    }
    guard data.trainingRowsEverywhere >= 4 * folds else {
      return (0, "\(data.trainingRowsEverywhere) training rows are too few to cross-validate: none")
    }
    // Every process cross-validates on rows it holds (the same rows when
    // every process maps them all); when each has rows of its own, the
    // folds' validation losses are summed over them.
    let candidates = data.everywhere == nil ? data.allTraining : data.training
    var fitter = self
    fitter.configuration = configuration
    fitter.reducer = InProcess()
    fitter.rowsPerProcess = false
    fitter.stopRequest = nil
    fitter.configuration.optimizer.algorithm = .lbfgs
    fitter.configuration.optimizer.schedule = nil
    fitter.configuration.optimizer.learningRate = nil
    fitter.configuration.optimizer.warmStartEpochs = 0
    if fitter.configuration.execution.strategy != .sync { fitter.configuration.execution.strategy = .auto }
    // Each fit starts from the last strength's model: caps of 20 and 40
    // iterations chose as 100 did on breast-cancer, digits and iris (digits'
    // whole run 1.87 s at 100, 1.12 s at 40, 0.51 s at 20).
    fitter.configuration.stopping.epochs = 30
    // A pass over fewer values than this is shorter than waking a second
    // worker: `sounder train` on breast-cancer took 0.81 s with --threads 2
    // and 0.13 s with --threads 1, nearly all of it the search.
    if configuration.execution.threads == nil, values < 1 << 17 { fitter.configuration.execution.threads = 1 }
    fitter.configuration.stopping.tolerance = nil
    fitter.configuration.stopping.targetLoss = nil
    fitter.configuration.stopping.holdoutFraction = nil
    var losses = [Double](repeating: 0, count: Self.penaltyGrid.count)
    do {
      for fold in 0..<folds {
        let (training, validation) = Self.fold(fold, of: folds, from: candidates)
        let sample = data.sample(training: training, validation: validation)
        var previous: LinearModel? = nil
        for (k, strength) in Self.penaltyGrid.enumerated() {
          fitter.configuration.problem.l2 = strength
          let result = try fitter.train(sample, rows: rows, machine: machine, initial: previous)
          previous = result.model
          losses[k] += result.history.last?.validationLoss ?? .infinity
        }
      }
    } catch let error as TrainingError {
      return (0, "cross-validation could not fit a fold (\(error)): none")
    }
    losses = try TrainingSet.summed(losses, over: data.everywhere)
    let best = losses.indices.min { losses[$0] < losses[$1] }!
    guard losses[best].isFinite else { return (0, "cross-validation found no finite validation loss: none") }
    return (
      Self.penaltyGrid[best],
      "\(folds)-fold cross-validation over \(Self.penaltyGrid.count) strengths from \(printed(Double(Self.penaltyGrid.last!), "%g")) to \(printed(Double(Self.penaltyGrid[0]), "%g")) (L-BFGS): mean validation loss \(printed(losses[best] / Double(folds), "%.4g"))"
    )
  }

  /// Fold `index` of `count` over `candidates` (ascending): every
  /// `count`-th candidate from the `index`-th is validated on, the others
  /// are trained on.
  static func fold(_ index: Int, of count: Int, from candidates: [Int32]) -> (
    training: [Int32], validation: [Int32]
  ) {
    var training: [Int32] = []
    var validation: [Int32] = []
    for (position, row) in candidates.enumerated() {
      if position % count == index { validation.append(row) } else { training.append(row) }
    }
    return (training, validation)
  }
}
