import CSounder
import Dataset
import Engine
import Learning
import Synchronization

/// What a `sounder_data *` points at: the caller's rows, their shape
/// checked, and whatever memory of their own they need (conversions, zero
/// labels), kept alive by the rows. Their values are checked by the first
/// fit (then kept, behind a lock) or by each prediction as it reads them;
/// otherwise immutable, so any number of threads may read it at once.
final class DataHandle: Sendable {
  /// The caller's rows, their shape checked; their values are checked on first use.
  let readable: ReadableRows
  /// Whether the caller gave labels.
  let labelled: Bool
  /// The rows with their values checked, once a fit has needed them.
  private let checkedRows = Mutex<CheckedRows?>(nil)

  init(rows: ReadableRows, labelled: Bool) {
    readable = rows
    self.labelled = labelled
  }

  /// The rows with every value checked: one pass the first time, then kept.
  var rows: CheckedRows {
    get throws(DatasetError) {
      try checkedRows.withLock { (checked) throws(DatasetError) -> CheckedRows in
        if let checked { return checked }
        let rows = try readable.checked()
        checked = rows
        return rows
      }
    }
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
  /// Writes `output` for every row of `data` to `out` (`capacity` floats):
  /// a linear model reads each value once, checking the values through the
  /// margins they make (``LinearModel/predict(_:_:into:)``).
  func predict(
    _ data: DataHandle, _ output: sounder_output, into out: UnsafeMutablePointer<Float>?, capacity: Int64
  ) throws {
    switch (content, output) {
    case (.linear(let model, _), SOUNDER_VALUES), (.linear(let model, _), SOUNDER_LABELS),
      (.linear(let model, _), SOUNDER_PROBABILITIES):
      let kind: PredictionOutput =
        output == SOUNDER_VALUES ? .margins : output == SOUNDER_LABELS ? .labels : .probabilities
      if kind == .probabilities && !model.hasProbabilities {
        throw CallError(
          status: SOUNDER_ERROR_UNSUPPORTED,
          message:
            "a model of \(model.loss.rawValue) loss gives no probabilities (logistic, softmax and modified-huber do)"
        )
      }
      try model.check(data.readable)
      let out = try required(out, "the output buffer")
      let count = data.readable.block.count * model.width(of: kind)
      try checkCapacity(capacity, count, "the predictions")
      try model.predict(data.readable, kind, into: UnsafeMutableBufferPointer(start: out, count: count))
    case (.kMeans(let model, _), SOUNDER_VALUES):
      try copy(try model.distances(data.rows), to: out, capacity: capacity, "the predictions")
    case (.kMeans(let model, _), SOUNDER_LABELS):
      try copy(
        try KMeans.assign(data.rows, to: model).clusters.map(Float.init), to: out, capacity: capacity,
        "the predictions")
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
