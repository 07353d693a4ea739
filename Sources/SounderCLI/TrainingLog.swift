import Foundation
import Sounder

/// The memory-bandwidth floor an epoch is compared against: the read
/// bandwidth of the training's thread count, when the data is larger than
/// the caches (for cache-resident data the floor means nothing, and none is
/// shown). Measured once per machine and thread count and kept
/// (``BandwidthCache``); `sounder bandwidth` re-measures.
struct BandwidthFloor {
  /// Read bandwidth in bytes per second, or `nil` when not measured.
  let bytesPerSecond: Double?
  /// Whether the figure came from the cache.
  let cached: Bool

  init(rows: RowBlock, threads: Int, machine: Topology) throws {
    let featureBytes = rows.layout == .dense ? rows.nonZeros * 4 : rows.nonZeros * 8
    guard featureBytes >= 64 << 20 else {
      bytesPerSecond = nil
      cached = false
      return
    }
    let probe = BandwidthProbe(topology: machine, bytes: 256 << 20, repetitions: 3)
    (bytesPerSecond, cached) = try BandwidthCache.user.readBandwidth(
      threads: threads, topology: machine, probe: probe)
  }

  /// The epoch's read rate as a share of the floor: 1 means the epoch took
  /// exactly as long as reading its bytes once at full bandwidth.
  func fraction(of report: EpochReport) -> Double? { bytesPerSecond.map { report.bytesPerSecond / $0 } }
}

/// What `sounder train` prints: a table on the terminal, or JSON lines.
struct TrainingLog {
  private let lines: LogLines
  var json: Bool { lines.json }

  init(json: Bool) { lines = LogLines(json: json) }

  func start(path: String, dataset: Dataset, configuration: TrainingConfiguration) {
    guard !json else { return }
    let header = dataset.header
    lines.say(
      "Training \(configuration.problem.loss.rawValue) loss on \(path): \(header.rows) rows × \(header.columns) features (\(header.layout))"
    )
    lines.say(
      configuration.stopping.exactLoss
        ? "Train loss: the epoch's model on every training row (a separate pass)"
        : "Train loss: each row's at its own step, averaged over the epoch (--exact-loss: the epoch's model)")
  }

  /// A line of its own on the terminal (nothing in JSON mode).
  func note(_ text: String) { lines.note(text) }

  func epoch(_ report: EpochReport, floor: BandwidthFloor) {
    if json {
      struct Line: Encodable {
        var event = "epoch"
        var report: EpochReport
        var floorFraction: Double?
      }
      lines.emit(Line(report: report, floorFraction: floor.fraction(of: report)))
      return
    }
    if report.epoch == 1 {
      lines.say("  epoch  train loss  validation  seconds   rows/s      GB/s   floor")
    }
    let validation = report.validationMetric.map { String(format: "%.4f", $0) } ?? "-"
    let share = floor.fraction(of: report).map { String(format: "%.0f%%", $0 * 100) } ?? "-"
    lines.say(
      String(
        format: "  %5d  %10.6f  %@  %7.3f  %9.3g  %6.2f  %@", report.epoch, report.trainingLoss,
        validation.leftPadded(10), report.seconds, report.examplesPerSecond, report.bytesPerSecond / 1e9,
        share.leftPadded(6)))
  }

