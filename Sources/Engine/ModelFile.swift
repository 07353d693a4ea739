import Dataset
import Learning

#if canImport(FoundationEssentials)
  // JSON without the internationalisation data full Foundation links in:
  // what keeps the C library (libsounder) small.
  import FoundationEssentials
#else
  import Foundation
#endif

/// Why a model file could not be read or written.
public enum ModelFileError: Error, Equatable, Sendable, CustomStringConvertible {
  /// Opening, reading or writing failed.
  case io(DatasetError)
  /// The file does not start with the model magic.
  case notAModel(path: String)
  /// Written by a newer Sounder.
  case unsupportedVersion(path: String, found: UInt32, supported: UInt32)
  /// The file is shorter than its header says or a part is damaged.
  case corrupt(path: String, reason: String)
  /// The file holds another kind of model than the one asked for.
  case wrongKind(path: String, found: String, expected: String)

  public var description: String {
    switch self {
    case .io(let error): error.description
    case .notAModel(let path): "\(path): not a Sounder model (it does not start with \"SNDRMODL\")"
    case .unsupportedVersion(let path, let found, let supported):
      "\(path): model format version \(found) is newer than this Sounder reads (\(supported)); upgrade Sounder"
    case .corrupt(let path, let reason): "\(path): damaged model file: \(reason)"
    case .wrongKind(let path, let found, let expected): "\(path): this is \(found), not \(expected)"
    }
  }
}

/// What a model file records beside the weights, as readable JSON.
public struct ModelMetadata: Sendable, Codable, Equatable {
  /// The Sounder release that wrote it.
  public var library: String
  public var loss: Loss
  public var features: Int
  /// K, the margins per row (absent in version 1 files: 1).
  public var outputs: Int?
  /// The intercept of a one-output model (version 1 files have only this).
  public var bias: Float?
  /// One intercept per output (version 2).
  public var intercepts: [Float]?
  /// For a multiclass model, the label of each class index.
  public var classes: [Float]?
  /// For a model trained on named classes, their names (binary: two).
  public var classNames: [String]?
  /// Feature scaling used in training (already folded into the weights).
  public var scaler: FeatureScaler?
  public var configuration: TrainingConfiguration?
  public var strategy: StrategyChoice?
  public var trainingRows: Int?
  public var validationRows: Int?
  /// The last epoch's figures.
  public var finalEpoch: EpochReport?
  public var stopReason: String?
  /// What the fit chose where the configuration left a setting open, and
  /// why (absent in files written before it was recorded).
  public var choices: TrainingChoices?
  /// Training state, present in checkpoints only.
  public var checkpoint: CheckpointState?

  /// Metadata for `model` and, when it came from training, what produced it.
  public init(model: LinearModel, configuration: TrainingConfiguration? = nil, result: TrainingResult? = nil)
  {
    library = sounderVersion
    loss = model.loss
    features = model.features
    outputs = model.outputs
    bias = model.outputs == 1 ? model.intercepts[0] : nil
    intercepts = model.intercepts
    classes = model.classes
    classNames = model.classNames
    scaler = model.scaler
    self.configuration = configuration
    strategy = result?.strategy
    trainingRows = result?.trainingRows
    validationRows = result?.validationRows
    finalEpoch = result?.history.last
    stopReason = result?.stopReason.description
    choices = result.map(TrainingChoices.init)
  }

  /// The metadata as the model file holds it: JSON, keys sorted.
  public func json() throws(ModelFileError) -> [UInt8] { try ModelFile.json(self, source: "the model") }
}

/// The settings a fit chose for itself, each with its reason: what
/// ``TrainingResult`` reports, as a model file records it.
public struct TrainingChoices: Sendable, Codable, Equatable {
  public var algorithm: Algorithm
  public var algorithmReason: String
  public var l2: Float
  public var l2Reason: String
  public var schedule: ScheduleKind
  public var scheduleReason: String
  public var learningRate: Float
  public var learningRateReason: String
  public var standardized: Bool
  public var scalingReason: String
  public var stopping: String
  /// The epoch whose model was kept (see ``TrainingResult/modelEpoch``).
  public var modelEpoch: Int

