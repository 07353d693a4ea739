import ArgumentParser
import Foundation
import Sounder

/// `sounder train`: fit a linear model with pinned workers.
struct TrainCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "train",
    abstract: "Train a linear model on all cores and write it to a model file.",
    discussion: """
      DATA is a .sds dataset or a LIBSVM, CSV or .npy file (converted once into a hidden .sds \
      cache beside it). Prints one line per epoch: the training objective, the validation \
      metric (with --holdout or --test), the epoch's time and throughput, and for data larger \
      than the caches the epoch time as a share of the memory-bandwidth floor.
      """
  )

  @OptionGroup
  var source: DataSource

  @Option(name: .shortAndLong, help: "Where to write the model.")
  var output: String = "sounder.model"

  @OptionGroup(title: "Reading the data")
  var input: InputOptions

  @OptionGroup(title: "The model and its optimisation")
  var model: ModelOptions

  @Option(help: "auto, hogwild, per-node, per-core or sync.")
  var strategy: UpdateStrategy = .auto

  @Flag(help: "Train as one rank of an MPI job (sounder-mpi under mpirun; detected there without it).")
  var mpi = false

  @Option(
    help: """
      Passes over the training rows (lbfgs: iterations). Default: sgd and minibatch stop early \
      (at most 20, on a held-out tenth of 10,000 rows or more); 100 for gd and lbfgs.
      """)
  var epochs: Int?

  @Option(
    help:
      "Examples per worker between replica meetings (hogwild, per-node, per-core); default: 1024 dense, up to 4096 sparse."
  )
  var syncEvery: Int?

  @Option(help: "shard: each row to one worker; full: every NUMA node trains on its own copy of all rows.")
  var dataReplication: DataReplication = .shard

  @OptionGroup(title: "Where the work runs")
  var execution: ExecutionOptions

  @Flag(help: "Print per-worker counters: examples, bytes, compute/wait/merge time, local pages.")
  var stats = false

  @Option(help: "Stop when the loss improves by less than this for --n-iter-no-change epochs.")
  var tol: Double?

  @Option(help: "Epochs without improvement before --tol (or the default early stopping) stops training.")
  var nIterNoChange: Int = 5

  @Option(help: "Stop as soon as the training loss is at most this.")
  var targetLoss: Double?

  @Flag(
    help: """
      Report the exact training loss of each epoch's model, from a separate pass over the rows \
      (60–90% more time per SGD epoch). By default the loss is each row's at its own step, \
      averaged over the epoch, as the steps compute it anyway.
      """)
  var exactLoss = false

  @Option(help: "Hold out this share of the rows (evenly spaced) to validate each epoch (and stop on).")
  var holdout: Double?

  @Option(help: "Validate each epoch on this file instead (read with the same options).")
  var test: String?

  @Option(help: "Write a checkpoint (MODEL.checkpoint) every K epochs.")
  var checkpointEvery: Int?

  @Flag(help: "Carry on from MODEL.checkpoint, left by an interrupted run with the same options.")
  var resume = false

  @Flag(help: "Print JSON lines (one per epoch, then a summary) instead of a table.")
  var json = false

  func validate() throws {
    if holdout != nil, test != nil { throw ValidationError("give --holdout or --test, not both") }
    if let checkpointEvery, checkpointEvery < 1 {
      throw ValidationError("--checkpoint-every must be at least 1 epoch (got \(checkpointEvery))")
    }
  }

  func run() throws {
    var setup = model.configuration
    setup.execution.strategy = strategy
    setup.stopping.epochs = epochs
    execution.apply(to: &setup.execution)
    setup.execution.syncEvery = syncEvery
    setup.execution.dataReplication = dataReplication
    setup.stopping.tolerance = tol
    setup.stopping.iterationsWithoutChange = nIterNoChange
    setup.stopping.targetLoss = targetLoss
    setup.stopping.exactLoss = exactLoss
    setup.stopping.holdoutFraction = holdout
    let group = try SounderCommand.processes(asked: mpi, command: "train")
    // This rank's data: DATA, or its own file of --shard's pattern.
    let data = source.path(rank: group.rank)
    try refuseOutput(
      output, sameAsAnyOf: [data] + (test.map { [$0] } ?? []) + (input.labels.map { [$0] } ?? []))
    // Rank 0 alone writes the model and checkpoints.
    let writes = group.rank == 0
    // Before any work: the model's folder must take a file (what fails here would fail after training).
    if writes { do { _ = try OutputFile(creating: output) } catch { throw CLIError(error.description) } }
    let machine = try Topology.current()
    do { try setup.validate(on: machine) } catch { throw CLIError(error.description) }
    try execution.check(on: machine)
    let opened = try input.open(data, threads: execution.threads)
    try opened.requireLabels(for: "train")
    let dataset = opened.dataset
    try Ranks.agree(on: dataset, path: source.name, group: group, ownRows: source.ownRows)
    setup.problem.loss = model.loss(for: dataset.header.labelKind).loss
    do { try setup.validate(on: machine) } catch { throw CLIError(error.description) }
    let testSet = try test.map { try input.open($0, threads: execution.threads) }
    try testSet?.requireLabels(for: "train --test")
    // Keep the test file's renumbered labels alive for the run.
    let testRows = try test.flatMap { path in
      try testSet.map { try NamedRows($0, path: path, names: dataset.classNames) }
    }
    let rows = opened.rows
    let log = TrainingLog(json: json)
    log.start(path: data, dataset: dataset, configuration: setup)
    if stats {
      log.note(
        String(format: "Rows checked in %.3f s (offsets, indices, finite values)", opened.checkSeconds))
    }
    let floor = try BandwidthFloor(
      rows: rows.block, threads: execution.threads ?? machine.cores.count, machine: machine)

    let checkpointPath = output + ".checkpoint"
    var resuming: Checkpoint?
    if resume {
      guard FileManager.default.fileExists(atPath: checkpointPath) else {
        throw CLIError("--resume: there is no checkpoint at \(checkpointPath) to carry on from")
      }
      do { resuming = try ModelFile.readCheckpoint(checkpointPath) } catch {
        throw CLIError(error.description)
      }
      for report in resuming?.history ?? [] { log.epoch(report, floor: floor) }
    }

    var result: TrainingResult
    let counters = WorkerCounters()
    let bar = EpochProgressBar(counters: counters, enabled: !json)
    defer { bar.stop() }
    do {
      var trainer = Trainer(setup, topology: machine)
      trainer.reducer = group
      trainer.rowsPerProcess = source.ownRows
      result = try trainer.fit(
        rows, validation: testRows?.rows, resuming: resuming, checkpointEvery: checkpointEvery,
        counters: counters,
        checkpoint: { if writes { try ModelFile.write($0, to: checkpointPath) } },
        progress: { report in bar.clear { log.epoch(report, floor: floor) } })
    } catch let error as TrainingError {
      throw CLIError(error.description)
    } catch let error as ModelFileError {
      throw CLIError(error.description)
    }
    bar.stop()
    result.model.classNames = dataset.classNames
    if let simulateNodes = execution.simulateNodes {
      log.note("Simulated: \(simulateNodes) NUMA nodes on this machine's one; memory is all local")
    }
    log.finish(result, stats: stats)

    // A run that diverged in its first epoch has no model better than no training:
    // it writes none, and an existing model stays as it was.
    if case .diverged = result.stopReason, result.history.isEmpty {
      let kept = FileManager.default.fileExists(atPath: output) ? "; \(output) was left as it was" : ""
      throw CLIError(result.stopReason.description + " (no epoch finished, so no model was written\(kept))")
    }
    try Ranks.report(
      rows: result.trainingRows, workers: result.workers, placement: result.placement, group: group,
      note: log.note)
    guard writes else { return }
    let metadata = ModelMetadata(model: result.model, configuration: setup, result: result)
    do { try ModelFile.write(result.model, metadata: metadata, to: output) } catch {
      throw CLIError(error.description)
    }
    // The finished model supersedes the checkpoint.
    if checkpointEvery != nil || resume { try? FileManager.default.removeItem(atPath: checkpointPath) }
    let evaluated = testRows?.rows ?? rows
    var heldOut = setup
    heldOut.stopping.holdoutFraction = result.holdoutFraction
    let subset =
      testSet == nil && result.validationRows > 0 ? (0..<rows.block.count).filter(heldOut.isHeldOut) : nil
    let metrics: Metrics
    do { metrics = try result.model.evaluate(evaluated, rows: subset) } catch {
      throw CLIError("\(test ?? data): \(error.description)")
    }
    let measured = testSet != nil ? "test" : (subset != nil ? "validation" : "training")
    // With --shard, rank 0 holds only its own rows: the metrics are of those.
    log.summary(
      metrics, on: source.ownRows && group.processes > 1 ? "rank 0's \(measured)" : measured, output: output)
    if case .diverged = result.stopReason {
      throw CLIError(
        result.stopReason.description
          + " (the model of epoch \(result.modelEpoch), \(result.modelEpoch == result.history.count ? "the last good one" : "of the least validation loss"), was written to \(output))"
      )
    }
  }
}

extension Loss: ExpressibleByArgument {}
extension Multiclass: ExpressibleByArgument {}
extension UpdateStrategy: ExpressibleByArgument {}
extension Algorithm: ExpressibleByArgument {}
extension ScheduleKind: ExpressibleByArgument {}
extension ClassWeight: ExpressibleByArgument {}
extension DataPlacement: ExpressibleByArgument {}
extension DataReplication: ExpressibleByArgument {}
