import ArgumentParser
import Foundation
import Sounder

/// `sounder topology`: the machine as Sounder sees it, and where workers go.
struct TopologyCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "topology",
    abstract: "Show the machine's NUMA nodes, cores, caches and distances, and a worker placement plan.",
    discussion: """
      With --synthetic, shows a simulated machine described in hwloc's synthetic \
      syntax instead, e.g. --synthetic "pack:2 numa:2 core:8 pu:2".
      """
  )

  @Option(help: "Workers to place (default: one per core).")
  var threads: Int?

  @Option(help: "Placement policy: spread (even over NUMA nodes) or close (fill a node first).")
  var policy: PlacementPolicy = .spread

  @Option(help: ArgumentHelp("Describe a simulated machine instead of this one.", valueName: "description"))
  var synthetic: String?

  @Flag(help: "Print JSON instead of text.")
  var json = false

  func validate() throws {
    if let threads, threads < 1 {
      throw ValidationError("--threads must be at least 1 (got \(threads))")
    }
  }

  func run() throws {
    let topology = try synthetic.map { try Topology.synthetic($0) } ?? Topology.current()
    let plan: PlacementPlan
    do {
      plan = try PlacementPlan(topology: topology, workers: threads, policy: policy)
    } catch .moreWorkersThanProcessingUnits(let requested, let available) {
      throw CLIError(
        "--threads \(requested) is more than the \(available) processing units of "
          + "\(topology.name); use at most \(available)")
    }
    if json {
      print(try TopologyReport(topology: topology, plan: plan).jsonString())
    } else {
      print(TopologyReport(topology: topology, plan: plan).text(), terminator: "")
    }
  }
}

extension PlacementPolicy: ExpressibleByArgument {}

/// An error the command line reports as it is, one line, exit status 1.
struct CLIError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
