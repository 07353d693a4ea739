/// How the partial results of several processes are combined: the
/// communication part of distributed training, kept apart from the
/// computation.
///
/// Inside one process the workers reduce among themselves (each sums a
/// slice of coordinates over every worker's buffer, in a fixed order). A
/// reducer then combines that process's totals with those of the other
/// processes, for example the ranks of an MPI job through `MPI_Allreduce`,
/// before the update is applied. ``InProcess``, the default, has no other
/// processes: training never calls it.
public protocol Reducer: Sendable {
  /// How many processes take part (1: this one alone).
  var processes: Int { get }
  /// Replaces `values` by their element-wise sum over every process. Called
  /// by one worker of each process's team while the others wait, with the
  /// same count everywhere.
  func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws
}

/// One process: nothing to combine beyond its own workers.
public struct InProcess: Reducer {
  /// The reducer of a run in one process.
  public init() {}
  public var processes: Int { 1 }
  public func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws {}
}