  public init(_ result: TrainingResult) {
    (algorithm, algorithmReason) = (result.algorithm.kind, result.algorithm.reason)
    (l2, l2Reason) = (result.l2.value, result.l2.reason)
    (schedule, scheduleReason) = (result.schedule.kind, result.schedule.reason)
    (learningRate, learningRateReason) = (result.learningRate.value, result.learningRate.reason)
    (standardized, scalingReason) = (result.scaling.standardized, result.scaling.reason)
    stopping = result.stopping
    modelEpoch = result.modelEpoch
  }
}

/// What a model file holds, recorded in its metadata as `kind` (absent:
/// linear, as in every file written before clustering existed).
public enum ModelKind: String, Sendable, Codable {
  /// A ``LinearModel`` from `sounder train`.
  case linear
  /// A ``ClusterModel`` from `sounder cluster`.
  case kMeans = "k-means"

  /// The kind with its article, for messages.
  var article: String {
    switch self {
    case .linear: "a linear model (from sounder train)"
    case .kMeans: "a k-means model (from sounder cluster)"
    }
  }
}

/// The Sounder release, recorded in model files.
public let sounderVersion = "0.1.0"

/// A model on disk: a 64-byte header, the JSON metadata, then the weights as
/// little-endian float32 at a 64-byte aligned offset.
///
///     0  "SNDRMODL"           magic
///     8  UInt32 version       format version (2; 1 is read too)
///     12 UInt32 JSON bytes
///     16 UInt64 weights       number of weights (features × outputs, feature-major)
///     24 UInt64 offset        where the weights start
///     32 UInt32 CRC32C        of the JSON bytes
///     36 UInt32 CRC32C        of the weight bytes
///
/// Version 2 records the model's shape in the metadata (`outputs`,
/// `intercepts`, and `classes`/`classNames` for multiclass models); a
/// version 1 file is a one-output model whose intercept is `bias`.
///
/// Files are written through ``OutputFile``: complete or not at all.
public enum ModelFile {
  static let magic = Array("SNDRMODL".utf8)
  /// The format version this build writes and the newest it reads.
  public static let version: UInt32 = 2

  /// Writes `model` and `metadata` to `path`, replacing any file there only
  /// once the new one is complete.
  public static func write(_ model: LinearModel, metadata: ModelMetadata, to path: String)
    throws(ModelFileError)
  {
    try write(encoding: metadata, values: model.weights, to: path)
  }

  /// Reads the model and its metadata from `path`, checking the header, the
  /// sizes and both checksums.
  public static func read(_ path: String) throws(ModelFileError) -> (
    model: LinearModel, metadata: ModelMetadata
  ) {
    try linear(from: readParts(path), source: path)
  }

  /// The model and metadata in `bytes`, a whole model file held in memory
  /// (``encoded(_:metadata:)``), checked as ``read(_:)`` checks a file;
  /// `source` names the bytes in errors.
  public static func read(bytes: UnsafeRawBufferPointer, source: String) throws(ModelFileError) -> (
    model: LinearModel, metadata: ModelMetadata
  ) {
    try linear(from: parts(of: bytes, source: source), source: source)
  }

  /// The bytes of a model file holding `model` and `metadata`: what
  /// ``write(_:metadata:to:)-(LinearModel,_,_)`` writes.
  public static func encoded(_ model: LinearModel, metadata: ModelMetadata) throws(ModelFileError) -> [UInt8]
  {
    try encoded(metadata, values: model.weights, source: "the model")
  }

