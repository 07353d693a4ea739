import ArgumentParser
import Foundation
import Sounder

/// `sounder cluster`: k-means with pinned workers.
struct ClusterCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "cluster",
    abstract: "Cluster rows with k-means on all cores and write the centres to a model file.",
    discussion: """
      DATA is read as for train; labels, if any, are ignored and row weights count. Prints one \
      line per iteration: the inertia (Σ weight × squared distance to the nearest centre) of the \
      centres the iteration started from, how far the update moved them, the rows that changed \
      cluster and the share of distances computed (below 100% when bounds skip them).
      """
  )

  @OptionGroup
  var source: DataSource

  @Option(name: .customShort("k"), help: "The number of clusters.")
  var clusters: Int

  @Option(name: .shortAndLong, help: "Where to write the model.")
  var output: String = "clusters.model"

  @Option(
    name: .customLong("init"),
    help:
      "k-means++ (greedy: the best of 2 + ln k candidates per centre), k-means-parallel (k-means‖: five sampling passes, for large k) or random (k distinct rows)."
  )
  var initialization: KMeansInitialization = .kMeansPlusPlus

  @Option(help: "Runs from different starting centres; the one of least inertia is kept.")
  var nInit: Int = 1

  @Option(
    help:
      "lloyd; bounded (Hamerly's bounds skip distances; the same result as lloyd); or minibatch (Sculley: running means over batches; an iteration is an epoch)."
  )
  var algorithm: KMeansAlgorithm = .lloyd

  @Option(help: "minibatch: rows per step, over all workers.")
  var batchSize: Int = 1024

  @Option(
    help:
      "minibatch: sync (a barrier per batch), per-core (a replica per worker, merged every 16,384 rows), hogwild (every batch added to shared sums without locks or barriers) or auto (per-core on more than one worker)."
  )
  var strategy: UpdateStrategy = .auto

  @Flag(help: "Cluster as one rank of an MPI job (sounder-mpi under mpirun; detected there without it).")
  var mpi = false

  @Option(help: "Iterations per run, at most.")
  var maxIter: Int = 300

  @Option(help: "Stop when the centres move less than this share of the mean feature variance.")
  var tol: Double = 1e-4

  @Option(help: "Seed for the starting centres.")
  var seed: UInt64 = 1

  @Flag(help: "Standardise features first (sparse: scale only); the model keeps the scaling.")
  var standardize = false

  @OptionGroup(title: "Reading the data")
  var input: InputOptions

  @OptionGroup(title: "Where the work runs")
  var execution: ExecutionOptions

  @Flag(help: "Print per-worker counters: rows, bytes, compute/wait/merge time, local pages.")
  var stats = false

  @Flag(help: "Print JSON lines (one per iteration, then a summary) instead of a table.")
  var json = false

  func run() throws {
    var setup = KMeansConfiguration(clusters: clusters)
    setup.initialization = initialization
    setup.runs = nInit
    setup.algorithm = algorithm
    setup.maxIterations = maxIter
    setup.batchSize = batchSize
    setup.execution.strategy = strategy
    setup.tolerance = tol
    setup.standardize = standardize
    setup.execution.seed = seed
    execution.apply(to: &setup.execution)
    do { try setup.validate() } catch { throw CLIError(error.description) }
    let group = try SounderCommand.processes(asked: mpi, command: "cluster")
    // This rank's data: DATA, or its own file of --shard's pattern.
    let data = source.path(rank: group.rank)
    try refuseOutput(output, sameAsAnyOf: [data] + (input.labels.map { [$0] } ?? []))
    // Rank 0 alone writes the model; before any work, its folder must take a file.
    let writes = group.rank == 0
    if writes { do { _ = try OutputFile(creating: output) } catch { throw CLIError(error.description) } }
    let machine = try Topology.current()
    try execution.check(on: machine)
    let opened = try input.open(data, threads: execution.threads)
    try Ranks.agree(on: opened.dataset, path: source.name, group: group, ownRows: source.ownRows)
    let header = opened.dataset.header
    let log = ClusterLog(json: json)
    log.start(path: data, header: header, configuration: setup)
    if stats {
      log.note(
        String(format: "Rows checked in %.3f s (offsets, indices, finite values)", opened.checkSeconds))
    }
    let counters = WorkerCounters()
    let bar = EpochProgressBar(counters: counters, enabled: !json)
    defer { bar.stop() }
    let result: KMeansResult
    do {
      var kMeans = KMeans(setup, topology: machine)
      kMeans.reducer = group
      kMeans.rowsPerProcess = source.ownRows
      result = try kMeans.fit(opened.rows, counters: counters) { report in
        bar.clear { log.iteration(report) }
      }
    } catch let error as TrainingError {
      throw CLIError(error.description)
    }
    bar.stop()
    if let simulateNodes = execution.simulateNodes {
      log.note("Simulated: \(simulateNodes) NUMA nodes on this machine's one; memory is all local")
    }
    try Ranks.report(
      rows: result.assignedRows, workers: result.workers, placement: result.placement, group: group,
      note: log.note)
    guard writes else { return }
    let metadata = ClusterMetadata(model: result.model, configuration: setup, result: result)
    do { try ModelFile.write(result.model, metadata: metadata, to: output) } catch {
      throw CLIError(error.description)
    }
    log.finish(result, algorithm: algorithm, stats: stats, output: output)
  }
}

