import Kernels

/// A trained linear model: `prediction = link(w · x + b)`.
///
/// Weights apply to the features as they are in the data: when training
/// standardised the features, the scaling was folded back into `weights` and
/// `bias`, and ``scaler`` records it for reference.
public struct LinearModel: Sendable, Equatable {
  /// The loss it was trained with, which fixes the prediction link.
  public var loss: Loss
  /// One weight per feature.
  public var weights: [Float]
  /// The intercept `b` (0 when trained without one).
  public var bias: Float
  /// The per-feature scaling used in training, if any.
  public var scaler: FeatureScaler?

  /// A model with the given parameters.
  public init(loss: Loss, weights: [Float], bias: Float, scaler: FeatureScaler? = nil) {
    self.loss = loss
    self.weights = weights
    self.bias = bias
    self.scaler = scaler
  }

  /// Number of features the model expects.
  public var features: Int { weights.count }

  /// `w · x + b` for a dense row of ``features`` values.
  @inlinable
  public func margin(dense x: UnsafeBufferPointer<Float>) -> Float {
    precondition(x.count == weights.count, "a row of \(x.count) features for a model of \(weights.count)")
    return weights.withUnsafeBufferPointer { Dense.dot(x, $0) } + bias
  }

  /// `w · x + b` for a sparse row; indices must be below ``features``.
  @inlinable
  public func margin(indices: UnsafeBufferPointer<Int32>, values: UnsafeBufferPointer<Float>) -> Float {
    weights.withUnsafeBufferPointer { Sparse.dot(indices: indices, values: values, model: $0) } + bias
  }

  /// The prediction for a margin: the value (squared), the probability of
  /// the positive class (logistic, modified Huber), or the class ±1 (hinge).
  public func prediction(margin m: Float) -> Float {
    switch loss {
    case .squared: m
    case .logistic: LogisticLoss().prediction(margin: m)
    case .hinge: HingeLoss().prediction(margin: m)
    case .modifiedHuber: min(1, max(0, (m + 1) / 2))
    }
  }

  /// The prediction for a dense row.
  public func predict(dense x: UnsafeBufferPointer<Float>) -> Float { prediction(margin: margin(dense: x)) }
}

/// Per-feature standardisation `x′ = (x − mean) / scale`; sparse data is
/// only scaled (mean 0), so that zeros stay zeros.
public struct FeatureScaler: Sendable, Equatable, Codable {
  /// Per-feature means subtracted (all 0 for sparse data).
  public var means: [Float]
  /// Per-feature divisors (1 for constant features).
  public var scales: [Float]

  /// A scaler with the given statistics.
  public init(means: [Float], scales: [Float]) {
    precondition(means.count == scales.count, "\(means.count) means for \(scales.count) scales")
    self.means = means
    self.scales = scales
  }

  /// Rewrites a model trained on scaled features into one for raw features:
  /// `w′ · (x − μ)/σ + b′ = (w′/σ) · x + (b′ − Σ w′ⱼ μⱼ / σⱼ)`.
  public func unscale(weights: [Float], bias: Float) -> (weights: [Float], bias: Float) {
    var raw = weights
    var offset: Double = 0
    for j in raw.indices {
      raw[j] = weights[j] / scales[j]
      offset += Double(raw[j]) * Double(means[j])
    }
    return (raw, bias - Float(offset))
  }
}