  /// A linear model from a file's checked parts.
  static func linear(from parts: (json: [UInt8], values: [Float]), source path: String) throws(ModelFileError)
    -> (model: LinearModel, metadata: ModelMetadata)
  {
    let (json, weights) = parts
    try expect(.linear, in: json, path: path)
    let metadata: ModelMetadata = try decode(json, path: path)
    let weightCount = weights.count
    let intercepts = metadata.intercepts ?? [metadata.bias ?? 0]
    let outputs = metadata.outputs ?? 1
    guard outputs >= 1, intercepts.count == outputs, metadata.features >= 0,
      metadata.features.multipliedReportingOverflow(by: outputs) == (weightCount, false)
    else {
      throw .corrupt(
        path: path,
        reason:
          "the metadata lists \(metadata.features) features × \(outputs) outputs and \(intercepts.count) intercepts, but the file holds \(weightCount) weights"
      )
    }
    if let classes = metadata.classes, classes.count != max(outputs, 2) {
      throw .corrupt(path: path, reason: "the metadata lists \(classes.count) classes for \(outputs) outputs")
    }
    if let names = metadata.classNames, names.count != max(outputs, 2) {
      throw .corrupt(
        path: path, reason: "the metadata lists \(names.count) class names for \(outputs) outputs")
    }
    return (
      LinearModel(
        loss: metadata.loss, weights: weights, intercepts: intercepts, classes: metadata.classes,
        classNames: metadata.classNames, scaler: metadata.scaler),
      metadata
    )
  }

  /// What kind of model the file at `path` holds (its header and metadata
  /// checked as by a read).
  public static func kind(of path: String) throws(ModelFileError) -> ModelKind {
    try kind(in: readParts(path).json, path: path)
  }

  /// What kind of model a whole model file held in memory holds.
  public static func kind(of bytes: UnsafeRawBufferPointer, source: String) throws(ModelFileError)
    -> ModelKind
  {
    try kind(in: parts(of: bytes, source: source).json, path: source)
  }

  /// The metadata's `kind`; files without one are linear.
  static func kind(in json: [UInt8], path: String) throws(ModelFileError) -> ModelKind {
    struct Probe: Decodable { var kind: ModelKind? }
    let probe: Probe = try decode(json, path: path)
    return probe.kind ?? .linear
  }

  /// Refuses a file of another kind with one line saying what it is.
  static func expect(_ expected: ModelKind, in json: [UInt8], path: String) throws(ModelFileError) {
    let found = try kind(in: json, path: path)
    guard found == expected else {
      throw .wrongKind(path: path, found: found.article, expected: expected.article)
    }
  }

  static func decode<T: Decodable>(_ json: [UInt8], path: String) throws(ModelFileError) -> T {
    do { return try JSONDecoder().decode(T.self, from: Data(json)) } catch {
      throw .corrupt(path: path, reason: "the metadata is not valid: \(error)")
    }
  }

  /// Writes the header, `metadata` as JSON and `values` to `path`, complete or not at all.
  static func write<Metadata: Encodable>(encoding metadata: Metadata, values: [Float], to path: String)
    throws(ModelFileError)
  {
    let bytes = try encoded(metadata, values: values, source: path)
    do {
      let file = try OutputFile(creating: path)
      try file.write(bytes)
      try file.commit()
    } catch { throw .io(error) }
  }

  /// `metadata` as a model file holds it: JSON, keys sorted.
  static func json<Metadata: Encodable>(_ metadata: Metadata, source path: String) throws(ModelFileError)
    -> [UInt8]
  {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    do { return Array(try encoder.encode(metadata)) } catch {
      throw .corrupt(path: path, reason: "the metadata could not be encoded: \(error)")
    }
  }

