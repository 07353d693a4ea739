import CMPI
import Sounder

/// The ranks of an MPI job as a ``Reducer``: Open MPI carries the bytes
/// (shared memory, TCP or a fabric, as `mpirun` chooses); Sounder only
/// decides what is summed and in which order.
///
/// `MPI_Allreduce` does not fix the order in which it adds the ranks'
/// values, so a sum here is an `MPI_Allgather` of every rank's buffer
/// followed by a local sum in rank order: every rank gets the same bits,
/// and so does every run with the same ranks and threads. The price is
/// `ranks ×` the buffer in memory and on the wire, which for a linear
/// model's gradient (features × outputs floats) is small next to an epoch.
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

  /// Every rank's `values` gathered, then summed in rank order into `values`.
  private func sumInRankOrder<T: BinaryFloatingPoint>(
    _ values: UnsafeMutableBufferPointer<T>, type: MPI_Datatype
  ) throws {
    guard processes > 1, !values.isEmpty else { return }
    let count = values.count
    let gathered = UnsafeMutableBufferPointer<T>.allocate(capacity: count * processes)
    defer { gathered.deallocate() }
    let started = clock()
    guard
      MPI_Allgather(
        values.baseAddress, Int32(count), type, gathered.baseAddress, Int32(count), type, cmpi_comm_world())
        == cmpi_success()
    else { throw MPIError("MPI_Allgather of \(count) values failed") }
    for j in 0..<count {
      var sum = gathered[j]
      for r in 1..<processes { sum += gathered[r * count + j] }
      values[j] = sum
    }
    account(since: started, bytes: count * MemoryLayout<T>.stride)
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
