import ArgumentParser
import Foundation
import Sounder

/// The `sounder` command line: one subcommand per job.
public struct SounderCommand: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "sounder",
    abstract: "A shared-memory multicore trainer for linear models.",
    subcommands: [
      TopologyCommand.self, ConvertCommand.self, InfoCommand.self, GenerateCommand.self, TrainCommand.self,
      ClusterCommand.self, PredictCommand.self, EvaluateCommand.self, BandwidthCommand.self,
      ProfileCommand.self,
    ]
  )

  public init() {}

  /// The `sounder` program: a file that shrinks under a running command
  /// ends it with one line and exit status 1 (``TruncationGuard``), then the
  /// arguments are parsed and the command run.
  /// A command's own error (exit status 1) prints as one line with its
  /// control characters escaped, whatever text it quotes; a mistyped command
  /// line gets ArgumentParser's usage text and status 64.
  public static func start() {
    TruncationGuard.install()
    do {
      var command = try parseAsRoot()
      if processGroup.processes > 1, !(command is TrainCommand) {
        // Every rank would do the same work and write the same files.
        throw CLIError(
          "only train runs across MPI ranks; run \(type(of: command).configuration.commandName ?? "this command") without mpirun"
        )
      }
      try command.run()
    } catch {
      guard exitCode(for: error) == .failure, !(error is ValidationError) else { exit(withError: error) }
      let rank = processGroup.processes > 1 ? " (rank \(processGroup.rank) of \(processGroup.processes))" : ""
      FileHandle.standardError.write(
        Data(("Error\(rank): " + escapingControlCharacters(message(for: error)) + "\n").utf8))
      Foundation.exit(1)
    }
  }

  /// The processes this one trains with: set once by an MPI program's `main`
  /// (`sounder-mpi`) before ``start()``, and only read after.
  nonisolated(unsafe) public static var processGroup: any Reducer = InProcess()

  /// Whether this program can join an MPI job (`sounder-mpi` says so before
  /// ``start()``).
  nonisolated(unsafe) public static var supportsMPI = false
}
