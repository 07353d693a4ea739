import Kernels

/// A trained linear model of K outputs: margins `m = Wᵀx + b ∈ ℝᴷ` and a
/// prediction from them. One output is regression or binary classification
/// (`prediction = link(w · x + b)`); several are multiclass classification,
/// by softmax or one-vs-rest, predicting the class of the largest margin.
///
/// Weights apply to the features as they are in the data: when training
/// standardised the features, the scaling was folded back into `weights` and
/// `intercepts`, and ``scaler`` records it for reference.
public struct LinearModel: Sendable, Equatable {
  /// The loss it was trained with, which fixes the prediction link: with
  /// several outputs, ``Loss/softmax`` or a binary loss one-vs-rest.
  public var loss: Loss
  /// `features × outputs` weights, feature-major: feature `j`'s weight for
  /// output `k` is `weights[j · outputs + k]`.
  public var weights: [Float]
  /// One intercept per output (0 when trained without one).
  public var intercepts: [Float]
  /// The label each class index stands for, in order (class `k` was
  /// labelled `classes[k]` in the training data): K labels for a multiclass
  /// model; for a binary classifier two, the negative class then the
  /// positive (the larger label); `nil` for regression and for binary models
  /// saved before labels were kept (their classes are −1 and +1).
  public var classes: [Float]?
  /// For a model trained on named classes, class `k`'s name: K names, or
  /// for a binary model two (label 0, then label 1).
  public var classNames: [String]?
  /// The per-feature scaling used in training, if any.
  public var scaler: FeatureScaler?

  /// A one-output model with the given parameters.
  public init(loss: Loss, weights: [Float], bias: Float, scaler: FeatureScaler? = nil) {
    self.init(loss: loss, weights: weights, intercepts: [bias], scaler: scaler)
  }

  /// A model of `intercepts.count` outputs; `weights` holds
  /// `features × outputs` floats, feature-major.
  public init(
    loss: Loss, weights: [Float], intercepts: [Float], classes: [Float]? = nil, classNames: [String]? = nil,
    scaler: FeatureScaler? = nil
  ) {
    precondition(
      !intercepts.isEmpty && weights.count % intercepts.count == 0,
      "\(weights.count) weights do not split into \(intercepts.count) outputs")
    self.loss = loss
    self.weights = weights
    self.intercepts = intercepts
    self.classes = classes
    self.classNames = classNames
    self.scaler = scaler
  }

  /// Number of features the model expects.
  public var features: Int { weights.count / outputs }

  /// K, the number of margins per row.
  public var outputs: Int { intercepts.count }

  /// The intercept of a one-output model.
  public var bias: Float {
    get {
      precondition(outputs == 1, "bias of a model of \(outputs) outputs; use intercepts")
      return intercepts[0]
    }
    set {
      precondition(outputs == 1, "bias of a model of \(outputs) outputs; use intercepts")
      intercepts[0] = newValue
    }
  }

  /// A class label as users write it: `3`, not `3.0`.
  public static func labelText(_ label: Float) -> String {
    label == label.rounded() && abs(label) < 1e9 ? String(Int(label)) : "\(label)"
  }

  /// Whether it predicts one of several classes.
  public var isMulticlass: Bool { outputs > 1 }

  /// For a one-output classifier that kept its two training labels: the
  /// negative and the positive class's label.
  public var binaryClasses: (negative: Float, positive: Float)? {
    guard outputs == 1, loss.isClassification, let classes, classes.count == 2 else { return nil }
    return (classes[0], classes[1])
  }

  /// The class label a one-output classifier predicts for margin `m`: the
  /// positive class's at `m ≥ 0`, else the negative's (+1/−1 for a model
  /// without kept labels).
  public func binaryLabel(margin m: Float) -> Float {
    let (negative, positive) = binaryClasses ?? (-1, 1)
    return m >= 0 ? positive : negative
  }

  /// The K margins `Wᵀx + b` for a dense row of ``features`` values, written to `m`.
  public func margins(dense x: UnsafeBufferPointer<Float>, into m: UnsafeMutablePointer<Float>) {
    precondition(x.count == features, "a row of \(x.count) features for a model of \(features)")
    weights.withUnsafeBufferPointer { w in
      intercepts.withUnsafeBufferPointer { b in Self.margins(dense: x, weights: w, intercepts: b, into: m) }
    }
  }

