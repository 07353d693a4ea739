import ArgumentParser
import Sounder

/// Where the work runs: the options `train` and `cluster` share.
struct ExecutionOptions: ParsableArguments {
  @Option(help: "Worker threads (default: one per core).")
  var threads: Int?

  @Option(help: "Row partitions (default: one per worker), dealt to workers round-robin.")
  var partitions: Int?

  @Option(help: "Worker placement: spread or close.")
  var policy: PlacementPolicy = .spread

  @Option(
    help:
      "Where the rows' pages go: as-loaded, local (each worker's node), interleave or single-node.")
  var dataPlacement: DataPlacement = .asLoaded

  @Option(help: "Treat this one-node machine as K NUMA nodes (its cores split in K); the log says so.")
  var simulateNodes: Int?

  /// Sets these options in `execution`.
  func apply(to execution: inout TrainingConfiguration.Execution) {
    execution.threads = threads
    execution.partitions = partitions
    execution.placement = policy
    execution.dataPlacement = dataPlacement
    execution.simulatedNodes = simulateNodes
  }

  /// Refuses more threads than `machine` has processing units.
  func check(on machine: Topology) throws {
    if let threads, threads > machine.processingUnits.count {
      throw CLIError(
        "--threads \(threads) is more than the \(machine.processingUnits.count) processing units of this machine; use at most \(machine.processingUnits.count)"
      )
    }
  }
}
