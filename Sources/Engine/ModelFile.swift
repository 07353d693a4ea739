import Dataset
import Foundation
import Learning

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

  public var description: String {
    switch self {
    case .io(let error): error.description
    case .notAModel(let path): "\(path): not a Sounder model (it does not start with \"SNDRMODL\")"
    case .unsupportedVersion(let path, let found, let supported):
      "\(path): model format version \(found) is newer than this Sounder reads (\(supported)); upgrade Sounder"
    case .corrupt(let path, let reason): "\(path): damaged model file: \(reason)"
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
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    let json: [UInt8]
    do { json = Array(try encoder.encode(metadata)) } catch {
      throw .corrupt(path: path, reason: "the metadata could not be encoded: \(error)")
    }
    let offset = (64 + json.count + 63) / 64 * 64
    var header = [UInt8](repeating: 0, count: 64)
    header.replaceSubrange(0..<8, with: magic)
    put(version, into: &header, at: 8)
    put(UInt32(json.count), into: &header, at: 12)
    put(UInt64(model.weights.count), into: &header, at: 16)
    put(UInt64(offset), into: &header, at: 24)
    put(json.withUnsafeBytes { CRC32C.checksum($0) }, into: &header, at: 32)
    put(model.weights.withUnsafeBytes { CRC32C.checksum($0) }, into: &header, at: 36)
    do {
      let file = try OutputFile(creating: path)
      try file.write(header)
      try file.write(json)
      try file.pad(toMultipleOf: 64)
      try file.write(model.weights)
      try file.commit()
    } catch { throw .io(error) }
  }

  /// Reads the model and its metadata from `path`, checking the header, the
  /// sizes and both checksums.
  public static func read(_ path: String) throws(ModelFileError) -> (
    model: LinearModel, metadata: ModelMetadata
  ) {
    let mapped: MappedFile
    do { mapped = try MappedFile(path: path) } catch { throw .io(error) }
    let bytes = mapped.bytes
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
    let metadata: ModelMetadata
    do { metadata = try JSONDecoder().decode(ModelMetadata.self, from: Data(json)) } catch {
      throw .corrupt(path: path, reason: "the metadata is not valid: \(error)")
    }
    let intercepts = metadata.intercepts ?? [metadata.bias ?? 0]
    let outputs = metadata.outputs ?? 1
    guard outputs >= 1, intercepts.count == outputs, metadata.features >= 0,
      metadata.features.multipliedReportingOverflow(by: outputs) == (Int(weightCount), false)
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
    let weights = (0..<Int(weightCount)).map {
      Float(
        bitPattern: UInt32(littleEndian: weightBytes.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
    }
    return (
      LinearModel(
        loss: metadata.loss, weights: weights, intercepts: intercepts, classes: metadata.classes,
        classNames: metadata.classNames, scaler: metadata.scaler),
      metadata
    )
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