/// What `sounder cluster` prints: a table on the terminal, or JSON lines.
struct ClusterLog {
  private let lines: LogLines
  var json: Bool { lines.json }

  init(json: Bool) { lines = LogLines(json: json) }

  func start(path: String, header: DatasetHeader, configuration: KMeansConfiguration) {
    guard !json else { return }
    let runs = configuration.runs == 1 ? "1 run" : "\(configuration.runs) runs"
    lines.say(
      "Clustering \(path): \(header.rows) rows × \(header.columns) features (\(header.layout)) into "
        + "\(configuration.clusters) clusters: \(configuration.algorithm.rawValue), "
        + "\(configuration.initialization.rawValue) start, \(runs)")
  }

  /// A line of its own on the terminal (nothing in JSON mode).
  func note(_ text: String) { lines.note(text) }

  func iteration(_ report: KMeansReport) {
    if json {
      struct Line: Encodable {
        var event = "iteration"
        var report: KMeansReport
      }
      lines.emit(Line(report: report))
      return
    }
    if report.iteration == 1 {
      lines.say("    run   iter        inertia        shift    changed  distances  seconds")
    }
    lines.say(
      String(
        format: "  %5d  %5d  %13.6g  %11.4g  %9d  %8.1f%%  %7.3f", report.run, report.iteration,
        report.inertia,
        report.shift, report.changed, report.distanceShare * 100, report.seconds))
    if report.reseeded > 0 {
      lines.say("  (\(report.reseeded) empty cluster(s) given the rows farthest from their centres)")
    }
  }

  func finish(_ result: KMeansResult, algorithm: KMeansAlgorithm, stats: Bool, output: String) {
    if json {
      struct Line: Encodable {
        var event = "finished"
        var inertia: Double
        var runInertias: [Double]
        var bestRun: Int
        var iterations: Int
        var stopReason: String
        var strategy: StrategyChoice
        var initializationSeconds: Double
        var cpus: [Int]
        var workers: [WorkerStats]
        var model: String
      }
      lines.emit(
        Line(
          inertia: result.inertia, runInertias: result.runInertias, bestRun: result.bestRun,
          iterations: result.iterations, stopReason: result.stopReason.description, strategy: result.strategy,
          initializationSeconds: result.initializationSeconds, cpus: result.placement,
          workers: result.workers,
          model: output))
      return
    }
    if result.runInertias.count > 1 {
      let all = result.runInertias.map { String(format: "%.6g", $0) }.joined(separator: ", ")
      lines.say("Runs: inertia \(all); run \(result.bestRun) kept")
    }
    if algorithm == .minibatch {
      lines.say("Strategy \(result.strategy.strategy.rawValue): \(result.strategy.reason)")
    }
    lines.say(
      "Workers: \(result.placement.count) on CPUs \(result.placement.map(String.init).joined(separator: ",")); "
        + String(format: "starting centres chosen in %.3f s", result.initializationSeconds))
    lines.say("Stopped: \(result.stopReason)")
    if stats { lines.say(workerTable(result.workers), terminator: "") }
    lines.say(String(format: "Inertia %.6g over %d rows", result.inertia, result.rows))
    lines.say("Model written to \(output)")
  }

}

extension KMeansInitialization: ExpressibleByArgument {}
extension KMeansAlgorithm: ExpressibleByArgument {}
