import Dataset
import Engine
import Foundation
import Parallel
import Topology

/// One trained combination of a sweep, and what it cost.
public struct ProfileRun: Sendable, Codable {
  public var combination: ProfileCombination
  /// The strategy that ran (what `auto` chose, or the one requested), and
  /// with which algorithm when not SGD ("sync minibatch").
  public var strategyRun: String
  public var epochsRun: Int
  public var stopReason: String
  /// Seconds of the fastest epoch, and the median epoch.
  public var bestEpochSeconds: Double
  public var medianEpochSeconds: Double
  /// Examples per second and feature GB/s of the fastest epoch.
  public var examplesPerSecond: Double
  public var gigabytesPerSecond: Double
  /// Feature bytes of an epoch over the read bandwidth of as many threads.
  public var floorSeconds: Double
  /// `floorSeconds / bestEpochSeconds`: 1 would be an epoch at full bandwidth.
  public var floorShare: Double
  /// Examples/s over the same combination's with 1 thread, and that per thread.
  public var speedup: Double?
  public var efficiency: Double?
  public var finalLoss: Double
  /// Epochs and training seconds until the loss reached the target (`nil`:
  /// no target, or not reached within the epochs).
  public var epochsToTarget: Int?
  public var secondsToTarget: Double?
  /// Training loss after each epoch, against training seconds so far.
  public var curve: [LossPoint]
  public var workers: [WorkerStats]
  public var hardware: HardwareCounts?

  public struct LossPoint: Sendable, Codable, Equatable {
    public var seconds: Double
    public var loss: Double
  }

  init(
    combination: ProfileCombination, algorithm: Algorithm, result: TrainingResult, bandwidth: Double,
    targetLoss: Double?, hardware: HardwareCounts?
  ) {
    self.combination = combination
    strategyRun =
      result.strategy.strategy.rawValue + (algorithm == .sgd ? "" : " \(algorithm.rawValue)")
    epochsRun = result.history.count
    stopReason = result.stopReason.description
    let history = result.history
    let best = history.min { $0.seconds < $1.seconds }
    bestEpochSeconds = best?.seconds ?? .nan
    let sorted = history.map(\.seconds).sorted()
    medianEpochSeconds = sorted.isEmpty ? .nan : sorted[sorted.count / 2]
    examplesPerSecond = best?.examplesPerSecond ?? 0
    gigabytesPerSecond = (best?.bytesPerSecond ?? 0) / 1e9
    let epochBytes = (best?.bytesPerSecond ?? 0) * (best?.seconds ?? 0)
    floorSeconds = epochBytes / (bandwidth * 1e9)
    floorShare = bestEpochSeconds > 0 ? floorSeconds / bestEpochSeconds : 0
    finalLoss = history.last?.trainingLoss ?? .nan
    var elapsed = 0.0
    curve = history.map { report in
      elapsed += report.seconds
      return LossPoint(seconds: elapsed, loss: report.trainingLoss)
    }
    if let targetLoss, let index = history.firstIndex(where: { $0.trainingLoss <= targetLoss }) {
      epochsToTarget = index + 1
      secondsToTarget = curve[index].seconds
    }
    workers = result.workers
    self.hardware = hardware
  }
}