  /// The header, `metadata` as JSON and `values`: a whole model file.
  static func encoded<Metadata: Encodable>(_ metadata: Metadata, values: [Float], source path: String)
    throws(ModelFileError) -> [UInt8]
  {
    let json = try Self.json(metadata, source: path)
    let offset = (64 + json.count + 63) / 64 * 64
    var bytes = [UInt8](repeating: 0, count: offset + values.count * 4)
    bytes.replaceSubrange(0..<8, with: magic)
    put(version, into: &bytes, at: 8)
    put(UInt32(json.count), into: &bytes, at: 12)
    put(UInt64(values.count), into: &bytes, at: 16)
    put(UInt64(offset), into: &bytes, at: 24)
    put(json.withUnsafeBytes { CRC32C.checksum($0) }, into: &bytes, at: 32)
    put(values.withUnsafeBytes { CRC32C.checksum($0) }, into: &bytes, at: 36)
    bytes.replaceSubrange(64..<(64 + json.count), with: json)
    // Little-endian float32, as every platform Sounder builds for stores them.
    bytes.withUnsafeMutableBytes { out in
      values.withUnsafeBytes { source in
        guard let from = source.baseAddress else { return }
        (out.baseAddress! + offset).copyMemory(from: from, byteCount: source.count)
      }
    }
    return bytes
  }

  /// The metadata bytes and the values of the file at `path`, its header,
  /// sizes and both checksums checked.
  static func readParts(_ path: String) throws(ModelFileError) -> (json: [UInt8], values: [Float]) {
    let mapped: MappedFile
    do { mapped = try MappedFile(path: path) } catch { throw .io(error) }
    return try parts(of: mapped.bytes, source: path)
  }

  /// The metadata bytes and the values of a model file's `bytes`, its header,
  /// sizes and both checksums checked; `source` names it in errors.
  static func parts(of bytes: UnsafeRawBufferPointer, source path: String) throws(ModelFileError) -> (
    json: [UInt8], values: [Float]
  ) {
    guard bytes.count >= 8, Array(bytes[0..<8]) == magic else { throw .notAModel(path: path) }
    guard bytes.count >= 64 else {
      throw .corrupt(path: path, reason: "\(bytes.count) bytes is shorter than the 64-byte header")
    }
    let found: UInt32 = get(bytes, 8)
    guard found <= version else { throw .unsupportedVersion(path: path, found: found, supported: version) }
    let jsonCount = Int(get(bytes, 12) as UInt32)
    let weightCount = get(bytes, 16) as UInt64
    let offset = get(bytes, 24) as UInt64
    // Sizes come from the file: every sum and product is checked before it is used.
    let (end, overflow) = offset.addingReportingOverflow(weightCount &* 4)
    guard weightCount < UInt64(Int32.max), jsonCount <= bytes.count - 64, offset >= UInt64(64 + jsonCount),
      !overflow, end <= UInt64(bytes.count)
    else {
      throw .corrupt(
        path: path,
        reason:
          "the header promises \(weightCount) weights at byte \(offset), but the file has \(bytes.count) bytes"
      )
    }
    let json = UnsafeRawBufferPointer(rebasing: bytes[64..<(64 + jsonCount)])
    let weightBytes = UnsafeRawBufferPointer(rebasing: bytes[Int(offset)..<Int(offset + weightCount * 4)])
    guard CRC32C.checksum(json) == get(bytes, 32) else {
      throw .corrupt(path: path, reason: "the metadata checksum does not match")
    }
    guard CRC32C.checksum(weightBytes) == get(bytes, 36) else {
      throw .corrupt(path: path, reason: "the weights checksum does not match")
    }
    let values = (0..<Int(weightCount)).map {
      Float(
        bitPattern: UInt32(littleEndian: weightBytes.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
    }
    return (Array(json), values)
  }

  private static func put<T: FixedWidthInteger>(_ value: T, into bytes: inout [UInt8], at offset: Int) {
    withUnsafeBytes(of: value.littleEndian) {
      bytes.replaceSubrange(offset..<offset + MemoryLayout<T>.size, with: $0)
    }
  }

  private static func get<T: FixedWidthInteger>(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> T {
    T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
  }
}
