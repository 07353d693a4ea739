import ArgumentParser

/// The `sounder` command line: one subcommand per job.
public struct SounderCommand: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "sounder",
    abstract: "A shared-memory multicore trainer for linear models.",
    subcommands: [
      TopologyCommand.self, ConvertCommand.self, InfoCommand.self, GenerateCommand.self, TrainCommand.self,
      PredictCommand.self, EvaluateCommand.self, BandwidthCommand.self, ProfileCommand.self,
    ]
  )

  public init() {}
}
