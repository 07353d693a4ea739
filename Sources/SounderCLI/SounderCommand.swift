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
      if processGroup.processes > 1, !(command is TrainCommand || command is ClusterCommand) {
        // Every rank would do the same work and write the same files.
        throw CLIError(
          "only train and cluster run across MPI ranks; run \(type(of: command).configuration.commandName ?? "this command") without mpirun"
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

  /// The processes a `command` run works with; an error when MPI is
  /// `asked` for (`--mpi`), or the process is one of several MPI ranks, in
  /// a program built without MPI.
  static func processes(asked: Bool, command: String) throws -> any Reducer {
    guard !supportsMPI else { return processGroup }
    if asked {
      throw CLIError(
        "this sounder was built without MPI: run sounder-mpi under mpirun (mpirun -np K sounder-mpi \(command) …)"
      )
    }
    if let size = ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"].flatMap(Int.init), size > 1 {
      throw CLIError(
        "running as one of \(size) MPI ranks, but this sounder was built without MPI: use sounder-mpi")
    }
    return processGroup
  }

  /// Whether this program can join an MPI job (`sounder-mpi` says so before
  /// ``start()``).
  nonisolated(unsafe) public static var supportsMPI = false
}
