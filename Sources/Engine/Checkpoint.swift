import Dataset
import Learning

/// Where a run stood after a whole epoch: enough to carry on from there as if
/// it had never stopped.
public struct Checkpoint: Sendable, Codable, Equatable {
  /// Epochs completed.
  public var epoch: Int
  /// The weights (features × outputs, feature-major) and the intercepts as
  /// trained (on standardised features when the configuration standardises).
  public var weights: [Float]
  public var intercepts: [Float]
  /// The reports of the completed epochs.
  public var history: [EpochReport]
  /// Early stopping's state: the best monitored loss so far (`nil`: none
  /// yet) and the epochs since it last improved.
  public var bestLoss: Double?
  public var epochsWithoutImprovement: Int
  /// The configuration of the run, which a resumed run must share.
  public var configuration: TrainingConfiguration
  /// AdaGrad's sums of squared gradients, weights' then the intercepts' (`nil`
  /// under the global schedules), so a resumed run keeps its step sizes.
  public var squaredSums: [Float]? = nil
  /// What the training data was (``TrainingData/fingerprint(of:)``), so a
  /// run resumed on other data of the same width is refused (`nil` in
  /// checkpoints written before it was recorded).
  public var data: String? = nil
  /// Early stopping's kept model so far, when it keeps the least
  /// validation loss's (`nil`: none, or the last is kept).
  public var kept: KeptModel? = nil

  /// Checks that a run with `configuration` on `columns` features and
  /// `outputs` outputs of the data `fingerprint` can carry on from this
  /// checkpoint: only the number of epochs may differ.
  public func check(
    resuming configuration: TrainingConfiguration, columns: Int, outputs: Int, fingerprint: String
  ) throws(TrainingError) {
    var mine = self.configuration
    mine.stopping.epochs = configuration.stopping.epochs
    guard mine == configuration else {
      throw .invalidConfiguration(
        "the checkpoint was made with other training settings; resume with the same options (only --epochs may change)"
      )
    }
    guard weights.count == columns * outputs, intercepts.count == outputs else {
      throw .invalidConfiguration(
        "the checkpoint holds \(weights.count) weights for \(intercepts.count) outputs but the data has \(columns) features and \(outputs) outputs; resume on the same data"
      )
    }
    if let data, data != fingerprint {
      throw .invalidConfiguration(
        "the checkpoint was made on other data (\(data)) than this (\(fingerprint)); resume on the same data")
    }
    let parameters = (columns + 1) * outputs
    if let squaredSums, squaredSums.count != parameters {
      throw .invalidConfiguration(
        "the checkpoint holds \(squaredSums.count) AdaGrad sums for \(parameters) parameters; it is damaged"
      )
    }
  }
}

/// The model early stopping keeps for its least validation loss, as
/// trained (like ``Checkpoint/weights``), with its epoch and that loss.
public struct KeptModel: Sendable, Codable, Equatable {
  public var epoch: Int
  public var loss: Double
  public var weights: [Float]
  public var intercepts: [Float]
}

/// The training-state part of a checkpoint, kept in a model file's metadata
/// (the weights are the file's weights).
public struct CheckpointState: Sendable, Codable, Equatable {
  public var epoch: Int
  public var history: [EpochReport]
  public var bestLoss: Double?
  public var epochsWithoutImprovement: Int
  public var configuration: TrainingConfiguration
  public var squaredSums: [Float]?
  public var data: String?
  public var kept: KeptModel? = nil
}

/// Identifies training data for checkpoints.
public enum TrainingData {
  /// Rows, columns, stored values and CRC-32C checksums of the labels and of
  /// the first and last rows' values: different data of the same width
  /// differs here, at the cost of one pass over the labels.
  public static func fingerprint(of checked: CheckedRows) -> String {
    let rows = checked.block
    func checksum(_ row: Int) -> UInt32 {
      switch rows.layout {
      case .dense: return CRC32C.checksum(UnsafeRawBufferPointer(rows.denseRow(row)))
      case .csr:
        var crc = CRC32C()
        let x = rows.sparseRow(row)
        crc.update(UnsafeRawBufferPointer(x.indices))
        crc.update(UnsafeRawBufferPointer(x.values))
        return crc.value
      }
    }
    let labels = CRC32C.checksum(UnsafeRawBufferPointer(start: rows.labels, count: rows.count * 4))
    let edges = rows.count > 0 ? "\(checksum(0))/\(checksum(rows.count - 1))" : "-"
    return
      "\(rows.count) rows × \(rows.columns) columns, \(rows.nonZeros) values, labels \(labels), rows \(edges)"
  }

  /// The fingerprint of every process's own rows (`everywhere`), the same on
  /// every process: each one's CRC-32C of its own fingerprint, in process order.
  static func fingerprint(of checked: CheckedRows, everywhere: (any Reducer)?) throws(TrainingError) -> String
  {
    let mine = fingerprint(of: checked)
    guard let everywhere, everywhere.processes > 1 else { return mine }
    var table = [Double](repeating: 0, count: everywhere.processes)
    table[everywhere.rank] = Double(Array(mine.utf8).withUnsafeBytes { CRC32C.checksum($0) })
    let all = try TrainingSet.summed(table, over: everywhere)
    return "\(everywhere.processes) processes' own rows: "
      + all.map { String(UInt32($0), radix: 16) }.joined(separator: " ")
  }
}

extension ModelFile {
  /// Writes `checkpoint` to `path` atomically: a killed run leaves the
  /// previous checkpoint, never a torn one.
  public static func write(_ checkpoint: Checkpoint, to path: String) throws(ModelFileError) {
    let model = LinearModel(
      loss: checkpoint.configuration.problem.loss, weights: checkpoint.weights,
      intercepts: checkpoint.intercepts)
    var metadata = ModelMetadata(model: model, configuration: checkpoint.configuration)
    metadata.checkpoint = CheckpointState(
      epoch: checkpoint.epoch, history: checkpoint.history, bestLoss: checkpoint.bestLoss,
      epochsWithoutImprovement: checkpoint.epochsWithoutImprovement, configuration: checkpoint.configuration,
      squaredSums: checkpoint.squaredSums, data: checkpoint.data, kept: checkpoint.kept)
    try write(model, metadata: metadata, to: path)
  }

  /// Reads a checkpoint written by ``write(_:to:)``.
  public static func readCheckpoint(_ path: String) throws(ModelFileError) -> Checkpoint {
    let (model, metadata) = try read(path)
    guard let state = metadata.checkpoint else {
      throw .corrupt(path: path, reason: "it is a model file, not a checkpoint")
    }
    return Checkpoint(
      epoch: state.epoch, weights: model.weights, intercepts: model.intercepts, history: state.history,
      bestLoss: state.bestLoss, epochsWithoutImprovement: state.epochsWithoutImprovement,
      configuration: state.configuration, squaredSums: state.squaredSums, data: state.data, kept: state.kept)
  }
}
