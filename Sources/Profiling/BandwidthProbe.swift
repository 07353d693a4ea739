import Engine
import Parallel
import Topology

#if canImport(Glibc)
  import Glibc
#endif

/// One timed STREAM-style measurement.
public struct BandwidthMeasurement: Sendable, Equatable, Codable {
  /// The loop that was timed.
  public enum Kernel: String, Sendable, Codable, CaseIterable {
    /// Σ xᵢ: reads only, the traffic of a training epoch over dense features.
    case read
    /// aᵢ ← bᵢ + q·cᵢ: two reads and a write per element, STREAM's triad.
    case triad
  }
  public var kernel: Kernel
  /// How many pinned threads ran it.
  public var threads: Int
  /// The NUMA nodes the threads ran on (logical indices).
  public var cpuNodes: [Int]
  /// The node the memory was on, or `nil` when each thread used its own node.
  public var memoryNode: Int?
  /// Bytes of traffic counted in one repetition, summed over threads.
  public var bytes: Int
  /// The fastest repetition, and the median, in seconds.
  public var bestSeconds: Double
  public var medianSeconds: Double

  /// Bytes per second of the fastest repetition, in units of 10⁹ (GB/s).
  public var gigabytesPerSecond: Double { Double(bytes) / bestSeconds / 1e9 }
}

/// Measures the memory bandwidth that pinned threads get: the floor every
/// epoch is compared against (an epoch over dense data must read every
/// feature byte once, so it cannot beat feature bytes ÷ read bandwidth).
///
/// Each thread allocates and first-touches its own slice of the working set on
/// the NUMA node it should come from, then all threads run the loop together
/// between two barriers; the best of several repetitions is kept, as STREAM
/// does.
public struct BandwidthProbe: Sendable {
  /// The machine to measure (must be this machine).
  public var topology: Topology
  /// Bytes of the working set summed over threads. STREAM asks for at least
  /// four times the last-level caches; the default is 1 GiB.
  public var bytes: Int
  /// Timed repetitions per measurement; the best one counts.
  public var repetitions: Int
  /// How threads are placed.
  public var policy: PlacementPolicy

  /// A probe of `topology` with a working set of `bytes`.
  public init(
    topology: Topology, bytes: Int = 1 << 30, repetitions: Int = 5, policy: PlacementPolicy = .spread
  ) {
    self.topology = topology
    self.bytes = bytes
    self.repetitions = repetitions
    self.policy = policy
  }

  /// Runs `kernel` on `threads` pinned threads placed by the probe's policy,
  /// on all nodes or only on `cpuNodes`, with each thread's memory on its own
  /// node or, when `memoryNode` is given, all on that node.
  public func measure(
    _ kernel: BandwidthMeasurement.Kernel, threads: Int, cpuNodes: [Int]? = nil, memoryNode: Int? = nil
  ) throws -> BandwidthMeasurement {
    precondition(repetitions >= 1, "a measurement needs at least one repetition")
    let plan = try PlacementPlan(topology: topology, workers: threads, policy: policy, nodes: cpuNodes)
    let team = try WorkerTeam(topology: topology, plan: plan)
    let arrays = kernel == .read ? 1 : 3
    // Elements per thread per array, a whole number of cache lines.
    let elements = max(bytes / (threads * arrays * MemoryLayout<Float>.stride) / 16 * 16, 16)
    let memoryOSNode = memoryNode.map { topology.nodes[$0].osIndex }
    let slices = Locked([ProbeSlice?](repeating: nil, count: threads))
    try team.run { context in
      let node = memoryOSNode ?? topology.nodes[context.placement.node].osIndex
      let slice = try ProbeSlice(elements: elements, arrays: arrays, node: node)
      slices.withLock { $0[context.index] = slice }
    }
    let prepared = slices.withLock { $0.map { $0! } }

    let timings = Locked([Double]())
    let sink = Locked(Float(0))
    let repetitions = self.repetitions
    try team.run { context in
      let slice = prepared[context.index]
      var local: Float = 0
      for _ in 0..<repetitions {
        try context.barrier.arrive()
        let start = context.index == 0 ? monotonicSeconds() : 0
        switch kernel {
        case .read:
          local += StreamKernels.sum(slice.array(0))
        case .triad:
          StreamKernels.triad(slice.mutableArray(0), slice.array(1), slice.array(2), 3)
          local += slice.array(0)[0]
        }
        try context.barrier.arrive()
        if context.index == 0 { timings.withLock { $0.append(monotonicSeconds() - start) } }
      }
      sink.withLock { $0 += local }
    }
    let times = timings.withLock { $0 }.sorted()
    let bytesPerElement = kernel == .read ? 4 : 12
    return BandwidthMeasurement(
      kernel: kernel, threads: threads, cpuNodes: Array(Set(plan.workers.map(\.node))).sorted(),
      memoryNode: memoryNode, bytes: elements * threads * bytesPerElement,
      bestSeconds: times[0], medianSeconds: times[times.count / 2])
  }

  /// Read and triad bandwidth for each thread count, each thread's memory on
  /// its own node.
  public func sweep(threadCounts: [Int]) throws -> [BandwidthMeasurement] {
    try threadCounts.flatMap { threads in
      try BandwidthMeasurement.Kernel.allCases.map { try measure($0, threads: threads) }
    }
  }

  /// Read bandwidth in GB/s with all cores of node `i` reading memory on node
  /// `j`, for every pair: local figures on the diagonal, remote elsewhere.
  public func nodeMatrix() throws -> [[Double]] {
    try topology.nodes.map { cpuNode in
      try topology.nodes.map { memoryNode in
        try measure(
          .read, threads: cpuNode.cores.count, cpuNodes: [cpuNode.index], memoryNode: memoryNode.index
        ).gigabytesPerSecond
      }
    }
  }
}

/// One thread's arrays, side by side in one node-local buffer, filled by the
/// thread that will read them (so first touch agrees with the binding).
/// Each thread only touches its own slice, which is why sharing the reference
/// between threads is safe.
final class ProbeSlice: @unchecked Sendable {
  private let buffer: NodeLocalBuffer
  let elements: Int

  init(elements: Int, arrays: Int, node: Int) throws {
    buffer = try NodeLocalBuffer(count: elements * arrays, node: node)
    self.elements = elements
    for i in buffer.floats.indices { buffer.floats[i] = Float(i % 7) * 0.25 }
  }

  func array(_ index: Int) -> UnsafeBufferPointer<Float> {
    UnsafeBufferPointer(rebasing: buffer.floats[index * elements..<(index + 1) * elements])
  }

  func mutableArray(_ index: Int) -> UnsafeMutableBufferPointer<Float> {
    UnsafeMutableBufferPointer(rebasing: buffer.floats[index * elements..<(index + 1) * elements])
  }
}
