// The functions of include/sounder.h (CSupport/CSounder), one each. Every
// one runs inside `exported`, which turns a thrown error into a status and
// this thread's last error; handles are Swift objects behind opaque pointers.
import CSounder
import Dataset
import Engine
import Learning
import Topology

#if canImport(Glibc)
  import Glibc
#endif

/// The library's version, in static storage.
nonisolated(unsafe) private let versionText = UnsafePointer(strdup(sounderVersion)!)

@_cdecl("sounder_version")
public func exportedVersion() -> UnsafePointer<CChar> { versionText }

// MARK: Data

@_cdecl("sounder_data_dense")
public func exportedDataDense(
  _ values: UnsafeRawPointer?, _ valueType: sounder_type, _ rows: Int64, _ columns: Int64,
  _ labels: UnsafePointer<Float>?, _ weights: UnsafePointer<Float>?,
  _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> sounder_status {
  exported {
    let out = try required(out, "out")
    let values = try callerValues(rows == 0 ? values ?? UnsafeRawPointer(bitPattern: 64) : values, valueType)
    let readable = try ReadableRows.borrowing(
      dense: values, rows: Int(rows), columns: Int(columns), labels: labels, weights: weights,
      source: "the dense rows")
    out.pointee = .retaining(DataHandle(rows: readable, labelled: labels != nil))
  }
}

@_cdecl("sounder_data_csr")
public func exportedDataCSR(
  _ offsets: UnsafePointer<Int64>?, _ indices: UnsafeRawPointer?, _ indexType: sounder_type,
  _ values: UnsafeRawPointer?, _ valueType: sounder_type, _ rows: Int64, _ columns: Int64,
  _ labels: UnsafePointer<Float>?, _ weights: UnsafePointer<Float>?,
  _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> sounder_status {
  exported {
    let out = try required(out, "out")
    let offsets = try required(offsets, "offsets")
    guard rows >= 0 else { throw CallError.argument("rows must be ≥ 0 (got \(rows))") }
    // With no values at all (every row empty) scipy's arrays may be empty: any address will do.
    let empty = offsets[Int(rows)] == 0 ? UnsafeRawPointer(bitPattern: 64) : nil
    let callerIndices: CallerIndices
    switch indexType {
    case SOUNDER_INT32:
      callerIndices = .int32(try required(indices ?? empty, "indices").assumingMemoryBound(to: Int32.self))
    case SOUNDER_INT64:
      callerIndices = .int64(try required(indices ?? empty, "indices").assumingMemoryBound(to: Int64.self))
    default:
      throw CallError.argument(
        "index_type must be SOUNDER_INT32 or SOUNDER_INT64 (got \(indexType.rawValue))")
    }
    let readable = try ReadableRows.borrowing(
      csr: offsets, indices: callerIndices, values: try callerValues(values ?? empty, valueType),
      rows: Int(rows),
      columns: Int(columns), labels: labels, weights: weights, source: "the CSR rows")
    out.pointee = .retaining(DataHandle(rows: readable, labelled: labels != nil))
  }
}

/// The caller's values of `type`.
private func callerValues(_ values: UnsafeRawPointer?, _ type: sounder_type) throws(CallError) -> CallerValues
{
  let values = try required(values, "values")
  switch type {
  case SOUNDER_FLOAT32: return .float32(values.assumingMemoryBound(to: Float.self))
  case SOUNDER_FLOAT64: return .float64(values.assumingMemoryBound(to: Double.self))
  default: throw .argument("value_type must be SOUNDER_FLOAT32 or SOUNDER_FLOAT64 (got \(type.rawValue))")
  }
}

@_cdecl("sounder_data_free")
public func exportedDataFree(_ data: OpaquePointer?) {
  guard let data else { return }
  Unmanaged<DataHandle>.fromOpaque(UnsafeRawPointer(data)).release()
}

// MARK: Training

/// This machine, read once: every fit and assignment runs on it.
private let machine = Result { try Topology.current() }

@_cdecl("sounder_train")
public func exportedTrain(
  _ data: OpaquePointer?, _ settingsText: UnsafePointer<CChar>?, _ progress: sounder_progress?,
  _ context: UnsafeMutableRawPointer?, _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> sounder_status {
  exported { try train(data, settingsText, start: nil, progress, context, out) }
}

@_cdecl("sounder_train_from")
public func exportedTrainFrom(
  _ data: OpaquePointer?, _ settingsText: UnsafePointer<CChar>?, _ start: OpaquePointer?,
  _ progress: sounder_progress?, _ context: UnsafeMutableRawPointer?,
  _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> sounder_status {
  exported {
    guard case .linear(let model, _) = try required(start, "start").handle(ModelHandle.self).content else {
      throw CallError.argument("the starting model is a k-means model; training starts from a linear one")
    }
    try train(data, settingsText, start: model, progress, context, out)
  }
}

/// What `sounder_train` and `sounder_train_from` do.
private func train(
  _ data: OpaquePointer?, _ settingsText: UnsafePointer<CChar>?, start: LinearModel?,
  _ progress: sounder_progress?,
  _ context: UnsafeMutableRawPointer?, _ out: UnsafeMutablePointer<OpaquePointer?>?
) throws {
  let out = try required(out, "out")
  let data = try required(data, "data").handle(DataHandle.self)
  guard data.labelled else {
    throw CallError(status: SOUNDER_ERROR_DATA, message: "the rows have no labels; training needs them")
  }
  let configuration = try settings(
    settingsText, as: TrainingConfiguration.self, known: TrainingConfiguration.settingNames,
    fallback: TrainingConfiguration())
  var trainer = Trainer(configuration, topology: try machine.get())
  let stop = StopRequest()
  trainer.stopRequest = stop
  let result = try trainer.fit(
    data.rows, startingFrom: start,
    progress: { (epoch: EpochReport) in
      var report = sounder_progress_report(
        epoch: Int64(epoch.epoch), run: 1, training_loss: epoch.trainingLoss,
        validation_loss: epoch.validationLoss ?? .nan, validation_metric: epoch.validationMetric ?? .nan,
        seconds: epoch.seconds)
      if let progress, progress(context, &report) != 0 { stop.request() }
    })
  if case .diverged(let epoch, let rate) = result.stopReason {
    throw TrainingError.diverged(epoch: epoch, learningRate: rate)
  }
  let metadata = ModelMetadata(model: result.model, configuration: configuration, result: result)
  out.pointee = .retaining(
    ModelHandle(
      .linear(result.model, metadata),
      stopRequested: result.stopReason == .requested(epoch: result.history.count)))
}

@_cdecl("sounder_cluster")
public func exportedCluster(
  _ data: OpaquePointer?, _ settingsText: UnsafePointer<CChar>?, _ progress: sounder_progress?,
  _ context: UnsafeMutableRawPointer?, _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> sounder_status {
  exported {
    let out = try required(out, "out")
    let data = try required(data, "data").handle(DataHandle.self)
    let configuration = try settings(
      settingsText, as: KMeansConfiguration.self, known: KMeansConfiguration.settingNames, fallback: nil)
    var kMeans = KMeans(configuration, topology: try machine.get())
    let stop = StopRequest()
    kMeans.stopRequest = stop
    let result = try kMeans.fit(data.rows) { iteration in
      var report = sounder_progress_report(
        epoch: Int64(iteration.iteration), run: Int64(iteration.run), training_loss: iteration.inertia,
        validation_loss: .nan, validation_metric: .nan, seconds: iteration.seconds)
      if let progress, progress(context, &report) != 0 { stop.request() }
    }
    let metadata = ClusterMetadata(model: result.model, configuration: configuration, result: result)
    out.pointee = .retaining(ModelHandle(.kMeans(result.model, metadata), stopRequested: stop.isRequested))
  }
}

// MARK: Models

@_cdecl("sounder_model_info_get")
public func exportedModelInfo(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<sounder_model_info>?)
  -> sounder_status
{
  exported {
    let out = try required(out, "out")
    out.pointee = try required(model, "model").handle(ModelHandle.self).info
  }
}

@_cdecl("sounder_model_free")
public func exportedModelFree(_ model: OpaquePointer?) {
  guard let model else { return }
  Unmanaged<ModelHandle>.fromOpaque(UnsafeRawPointer(model)).release()
}

@_cdecl("sounder_predict")
public func exportedPredict(
  _ model: OpaquePointer?, _ data: OpaquePointer?, _ output: sounder_output,
  _ out: UnsafeMutablePointer<Float>?,
  _ capacity: Int64
) -> sounder_status {
  exported {
    let model = try required(model, "model").handle(ModelHandle.self)
    let data = try required(data, "data").handle(DataHandle.self)
    try model.predict(data, output, into: out, capacity: capacity)
  }
}

@_cdecl("sounder_model_coefficients")
public func exportedCoefficients(
  _ model: OpaquePointer?, _ out: UnsafeMutablePointer<Float>?, _ capacity: Int64
)
  -> sounder_status
{
  exported {
    let model = try required(model, "model").handle(ModelHandle.self)
    try copy(model.coefficients, to: out, capacity: capacity, "the coefficients")
  }
}

@_cdecl("sounder_model_intercepts")
public func exportedIntercepts(
  _ model: OpaquePointer?, _ out: UnsafeMutablePointer<Float>?, _ capacity: Int64
)
  -> sounder_status
{
  exported {
    guard case .linear(let model, _) = try required(model, "model").handle(ModelHandle.self).content else {
      throw CallError(status: SOUNDER_ERROR_UNSUPPORTED, message: "a k-means model has no intercepts")
    }
    try copy(model.intercepts, to: out, capacity: capacity, "the intercepts")
  }
}

@_cdecl("sounder_model_classes")
public func exportedClasses(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<Float>?, _ capacity: Int64)
  -> sounder_status
{
  exported {
    guard case .linear(let model, _) = try required(model, "model").handle(ModelHandle.self).content,
      model.loss.isClassification
    else { throw CallError(status: SOUNDER_ERROR_UNSUPPORTED, message: "only a classifier has classes") }
    // A binary model trained before labels were kept has the conventional ±1.
    try copy(
      model.classes ?? (model.outputs == 1 ? [-1, 1] : (0..<model.outputs).map(Float.init)), to: out,
      capacity: capacity, "the classes")
  }
}

@_cdecl("sounder_model_save")
public func exportedSave(_ model: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> sounder_status {
  exported {
    let model = try required(model, "model").handle(ModelHandle.self)
    let path = String(cString: try required(path, "path"))
    switch model.content {
    case .linear(let linear, let metadata): try ModelFile.write(linear, metadata: metadata, to: path)
    case .kMeans(let clusters, let metadata): try ModelFile.write(clusters, metadata: metadata, to: path)
    }
  }
}

@_cdecl("sounder_model_load")
public func exportedLoad(_ path: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?)
  -> sounder_status
{
  exported {
    let out = try required(out, "out")
    let path = String(cString: try required(path, "path"))
    let file = try MappedFile(path: path)
    out.pointee = .retaining(try ModelHandle(bytes: file.bytes, source: path))
  }
}

@_cdecl("sounder_model_serialize")
public func exportedSerialize(
  _ model: OpaquePointer?, _ buffer: UnsafeMutableRawPointer?, _ capacity: Int64,
  _ size: UnsafeMutablePointer<Int64>?
) -> sounder_status {
  exported {
    let bytes = try required(model, "model").handle(ModelHandle.self).encoded()
    try copy(bytes, "the model", to: buffer, capacity: capacity, size: size)
  }
}

@_cdecl("sounder_model_metadata")
public func exportedMetadata(
  _ model: OpaquePointer?, _ buffer: UnsafeMutableRawPointer?, _ capacity: Int64,
  _ size: UnsafeMutablePointer<Int64>?
) -> sounder_status {
  exported {
    let json =
      switch try required(model, "model").handle(ModelHandle.self).content {
      case .linear(_, let metadata): try metadata.json()
      case .kMeans(_, let metadata): try metadata.json()
      }
    try copy(json, "the metadata", to: buffer, capacity: capacity, size: size)
  }
}

@_cdecl("sounder_model_deserialize")
public func exportedDeserialize(
  _ bytes: UnsafeRawPointer?, _ size: Int64, _ out: UnsafeMutablePointer<OpaquePointer?>?
)
  -> sounder_status
{
  exported {
    let out = try required(out, "out")
    guard size >= 0 else { throw CallError.argument("size must be ≥ 0 (got \(size))") }
    let bytes = UnsafeRawBufferPointer(start: try required(bytes, "bytes"), count: Int(size))
    out.pointee = .retaining(try ModelHandle(bytes: bytes, source: "the model bytes"))
  }
}