  /// The K margins `Wᵀx + b` for a sparse row (indices below ``features``), written to `m`.
  public func margins(
    indices: UnsafeBufferPointer<Int32>, values: UnsafeBufferPointer<Float>,
    into m: UnsafeMutablePointer<Float>
  ) {
    precondition(
      indices.allSatisfy { $0 >= 0 && Int($0) < features },
      "a sparse row with an index outside 0..<\(features)")
    weights.withUnsafeBufferPointer { w in
      intercepts.withUnsafeBufferPointer { b in
        Self.margins(indices: indices, values: values, weights: w, intercepts: b, into: m)
      }
    }
  }

  /// The K margins of a dense row from a model's ``weights`` (`w`, feature-major,
  /// `x.count × b.count` floats) and ``intercepts`` (`b`), written to `m`:
  /// the kernel under ``margins(dense:into:)``, for a caller that predicts
  /// many rows and takes the model's buffers once.
  public static func margins(
    dense x: UnsafeBufferPointer<Float>, weights w: UnsafeBufferPointer<Float>,
    intercepts b: UnsafeBufferPointer<Float>, into m: UnsafeMutablePointer<Float>
  ) {
    m.update(from: b.baseAddress!, count: b.count)
    if b.count == 1 {
      m.pointee += Dense.dot(x, w)
    } else {
      Outputs.addMargins(dense: x, model: w, outputs: b.count, into: m)
    }
  }

  /// The same for a sparse row whose indices are below `w.count / b.count`.
  public static func margins(
    indices: UnsafeBufferPointer<Int32>, values: UnsafeBufferPointer<Float>,
    weights w: UnsafeBufferPointer<Float>,
    intercepts b: UnsafeBufferPointer<Float>, into m: UnsafeMutablePointer<Float>
  ) {
    m.update(from: b.baseAddress!, count: b.count)
    if b.count == 1 {
      m.pointee += Sparse.dot(indices: indices, values: values, model: w)
    } else {
      Outputs.addMargins(indices: indices, values: values, model: w, outputs: b.count, into: m)
    }
  }

  /// `w · x + b` for a dense row of ``features`` values (one output).
  public func margin(dense x: UnsafeBufferPointer<Float>) -> Float {
    var m: Float = 0
    precondition(outputs == 1, "margin of a model of \(outputs) outputs; use margins(dense:into:)")
    margins(dense: x, into: &m)
    return m
  }

  /// `w · x + b` for a sparse row; indices must be below ``features`` (one output).
  public func margin(indices: UnsafeBufferPointer<Int32>, values: UnsafeBufferPointer<Float>) -> Float {
    var m: Float = 0
    precondition(outputs == 1, "margin of a model of \(outputs) outputs; use margins(indices:values:into:)")
    margins(indices: indices, values: values, into: &m)
    return m
  }

  /// The prediction for a margin of a one-output model: the value
  /// (squared), the probability of the positive class (logistic, modified
  /// Huber), or the class ±1 (hinge).
  public func prediction(margin m: Float) -> Float {
    switch loss {
    case .squared: m
    case .logistic, .softmax: LogisticLoss().prediction(margin: m)
    case .hinge: HingeLoss().prediction(margin: m)
    case .modifiedHuber: min(1, max(0, (m + 1) / 2))
    }
  }

