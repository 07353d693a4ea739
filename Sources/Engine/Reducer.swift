/// How the partial results of several processes are combined: the
/// communication part of distributed training, kept apart from the
/// computation.
///
/// Inside one process the workers reduce among themselves (each sums a
/// slice of coordinates over every worker's buffer, in a fixed order). A
/// reducer then combines that process's totals with those of the other
/// processes, for example the ranks of an MPI job, before the update is
/// applied. ``InProcess``, the default, has no other processes: training
/// never calls it.
///
/// Every process calls the same reductions in the same order with the same
/// counts; an implementation returns the same values on every process, and
/// the same from run to run (sums in rank order, not in whatever order the
/// network delivers).
public protocol Reducer: Sendable {
  /// How many processes take part (1: this one alone).
  var processes: Int { get }
  /// This process's number, `0..<processes`; process 0 writes the model.
  var rank: Int { get }
  /// Replaces `values` by their element-wise sum over every process. Called
  /// by one worker of each process's team while the others wait.
  func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws
  /// The same for Double values (losses and their weights).
  func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws
  /// The largest of every process's `value`.
  func allReduceMax(_ value: Int) throws -> Int
  /// Seconds this process has spent in reductions with the others.
  var reduceSeconds: Double { get }
  /// Bytes this process has sent to the others.
  var bytesSent: Int { get }
}

extension Reducer {
  /// `tally` summed over every process.
  func allReduce(_ tally: LossTally) throws -> LossTally {
    guard processes > 1 else { return tally }
    var pair = [tally.loss, tally.weight]
    try pair.withUnsafeMutableBufferPointer { try allReduceSum($0) }
    return LossTally(loss: pair[0], weight: pair[1])
  }
}

/// One process: nothing to combine beyond its own workers.
public struct InProcess: Reducer {
  /// The reducer of a run in one process.
  public init() {}
  public var processes: Int { 1 }
  public var rank: Int { 0 }
  public func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws {}
  public func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws {}
  public func allReduceMax(_ value: Int) throws -> Int { value }
  public var reduceSeconds: Double { 0 }
  public var bytesSent: Int { 0 }
}
