import ArgumentParser
import Foundation
import Sounder

/// `sounder profile`: what threads, strategy, data placement and replication
/// do to speed and convergence on this machine, in one sweep.
struct ProfileCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "profile",
    abstract:
      "Sweep threads, strategies (or k-means algorithms), placement and replication; write JSON, CSV and an SVG report.",
    discussion: """
      Every combination of the lists trains from scratch for --epochs epochs, or until the \
      training loss reaches --target-loss (then --epochs is the limit). The report gives, per \
      run: epoch time, examples/s, GB/s, the epoch time against the memory-bandwidth floor, \
      speed-up and parallel efficiency over 1 thread, and epochs and seconds to the target. \
      A sync run with --algorithm sgd runs as minibatch (sync needs whole batches). With \
      --cluster K the runs are k-means fits instead: --algorithms replaces --strategy, --epochs is \
      the iteration limit, --target-loss a target inertia, and the chart shows inertia.
      """
  )

  @Argument(help: "The training data.")
  var data: String

  @OptionGroup(title: "Reading the data")
  var input: InputOptions

  @OptionGroup(title: "The model and its optimisation")
  var model: ModelOptions

  @Option(help: "Thread counts, comma-separated (default: 1, 2, 4, ... up to all cores).")
  var threads: String?

  @Option(help: "Strategies, comma-separated: hogwild, per-node, per-core, sync, auto.")
  var strategy: String = "hogwild,per-node,per-core,sync"

  @Option(help: "Data placements, comma-separated: as-loaded, local, interleave, single-node.")
  var placement: String = "local"

  @Option(help: "Data replication, comma-separated: shard, full.")
  var dataReplication: String = "shard"

  @Option(help: "Epochs per run (with --target-loss: the most epochs a run may take).")
  var epochs: Int = 5

  @Option(help: "Train each run until its training loss is at most this.")
  var targetLoss: Double?

  @Option(help: "Treat this one-node machine as K NUMA nodes (its cores split in K); the report says so.")
  var simulateNodes: Int?

  @Option(help: "Worker placement: spread or close.")
  var policy: PlacementPolicy = .spread

  @Option(help: "Profile k-means with this many clusters instead of training.")
  var cluster: Int?

  @Option(help: "With --cluster: k-means algorithms, comma-separated: lloyd, bounded, minibatch.")
  var algorithms: String = "lloyd,bounded,minibatch"

  @Option(name: .customLong("init"), help: "With --cluster: k-means++, k-means-parallel or random.")
  var initialization: KMeansInitialization = .kMeansPlusPlus

  @Option(help: "With --cluster: stop a run when the centres move less than this share of the mean variance.")
  var tol: Double = 1e-4

  @Option(name: .shortAndLong, help: "The folder for profile.json, profile.csv and profile.svg.")
  var output: String = "."

  @Flag(help: "No progress bar.")
  var quiet = false

  func run() throws {
    let machine = try Topology.current()
    var base = model.configuration
    base.execution.placement = policy
    var sweep = ProfileSweep(base: base)
    sweep.threads = try threadCounts(machine: machine)
    sweep.strategies = try list(strategy, option: "--strategy")
    sweep.placements = try list(placement, option: "--placement")
    sweep.replications = try list(dataReplication, option: "--data-replication")
    sweep.epochs = epochs
    sweep.targetLoss = targetLoss
    sweep.simulatedNodes = simulateNodes
    if let cluster {
      var clustering = KMeansConfiguration(clusters: cluster)
      clustering.initialization = initialization
      clustering.tolerance = tol
      clustering.execution.placement = policy
      clustering.execution.seed = model.seed
      sweep.clustering = clustering
      sweep.kMeansAlgorithms = try list(algorithms, option: "--algorithms")
    }
    do { try sweep.validate(on: machine) } catch { throw CLIError(error.description) }

    let opened = try input.open(data)
    if cluster == nil { try opened.requireLabels(for: "profile") }
    let dataset = opened.dataset
    let header = dataset.header
    sweep.base.problem.loss = model.loss(for: header.labelKind).loss
    base.problem.loss = sweep.base.problem.loss
    do { try sweep.validate(on: machine) } catch { throw CLIError(error.description) }
    let job = cluster.map { "k-means (k = \($0))" } ?? "\(base.problem.loss.rawValue) loss"
    // A row a run, each out as the run ends, wherever standard output goes.
    let lines = LogLines(json: false)
    lines.say(
      "Profiling \(job) on \(data): \(header.rows) rows × \(header.columns) features "
        + "(\(header.layout)); \(sweep.combinations.count) runs on \(machine.summary)")
    if let simulateNodes {
      lines.say(
        "Simulated: \(simulateNodes) NUMA nodes on this machine's one; all memory is on the real node")
    }
    lines.say(Self.tableHeader)
    let total = sweep.combinations.count
    var index = 0
    let bar = ProgressBar(quiet: quiet)
    let report: ProfileReport
    do {
      report = try sweep.run(
        on: opened.rows, machine: machine,
        finished: { run in
          bar.finish()
          lines.say(Self.row(run))
        },
        epochDone: { combination, epoch in
          if epoch == 1 { index += 1 }
          bar.status(
            "run \(index)/\(total): \(combination.label), \(cluster == nil ? "epoch" : "iteration") \(epoch)")
        })
    } catch let error as TrainingError {
      bar.finish()
      throw CLIError(error.description)
    }
    bar.finish()
    lines.say("Hardware counters: \(report.hardwareCounters)")
    for run in report.missedTarget {
      lines.say(
        "Not reached: \(run.combination.label) stopped at the \(epochs)-\(cluster == nil ? "epoch" : "iteration") limit with \(cluster == nil ? "loss" : "inertia") \(ProfileChart.format(run.finalLoss)), above the target \(ProfileChart.format(targetLoss!))"
      )
    }
    // The folder appears only once there is a report to put in it.
    try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
    let folder = URL(fileURLWithPath: output)
    for (name, text) in [
      ("profile.json", report.json), ("profile.csv", report.csv), ("profile.svg", ProfileChart.svg(report)),
    ] {
      let path = folder.appendingPathComponent(name).path
      do {
        let file = try OutputFile(creating: path)
        try file.write(text)
        try file.commit()
      } catch { throw CLIError("cannot write \(path): \(error)") }
    }
    lines.say("Wrote profile.json, profile.csv and profile.svg to \(folder.path)")
  }

  static let tableHeader =
    "  threads  strategy        placement    replication  epoch ms  examples/s    GB/s  floor  speed-up  effic.  to target"

  static func row(_ run: ProfileRun) -> String {
    let c = run.combination
    let target =
      run.epochsToTarget.map { "\($0) ep, \(String(format: "%.3f", run.secondsToTarget ?? 0)) s" } ?? "-"
    let strategy =
      c.strategy == .auto && c.kMeansAlgorithm == nil ? "auto→\(run.strategyRun)" : run.strategyRun
    return String(
      format: "  %@  %@  %@  %@  %@  %@  %@  %@  %@  %@  %@", String(c.threads).leftPadded(7),
      strategy.padded(14), c.placement.rawValue.padded(11), c.replication.rawValue.padded(11),
      String(format: "%.1f", run.bestEpochSeconds * 1000).leftPadded(8),
      String(format: "%.3g", run.examplesPerSecond).leftPadded(10),
      String(format: "%.2f", run.gigabytesPerSecond).leftPadded(6),
      String(format: "%.0f%%", run.floorShare * 100).leftPadded(5),
      (run.speedup.map { String(format: "%.2f×", $0) } ?? "-").leftPadded(8),
      (run.efficiency.map { String(format: "%.0f%%", $0 * 100) } ?? "-").leftPadded(6), target)
  }

  /// The thread counts to sweep: given, or powers of two up to all cores.
  func threadCounts(machine: Topology) throws -> [Int] {
    guard let threads else {
      let cores = machine.cores.count
      var counts = Array(sequence(first: 1) { $0 * 2 < cores ? $0 * 2 : nil })
      if counts.last != cores { counts.append(cores) }
      return counts
    }
    return try threads.split(separator: ",").map { text in
      guard let count = Int(text.trimmingCharacters(in: .whitespaces)) else {
        throw CLIError("--threads: \"\(text)\" is not a whole number (give a list such as 1,2,4)")
      }
      return count
    }
  }

  /// The values of a comma-separated list option, each checked by name.
  func list<T: RawRepresentable & CaseIterable>(_ text: String, option: String) throws -> [T]
  where T.RawValue == String {
    try text.split(separator: ",").map { item in
      let name = item.trimmingCharacters(in: .whitespaces)
      guard let value = T(rawValue: name) else {
        throw CLIError(
          "\(option): unknown value \"\(name)\"; choose from \(T.allCases.map(\.rawValue).joined(separator: ", "))"
        )
      }
      return value
    }
  }
}

extension String {
  /// The string left-aligned in `width` columns.
  func padded(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
}