  /// Overwrites the margins of `margins.count` rows of a one-output model
  /// with each row's P(positive), as ``prediction(margin:)`` gives it but
  /// eight rows at a time: the logistic's exponential is
  /// ``VectorMath/exp(_:)`` (within 3e-7 of the C library's). For models
  /// with probabilities (``hasProbabilities``).
  public func probabilities(margins: UnsafeMutableBufferPointer<Float>) {
    precondition(
      hasProbabilities && outputs == 1, "P(positive) of a \(loss.rawValue) model of \(outputs) outputs")
    guard let m = margins.baseAddress else { return }
    guard loss == .logistic else {
      for k in margins.indices { m[k] = prediction(margin: m[k]) }
      return
    }
    var k = 0
    while k < margins.count {
      // The last count mod 8 rows go through a vector on the stack.
      let lanes = min(8, margins.count - k)
      var x = SIMD8<Float>()
      if lanes == 8 {
        x = UnsafeRawPointer(m + k).loadUnaligned(as: SIMD8<Float>.self)
      } else {
        for lane in 0..<lanes { x[lane] = m[k + lane] }
      }
      // σ(m) = 1 / (1 + e^(−m)) = e^m / (1 + e^m), through e = e^(−|m|) so it never overflows.
      let negatedMagnitude = unsafeBitCast(
        unsafeBitCast(x, to: SIMD8<UInt32>.self) | SIMD8(repeating: 0x8000_0000), to: SIMD8<Float>.self)
      let e = VectorMath.exp(negatedMagnitude)
      let inverse = 1 / (1 + e)
      let p = VectorMath.select(nonNegative: x, inverse, else: e * inverse)
      if lanes == 8 {
        UnsafeMutableRawPointer(m + k).storeBytes(of: p, as: SIMD8<Float>.self)
      } else {
        for lane in 0..<lanes { m[k + lane] = p[lane] }
      }
      k += 8
    }
  }

  /// Whether the model gives class probabilities: every classification loss
  /// but hinge.
  public var hasProbabilities: Bool { loss.isClassification && loss != .hinge }

  /// The index of the predicted class from the model's margins (see
  /// ``predictedClass(margins:outputs:)``).
  public func predictedClass(margins m: UnsafePointer<Float>) -> Int {
    Self.predictedClass(margins: m, outputs: outputs)
  }

  /// The index of the predicted class from K margins: the largest margin
  /// (several outputs; the first of equals), or for one output 1 when the
  /// margin is at least 0, else 0.
  @inlinable
  public static func predictedClass(margins m: UnsafePointer<Float>, outputs: Int) -> Int {
    guard outputs > 1 else { return m.pointee >= 0 ? 1 : 0 }
    var best = 0
    for k in 1..<outputs where m[k] > m[best] { best = k }
    return best
  }

  /// Overwrites K margins with the K class probabilities (several outputs):
  /// the softmax, or for one-vs-rest each output's probability normalised
  /// to sum to 1 (uniform where all are 0). Models without probabilities
  /// (hinge, regression) must not call it.
  public func probabilities(_ m: UnsafeMutablePointer<Float>) {
    precondition(
      hasProbabilities && outputs > 1, "probabilities of a \(loss.rawValue) model of \(outputs) outputs")
    if loss == .softmax {
      Softmax(classes: outputs).probabilities(m)
      return
    }
    var sum: Float = 0
    for k in 0..<outputs {
      m[k] = prediction(margin: m[k])
      sum += m[k]
    }
    for k in 0..<outputs { m[k] = sum > 0 ? m[k] / sum : 1 / Float(outputs) }
  }

  /// The prediction for a dense row of a one-output model.
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

  /// Rewrites a model trained on scaled features into one for raw
  /// features, output by output (weights feature-major):
  /// `w′ · (x − μ)/σ + b′ = (w′/σ) · x + (b′ − Σ w′ⱼ μⱼ / σⱼ)`.
  public func unscale(weights: [Float], intercepts: [Float]) -> (weights: [Float], intercepts: [Float]) {
    let outputs = intercepts.count
    var raw = weights
    var offsets = [Double](repeating: 0, count: outputs)
    for j in scales.indices {
      for k in 0..<outputs {
        raw[j * outputs + k] = weights[j * outputs + k] / scales[j]
        offsets[k] += Double(raw[j * outputs + k]) * Double(means[j])
      }
    }
    return (raw, zip(intercepts, offsets).map { $0 - Float($1) })
  }

  /// The inverse of ``unscale(weights:intercepts:)``: a model for raw
  /// features rewritten for scaled ones, `w′ = w·σ`, `b′ = b + Σ wⱼ μⱼ`.
  public func scale(weights: [Float], intercepts: [Float]) -> (weights: [Float], intercepts: [Float]) {
    let outputs = intercepts.count
    var scaled = weights
    var offsets = [Double](repeating: 0, count: outputs)
    for j in scales.indices {
      for k in 0..<outputs {
        scaled[j * outputs + k] = weights[j * outputs + k] * scales[j]
        offsets[k] += Double(weights[j * outputs + k]) * Double(means[j])
      }
    }
    return (scaled, zip(intercepts, offsets).map { $0 + Float($1) })
  }
}
