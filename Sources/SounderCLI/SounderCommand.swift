import ArgumentParser

/// The `sounder` command line: one subcommand per job.
public struct SounderCommand: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "sounder",
    abstract: "A shared-memory multicore trainer for linear models.",
    subcommands: [
      TopologyCommand.self, BandwidthCommand.self, ConvertCommand.self, InfoCommand.self,
      GenerateCommand.self,
    ]
  )

  public init() {}
}
