import Dataset
import Learning

/// The stopping rule of a stochastic fit whose epochs and tolerance the
/// configuration leaves open: at most ``Trainer/automaticEpochs(for:)``
/// epochs, ending once the watched loss (the validation loss of held-out
/// training rows, or the training loss) has failed for
/// `iterationsWithoutChange` epochs in a row to fall 0.1% below the least
/// so far; when it watches held-out rows, the model kept is that of their
/// least loss. A `--test` set is never watched: choosing the epoch on it
/// would flatter the test figures reported for the model.
struct EarlyStopping: Sendable {
  /// The share of the rows the rule holds out itself (`nil`: it watches
  /// the configuration's own holdout, or the training loss).
  var holdout: Double?
  /// Whether it watches the training loss (no held-out training rows).
  var watchesTraining: Bool
  /// Why, in words.
  var reason: String

  /// The share held out when the configuration validates on nothing: a
  /// tenth, as Vowpal Wabbit holds out for its passes.
  static let holdoutShare = 0.1
  /// Training rows from which a share is held out (a thousand to validate on).
  static let fewestRowsToHoldOut = 10_000
  /// The least relative fall of the monitored loss that counts as progress.
  static let relativeTolerance = 1e-3
}

extension Trainer {
  /// The early-stopping rule for a fit of `algorithm` on `rows` (all
  /// processes' rows: `rowsEverywhere`), or `nil` when the configuration
  /// chose its own end (epochs or a tolerance) or the method ends by
  /// itself (L-BFGS at the optimum, full-batch `gd` at its epoch count).
  static func automaticStopping(
    algorithm: Algorithm, rowsEverywhere: Int, configuration: TrainingConfiguration, test: Bool
  ) -> EarlyStopping? {
    let stopping = configuration.stopping
    guard algorithm == .sgd || algorithm == .minibatch, stopping.epochs == nil, stopping.tolerance == nil
    else { return nil }
    let cap = automaticEpochs(for: algorithm)
    let patience = "\(stopping.iterationsWithoutChange) epochs without a 0.1% fall"
    if let fraction = stopping.holdoutFraction, !test {
      return EarlyStopping(
        holdout: nil, watchesTraining: false,
        reason:
          "at most \(cap) epochs, until the loss on the held-out \(printed(fraction, "%g")) makes \(patience)"
      )
    }
    guard !test, rowsEverywhere >= EarlyStopping.fewestRowsToHoldOut else {
      let why =
        test
        ? "the test rows are reported, never chosen on"
        : "\(rowsEverywhere) rows are too few to hold a tenth out"
      return EarlyStopping(
        holdout: nil, watchesTraining: true,
        reason: "at most \(cap) epochs, until the training loss makes \(patience) (\(why))")
    }
    return EarlyStopping(
      holdout: EarlyStopping.holdoutShare, watchesTraining: false,
      reason: "at most \(cap) epochs, until the loss on a held-out tenth of the rows makes \(patience)")
  }
}