extension ProfileRun {
  /// A k-means run: its best run's iterations as epochs, inertia as the loss.
  init(
    combination: ProfileCombination, result: KMeansResult, rows: RowBlock, bandwidth: Double,
    targetInertia: Double?, hardware: HardwareCounts?
  ) {
    self.combination = combination
    strategyRun = combination.kMeansAlgorithm?.rawValue ?? "lloyd"
    let history = result.history.filter { $0.run == result.bestRun }
    epochsRun = history.count
    stopReason = result.stopReason.description
    let bytes = Double(rows.nonZeros * (rows.layout == .dense ? 4 : 8))
    let best = history.map(\.seconds).min()
    bestEpochSeconds = best ?? .nan
    let sorted = history.map(\.seconds).sorted()
    medianEpochSeconds = sorted.isEmpty ? .nan : sorted[sorted.count / 2]
    examplesPerSecond = best.map { Double(rows.count) / $0 } ?? 0
    gigabytesPerSecond = best.map { bytes / $0 / 1e9 } ?? 0
    floorSeconds = bytes / (bandwidth * 1e9)
    floorShare = bestEpochSeconds > 0 ? floorSeconds / bestEpochSeconds : 0
    finalLoss = result.inertia
    var elapsed = 0.0
    curve = history.map { report in
      elapsed += report.seconds
      return LossPoint(seconds: elapsed, loss: report.inertia)
    }
    if let targetInertia, let index = history.firstIndex(where: { $0.inertia <= targetInertia }) {
      epochsToTarget = index + 1
      secondsToTarget = curve[index].seconds
    }
    workers = result.workers
    self.hardware = hardware
  }
}

/// Everything a sweep measured: written as JSON, CSV and an SVG report.
public struct ProfileReport: Sendable, Codable {
  /// The ``loss`` of a k-means sweep's report.
  public static let kMeans = "k-means"

  public struct Bandwidth: Sendable, Codable, Equatable {
    public var threads: Int
    public var gigabytesPerSecond: Double
  }

  public var machine: String
  /// Pseudo-nodes the machine was split into (`nil`: its real nodes).
  public var simulatedNodes: Int?
  public var rows: Int
  public var columns: Int
  public var layout: String
  public var loss: String
  public var algorithm: String
  public var epochs: Int
  public var targetLoss: Double?
  /// The read bandwidth floor, per thread count.
  public var readBandwidth: [Bandwidth]
  /// "available", or why hardware counters could not be read.
  public var hardwareCounters: String
  public var runs: [ProfileRun]

  /// The report as indented JSON.
  public var json: String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self) + "\n"
  }

  /// One line per run, with a header line.
  public var csv: String {
    let header = [
      "threads", "strategy", "placement", "replication", "strategy_run", "epochs_run", "best_epoch_s",
      "median_epoch_s", "examples_per_s", "gb_per_s", "floor_s", "floor_share", "speedup", "efficiency",
      "final_loss", "epochs_to_target", "seconds_to_target", "cycles", "instructions", "cache_misses",
      "stop_reason",
    ]
    func number(_ value: Double?) -> String { value.map { String(format: "%.6g", $0) } ?? "" }
    let lines = runs.map { run -> String in
      let c = run.combination
      let fields: [String] = [
        String(c.threads), c.strategy.rawValue, c.placement.rawValue, c.replication.rawValue, run.strategyRun,
        String(run.epochsRun), number(run.bestEpochSeconds), number(run.medianEpochSeconds),
        number(run.examplesPerSecond), number(run.gigabytesPerSecond), number(run.floorSeconds),
        number(run.floorShare), number(run.speedup), number(run.efficiency), number(run.finalLoss),
        run.epochsToTarget.map(String.init) ?? "", number(run.secondsToTarget),
        run.hardware.map { String($0.cycles) } ?? "", run.hardware.map { String($0.instructions) } ?? "",
        run.hardware.map { String($0.cacheMisses) } ?? "", "\"\(run.stopReason)\"",
      ]
      return fields.joined(separator: ",")
    }
    return ([header.joined(separator: ",")] + lines).joined(separator: "\n") + "\n"
  }

  /// The runs that never reached the target loss.
  public var missedTarget: [ProfileRun] {
    targetLoss == nil ? [] : runs.filter { $0.epochsToTarget == nil }
  }
}

extension Topology {
  /// "1 NUMA node, 2 cores, 2 PUs".
  public var summary: String {
    func plural(_ count: Int, _ noun: String) -> String { "\(count) \(noun)\(count == 1 ? "" : "s")" }
    return
      "\(plural(nodes.count, "NUMA node")), \(plural(cores.count, "core")), \(plural(processingUnits.count, "PU"))"
  }
}
