import ArgumentParser
import Sounder

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

  /// The `sounder` program: a file that shrinks under a running command
  /// ends it with one line and exit status 1 (``TruncationGuard``), then the
  /// arguments are parsed and the command run.
  public static func start() {
    TruncationGuard.install()
    main()
  }
}
