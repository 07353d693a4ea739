import Learning

/// What happened in one epoch.
public struct EpochReport: Sendable, Equatable, Codable {
  /// 1, 2, ...
  public var epoch: Int
  /// The regularised training objective at the end of the epoch.
  public var trainingLoss: Double
  /// The mean loss on held-out rows, if any.
  public var validationLoss: Double?
  /// Accuracy (classification) or MSE (regression) on held-out rows, if any.
  public var validationMetric: Double?
  /// Seconds spent training (not evaluating) in this epoch.
  public var seconds: Double
  /// Seconds spent computing the losses above.
  public var evaluationSeconds: Double
  /// Training rows processed per second.
  public var examplesPerSecond: Double
  /// Bytes of features (and indices) read per second by the training pass.
  public var bytesPerSecond: Double
}

/// Why training ended.
public enum StopReason: Sendable, Equatable, Codable, CustomStringConvertible {
  /// All requested epochs ran.
  case completed
  /// The monitored loss stopped improving (early stopping).
  case converged(epoch: Int)
  /// The loss became non-finite; the model is the last good one.
  case diverged(epoch: Int, learningRate: Float)

  public var description: String {
    switch self {
    case .completed: "completed every epoch"
    case .converged(let epoch): "stopped early after epoch \(epoch): the loss no longer improved"
    case .diverged(let epoch, let rate): TrainingError.diverged(epoch: epoch, learningRate: rate).description
    }
  }
}

/// The outcome of ``Trainer/fit(_:progress:)``.
public struct TrainingResult: Sendable {
  /// The trained model (for raw, unscaled features).
  public var model: LinearModel
  /// One report per epoch run.
  public var history: [EpochReport]
  /// The strategy used, and why.
  public var strategy: StrategyChoice
  /// Workers, and where they ran.
  public var placement: [Int]
  /// Why training ended.
  public var stopReason: StopReason
  /// Training rows and held-out rows.
  public var trainingRows: Int
  public var validationRows: Int
}