  func finish(_ result: TrainingResult, stats: Bool) {
    if json {
      struct Line: Encodable {
        var event = "finished"
        var strategy: StrategyChoice
        var cpus: [Int]
        var stopReason: String
        var trainingRows: Int
        var validationRows: Int
        var workers: [WorkerStats]
        var standardized: Bool
        var scalingReason: String
        var learningRate: Float
        var learningRateReason: String
        var schedule: String
        var scheduleReason: String
        var algorithm: String
        var algorithmReason: String
        var l2: Float
        var l2Reason: String
        var stopping: String
        var modelEpoch: Int
      }
      lines.emit(
        Line(
          strategy: result.strategy, cpus: result.placement, stopReason: result.stopReason.description,
          trainingRows: result.trainingRows, validationRows: result.validationRows, workers: result.workers,
          standardized: result.scaling.standardized, scalingReason: result.scaling.reason,
          learningRate: result.learningRate.value, learningRateReason: result.learningRate.reason,
          schedule: result.schedule.kind.rawValue, scheduleReason: result.schedule.reason,
          algorithm: result.algorithm.kind.rawValue, algorithmReason: result.algorithm.reason,
          l2: result.l2.value, l2Reason: result.l2.reason, stopping: result.stopping,
          modelEpoch: result.modelEpoch))
      return
    }
    if result.model.isMulticlass {
      let model = result.model
      let how = model.loss == .softmax ? "softmax" : "one-vs-rest \(model.loss.rawValue)"
      let names = model.classNames ?? (model.classes ?? []).map(LinearModel.labelText)
      lines.say("Multiclass: \(model.outputs) classes (\(names.joined(separator: ", "))), \(how)")
    } else if let (negative, positive) = result.model.binaryClasses {
      let names = result.model.classNames ?? [negative, positive].map(LinearModel.labelText)
      lines.say(
        "Binary: classes \(names[0]) and \(names[1]), \(names[1]) the positive one (predictions are these labels)"
      )
    }
    /// "Name: value, as requested" or "Name: value: why it was chosen".
    func choice(_ name: String, _ value: String, _ reason: String) {
      lines.say("\(name): \(value)" + (reason == "as requested" ? ", as requested" : ": \(reason)"))
    }
    choice("Features", result.scaling.standardized ? "standardised" : "as they are", result.scaling.reason)
    choice("Algorithm", result.algorithm.kind.rawValue, result.algorithm.reason)
    choice("L2 strength", String(format: "%.3g", result.l2.value), result.l2.reason)
    choice("Schedule", result.schedule.kind.rawValue, result.schedule.reason)
    choice("Learning rate", String(format: "%.3g", result.learningRate.value), result.learningRate.reason)
    if let warm = result.warmStart {
      lines.say(
        "Warm start: \(warm.epoch) epochs of averaged per-core SGD, loss \(String(format: "%.6f", warm.trainingLoss)), "
          + "where L-BFGS began")
    }
    lines.say("Strategy \(result.strategy.strategy.rawValue): \(result.strategy.reason)")
    lines.say(
      "Workers: \(result.placement.count) on CPUs \(result.placement.map(String.init).joined(separator: ",")); "
        + "\(result.trainingRows) rows trained, \(result.validationRows) held out")
    lines.say("Stopping: \(result.stopping)")
    lines.say("Stopped: \(result.stopReason)")
    if let last = result.history.last?.epoch, result.modelEpoch != last, result.modelEpoch > 0 {
      lines.say("Model: epoch \(result.modelEpoch)'s, of the least validation loss")
    }
    if stats { lines.say(workerTable(result.workers), terminator: "") }
  }

  func summary(_ metrics: Metrics, on subset: String, output: String) {
    if json {
      struct Line: Encodable {
        var event = "metrics"
        var on: String
        var metrics: Metrics
        var model: String
      }
      lines.emit(Line(on: subset, metrics: metrics, model: output))
      return
    }
    lines.say("Metrics on \(subset) rows: \(describe(metrics))")
    lines.say("Model written to \(output)")
  }

}

/// "accuracy 0.9649, log-loss 0.0912, ..." for the metrics that are set.
func describe(_ metrics: Metrics) -> String {
  let named: [(String, Double?)] = [
    ("MSE", metrics.mse), ("RMSE", metrics.rmse), ("MAE", metrics.mae), ("R²", metrics.r2),
    ("accuracy", metrics.accuracy), ("log-loss", metrics.logLoss), ("ROC AUC", metrics.rocAUC),
    ("precision", metrics.precision), ("recall", metrics.recall), ("F1", metrics.f1),
    ("hinge", metrics.hinge), ("macro-F1", metrics.macroF1),
  ]
  return named.compactMap { name, value in value.map { "\(name) \(String(format: "%.4g", $0))" } }
    .joined(separator: ", ")
}

extension String {
  /// The string right-aligned in `width` columns.
  func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}

/// The per-worker table of `sounder train --stats`: work done, where the
/// time went, and how much of each worker's data was in its node's memory.
func workerTable(_ workers: [WorkerStats]) -> String {
  let widths = [6, 4, 5, 8, 11, 12, 8, 10, 7, 8, 12]
  func row(_ place: [String], _ counts: WorkerCounts, _ share: Double?) -> String {
    let figures = [
      String(counts.examples), String(counts.nonZeros),
      String(format: "%.3f", Double(counts.bytesRead) / 1e9),
      String(format: "%.3f", counts.computeSeconds), String(format: "%.3f", counts.waitSeconds),
      String(format: "%.3f", counts.mergeSeconds), share.map { String(format: "%.0f%%", $0 * 100) } ?? "-",
    ]
    return zip(place + figures, widths).map { $0.leftPadded($1) }.joined(separator: " ") + "\n"
  }
  let header = [
    "worker", "cpu", "node", "replica", "examples", "non-zeros", "GB read", "compute s", "wait s", "merge s",
    "local pages",
  ]
  var text = zip(header, widths).map { $0.leftPadded($1) }.joined(separator: " ") + "\n"
  for stats in workers {
    text += row(
      [String(stats.worker), String(stats.cpu), String(stats.node), String(stats.replica)], stats.counts,
      stats.localPageShare)
  }
  text += row(["all", "", "", ""], workers.map(\.counts).reduce(WorkerCounts(), +), nil)
  let misplaced = workers.filter(\.isMisplaced).map { String($0.worker) }
  if !misplaced.isEmpty {
    text +=
      "Misplaced: worker(s) \(misplaced.joined(separator: ", ")) read most of their data from another node's memory\n"
  }
  return text
}
