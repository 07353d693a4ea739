import Learning

/// What a k-means model file records beside the centres, as readable JSON.
public struct ClusterMetadata: Sendable, Codable, Equatable {
  /// Always ``ModelKind/kMeans``: what tells the file from a linear model's.
  public var kind = ModelKind.kMeans
  /// The Sounder release that wrote it.
  public var library: String
  public var features: Int
  /// k, the number of centres.
  public var clusters: Int
  /// The standardisation applied to rows before they meet the centres.
  public var scaler: FeatureScaler?
  public var configuration: KMeansConfiguration?
  /// The fit's inertia, iterations (of its best run) and why it stopped.
  public var inertia: Double?
  public var iterations: Int?
  public var stopReason: String?
  public var rows: Int?

  /// Metadata for `model` and, when it came from a fit, what produced it.
  public init(model: ClusterModel, configuration: KMeansConfiguration? = nil, result: KMeansResult? = nil) {
    library = sounderVersion
    features = model.features
    clusters = model.clusters
    scaler = model.scaler
    self.configuration = configuration
    inertia = result?.inertia
    iterations = result?.iterations
    stopReason = result?.stopReason.description
    rows = result?.rows
  }

  /// The metadata as the model file holds it: JSON, keys sorted.
  public func json() throws(ModelFileError) -> [UInt8] { try ModelFile.json(self, source: "the model") }
}

extension ModelFile {
  /// Writes a k-means model: the metadata, then the centres (k × features,
  /// centre-major) where a linear model keeps its weights.
  public static func write(_ model: ClusterModel, metadata: ClusterMetadata, to path: String)
    throws(ModelFileError)
  {
    try write(encoding: metadata, values: model.centres, to: path)
  }

  /// Reads a k-means model written by ``write(_:metadata:to:)-(ClusterModel,_,_)``.
  public static func readClusters(_ path: String) throws(ModelFileError) -> (
    model: ClusterModel, metadata: ClusterMetadata
  ) {
    try clusters(from: readParts(path), source: path)
  }

  /// A k-means model from a whole model file held in memory, checked as
  /// ``readClusters(_:)`` checks a file; `source` names the bytes in errors.
  public static func readClusters(bytes: UnsafeRawBufferPointer, source: String) throws(ModelFileError) -> (
    model: ClusterModel, metadata: ClusterMetadata
  ) {
    try clusters(from: parts(of: bytes, source: source), source: source)
  }

  /// The bytes of a model file holding the k-means `model` and `metadata`.
  public static func encoded(_ model: ClusterModel, metadata: ClusterMetadata) throws(ModelFileError)
    -> [UInt8]
  {
    try encoded(metadata, values: model.centres, source: "the model")
  }

  /// A k-means model from a file's checked parts.
  static func clusters(from parts: (json: [UInt8], values: [Float]), source path: String)
    throws(ModelFileError) -> (model: ClusterModel, metadata: ClusterMetadata)
  {
    let (json, centres) = parts
    try expect(.kMeans, in: json, path: path)
    let metadata: ClusterMetadata = try decode(json, path: path)
    guard metadata.features >= 1, metadata.clusters >= 1,
      metadata.features.multipliedReportingOverflow(by: metadata.clusters) == (centres.count, false),
      metadata.scaler.map({ $0.means.count == metadata.features && $0.scales.count == metadata.features })
        ?? true
    else {
      throw .corrupt(
        path: path,
        reason:
          "the metadata lists \(metadata.clusters) centres × \(metadata.features) features, but the file holds \(centres.count) values"
      )
    }
    guard centres.allSatisfy(\.isFinite),
      metadata.scaler.map({
        $0.means.allSatisfy(\.isFinite) && $0.scales.allSatisfy { $0.isFinite && $0 > 0 }
      })
        ?? true
    else {
      throw .corrupt(
        path: path, reason: "a centre or scaling value is not a finite number (scales must be above 0)")
    }
    return (ClusterModel(centres: centres, features: metadata.features, scaler: metadata.scaler), metadata)
  }
}
