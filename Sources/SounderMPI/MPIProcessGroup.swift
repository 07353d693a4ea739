import CMPI
import Sounder

/// The ranks of an MPI job as a ``Reducer``: Open MPI carries the bytes
/// (shared memory, TCP or a fabric, as `mpirun` chooses); Sounder only
/// decides what is summed and in which order.
///
/// `MPI_Allreduce` does not fix the order in which it adds the ranks'
/// values, so a sum here is made of collectives that only move bytes, and
/// every addition happens in rank order:
///
/// - small buffers (every other rank's copy within 64 KiB): one
///   `MPI_Allgather` of the whole buffer, summed by every rank; one
///   latency, `ranks − 1` buffers sent;
/// - larger ones: a reduce-scatter and an all-gather. The buffer is cut into
///   one slice per rank, each rank receives every rank's copy of its slice
///   (`MPI_Alltoall`) and adds them up, and the summed slices go to every
///   rank (`MPI_Allgather`): two latencies, about twice the buffer sent, as
///   a ring all-reduce (README, "A scaling model").
///
/// Every rank gets the same bits, and so does every run with the same ranks
/// and threads.
///
/// One worker thread of each process calls it while the others wait at a
/// barrier, never two at once: MPI is started with
/// `MPI_THREAD_SERIALIZED`.
public final class MPIProcessGroup: Reducer, @unchecked Sendable {
  public let processes: Int
  public let rank: Int
  /// Seconds spent in reductions, and bytes this rank sent, so far.
  public private(set) var reduceSeconds = 0.0
  public private(set) var bytesSent = 0

  /// Starts MPI in this process (once, before any other MPI call).
  public init() throws {
    var provided: Int32 = 0
    guard MPI_Init_thread(nil, nil, cmpi_thread_serialized(), &provided) == cmpi_success() else {
      throw MPIError("MPI_Init_thread failed")
    }
    guard provided >= cmpi_thread_serialized() else {
      throw MPIError("this MPI library cannot be called from worker threads (MPI_THREAD_SERIALIZED)")
    }
    var size: Int32 = 0
    var me: Int32 = 0
    MPI_Comm_size(cmpi_comm_world(), &size)
    MPI_Comm_rank(cmpi_comm_world(), &me)
    processes = Int(size)
    rank = Int(me)
  }

  /// Ends MPI in this process, after the last reduction.
  public func finish() { MPI_Finalize() }

  /// Ends every rank of the job with `status` (a rank that failed alone).
  public func abort(status: Int32) -> Never {
    MPI_Abort(cmpi_comm_world(), status)
    fatalError("MPI_Abort returned")
  }

  public func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws {
    try sumInRankOrder(values, type: cmpi_float())
  }

  public func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws {
    try sumInRankOrder(values, type: cmpi_double())
  }

  public func allReduceMax(_ value: Int) throws -> Int {
    var mine = value
    var largest = 0
    let started = clock()
    guard MPI_Allreduce(&mine, &largest, 1, cmpi_long(), cmpi_max(), cmpi_comm_world()) == cmpi_success()
    else { throw MPIError("MPI_Allreduce failed") }
    account(since: started, bytes: MemoryLayout<Int>.size)
    return largest
  }

  /// `values` summed over every rank, each coordinate in rank order by the
  /// rank that owns its slice.
  private func sumInRankOrder<T: BinaryFloatingPoint>(
    _ values: UnsafeMutableBufferPointer<T>, type: MPI_Datatype
  ) throws {
    guard processes > 1, !values.isEmpty else { return }
    let count = values.count
    if count * (processes - 1) * MemoryLayout<T>.stride <= 64 << 10 {
      try gatherAndSum(values, type: type)
      return
    }
    let slice = (count + processes - 1) / processes
    // Every rank's buffer, padded to `processes` equal slices; then the copies
    // of this rank's slice from every rank; then this rank's summed slice.
    let outgoing = UnsafeMutableBufferPointer<T>.allocate(capacity: slice * processes)
    let incoming = UnsafeMutableBufferPointer<T>.allocate(capacity: slice * processes)
    let summed = UnsafeMutableBufferPointer<T>.allocate(capacity: slice)
    defer {
      outgoing.deallocate()
      incoming.deallocate()
      summed.deallocate()
    }
    _ = outgoing.initialize(fromContentsOf: values)
    for j in count..<outgoing.count { outgoing[j] = 0 }
    let started = clock()
    guard
      MPI_Alltoall(
        outgoing.baseAddress, Int32(slice), type, incoming.baseAddress, Int32(slice), type, cmpi_comm_world())
        == cmpi_success()
    else { throw MPIError("MPI_Alltoall of \(count) values failed") }
    sumInRankOrder(incoming, blocksOf: slice, into: summed)
    try allGather(UnsafeMutableBufferPointer(rebasing: summed[...]), into: outgoing, type: type)
    for j in 0..<count { values[j] = outgoing[j] }
    account(since: started, bytes: 2 * (processes - 1) * slice * MemoryLayout<T>.stride)
  }

  /// Every rank's `values` gathered, then summed in rank order.
  private func gatherAndSum<T: BinaryFloatingPoint>(
    _ values: UnsafeMutableBufferPointer<T>, type: MPI_Datatype
  ) throws {
    let count = values.count
    let gathered = UnsafeMutableBufferPointer<T>.allocate(capacity: count * processes)
    defer { gathered.deallocate() }
    let started = clock()
    try allGather(values, into: gathered, type: type)
    sumInRankOrder(gathered, blocksOf: count, into: values)
    account(since: started, bytes: (processes - 1) * count * MemoryLayout<T>.stride)
  }

  /// Every rank's `mine` side by side in `all`, rank 0's first.
  private func allGather<T>(
    _ mine: UnsafeMutableBufferPointer<T>, into all: UnsafeMutableBufferPointer<T>, type: MPI_Datatype
  ) throws {
    precondition(all.count >= mine.count * processes, "room for every rank's values")
    guard
      MPI_Allgather(
        mine.baseAddress, Int32(mine.count), type, all.baseAddress, Int32(mine.count), type, cmpi_comm_world())
        == cmpi_success()
    else { throw MPIError("MPI_Allgather of \(mine.count) values failed") }
  }

  /// `sums[j]` = Σ over ranks r, in rank order, of `blocks[r × size + j]`:
  /// the one place where ranks' values are added, so every rank adds alike.
  private func sumInRankOrder<T: BinaryFloatingPoint>(
    _ blocks: UnsafeMutableBufferPointer<T>, blocksOf size: Int, into sums: UnsafeMutableBufferPointer<T>
  ) {
    for j in 0..<size {
      var sum = blocks[j]
      for r in 1..<processes { sum += blocks[r * size + j] }
      sums[j] = sum
    }
  }

  private func clock() -> Double { MPI_Wtime() }

  private func account(since started: Double, bytes: Int) {
    reduceSeconds += MPI_Wtime() - started
    bytesSent += bytes
  }
}

/// An MPI call that failed (the job's other ranks are ended by `mpirun`).
public struct MPIError: Error, CustomStringConvertible {
  public let description: String
  init(_ description: String) { self.description = description }
}
