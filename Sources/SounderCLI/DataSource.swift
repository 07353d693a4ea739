import ArgumentParser

/// Where `train` and `cluster` read their rows: DATA, which every MPI rank
/// maps (taking its share of the rows), or with `--shard` a file of each
/// rank's own.
struct DataSource: ParsableArguments {
  @Argument(help: "The data (omitted with --shard).")
  var data: String?

  @Option(
    help: ArgumentHelp(
      "Under MPI: each rank reads a file of its own, PATTERN with {rank} replaced by its rank.",
      discussion:
        "Instead of every rank mapping DATA and taking its share: what is measured over the rows (classes, scaling, rates, validation) is summed over the ranks.",
      valueName: "PATTERN"))
  var shard: String?

  func validate() throws {
    guard (data == nil) != (shard == nil) else {
      throw ValidationError(
        data == nil ? "give the data, or --shard PATTERN" : "give the data or --shard PATTERN, not both")
    }
    if let shard, !shard.contains("{rank}") {
      throw ValidationError(
        "--shard \(shard): the pattern must hold {rank}, which each rank replaces by its number")
    }
  }

  /// Whether each rank's rows are its own (`--shard`).
  var ownRows: Bool { shard != nil }

  /// The file rank `rank` reads.
  func path(rank: Int) -> String {
    data ?? shard!.replacingOccurrences(of: "{rank}", with: String(rank))
  }

  /// What names the rows where every rank speaks alike: DATA, or the pattern.
  var name: String { data ?? shard! }
}
