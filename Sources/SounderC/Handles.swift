import CSounder
import Dataset
import Engine
import Learning

/// What a `sounder_data *` points at: checked rows, and whatever memory of
/// their own they need (conversions, zero labels), kept alive by the rows.
/// Immutable, so any number of threads may read it at once.
final class DataHandle: Sendable {
  let rows: CheckedRows
  /// Whether the caller gave labels.
  let labelled: Bool

  init(rows: CheckedRows, labelled: Bool) {
    self.rows = rows
    self.labelled = labelled
  }
}

/// What a `sounder_model *` points at: a linear or k-means model with the
/// metadata its file keeps. Immutable once made.
final class ModelHandle: Sendable {
  enum Content {
    case linear(LinearModel, ModelMetadata)
    case kMeans(ClusterModel, ClusterMetadata)
  }

  let content: Content
  /// Whether a progress callback ended the fit.
  let stopRequested: Bool

  init(_ content: Content, stopRequested: Bool = false) {
    self.content = content
    self.stopRequested = stopRequested
  }

  /// The model from a whole model file held in memory; `source` names it in errors.
  convenience init(bytes: UnsafeRawBufferPointer, source: String) throws {
    switch try ModelFile.kind(of: bytes, source: source) {
    case .linear:
      let (model, metadata) = try ModelFile.read(bytes: bytes, source: source)
      self.init(.linear(model, metadata))
    case .kMeans:
      let (model, metadata) = try ModelFile.readClusters(bytes: bytes, source: source)
      self.init(.kMeans(model, metadata))
    }
  }

  /// The model file's bytes.
  func encoded() throws -> [UInt8] {
    switch content {
    case .linear(let model, let metadata): try ModelFile.encoded(model, metadata: metadata)
    case .kMeans(let model, let metadata): try ModelFile.encoded(model, metadata: metadata)
    }
  }

  var info: sounder_model_info {
    var info = sounder_model_info()
    info.stop_requested = stopRequested ? 1 : 0
    switch content {
    case .linear(let model, let metadata):
      info.kind = model.loss.isClassification ? SOUNDER_CLASSIFIER : SOUNDER_REGRESSOR
      info.features = Int64(model.features)
      info.outputs = Int64(model.outputs)
      info.classes = model.loss.isClassification ? Int64(max(model.outputs, 2)) : 0
      info.has_probabilities = model.hasProbabilities ? 1 : 0
      info.epochs = Int64(metadata.finalEpoch?.epoch ?? 0)
      info.training_loss = metadata.finalEpoch?.trainingLoss ?? .nan
    case .kMeans(let model, let metadata):
      info.kind = SOUNDER_CLUSTERER
      info.features = Int64(model.features)
      info.outputs = Int64(model.clusters)
      info.epochs = Int64(metadata.iterations ?? 0)
      info.training_loss = metadata.inertia ?? .nan
    }
    return info
  }

  /// What `sounder_predict` writes for `rows`.
  func predict(_ rows: CheckedRows, _ output: sounder_output) throws -> [Float] {
    switch (content, output) {
    case (.linear(let model, _), SOUNDER_VALUES):
      try model.check(rows)
      return model.margins(rows)
    case (.linear(let model, _), SOUNDER_LABELS):
      try model.check(rows)
      return model.predictions(rows)
    case (.linear(let model, _), SOUNDER_PROBABILITIES):
      guard model.hasProbabilities else {
        throw CallError(
          status: SOUNDER_ERROR_UNSUPPORTED,
          message:
            "a model of \(model.loss.rawValue) loss gives no probabilities (logistic, softmax and modified-huber do)"
        )
      }
      try model.check(rows)
      return model.probabilities(rows)
    case (.kMeans(let model, _), SOUNDER_VALUES):
      return try model.distances(rows)
    case (.kMeans(let model, _), SOUNDER_LABELS):
      return try KMeans.assign(rows, to: model).clusters.map(Float.init)
    case (.kMeans, SOUNDER_PROBABILITIES):
      throw CallError(status: SOUNDER_ERROR_UNSUPPORTED, message: "a k-means model gives no probabilities")
    default:
      throw CallError.argument(
        "output \(output.rawValue) is not SOUNDER_VALUES, SOUNDER_LABELS or SOUNDER_PROBABILITIES")
    }
  }

  /// The weights output-major (k-means: the centres in the data's units).
  var coefficients: [Float] {
    switch content {
    case .linear(let model, _):
      let (d, k) = (model.features, model.outputs)
      return (0..<k * d).map { i in model.weights[(i % d) * k + i / d] }
    case .kMeans(let model, _): return model.rawCentres
    }
  }
}

extension OpaquePointer {
  /// The handle behind a pointer this library handed out, not retained.
  func handle<T: AnyObject>(_: T.Type) -> T {
    Unmanaged<T>.fromOpaque(UnsafeRawPointer(self)).takeUnretainedValue()
  }

  /// A pointer to `object` for the caller, retained until freed.
  static func retaining(_ object: AnyObject) -> OpaquePointer {
    OpaquePointer(Unmanaged.passRetained(object).toOpaque())
  }
}
