import Testing
import Topology

@testable import Profiling

@Suite("Bandwidth probe")
struct BandwidthProbeTests {
  @Test("read and triad report positive bandwidth and count their bytes", arguments: [1, 2])
  func measures(threads: Int) throws {
    let topology = try Topology.current()
    try #require(threads <= topology.processingUnits.count)
    let probe = BandwidthProbe(topology: topology, bytes: 8 << 20, repetitions: 3)
    let read = try probe.measure(.read, threads: threads)
    let triad = try probe.measure(.triad, threads: threads)
    for measurement in [read, triad] {
      #expect(measurement.threads == threads)
      #expect(measurement.bestSeconds > 0 && measurement.bestSeconds <= measurement.medianSeconds)
      #expect(measurement.gigabytesPerSecond.isFinite && measurement.gigabytesPerSecond > 0.1)
    }
    // 8 MiB of floats split over the threads, rounded to whole cache lines.
    let elements = (8 << 20) / (threads * 4) / 16 * 16
    #expect(read.bytes == elements * threads * 4)
    let triadElements = (8 << 20) / (threads * 12) / 16 * 16
    #expect(triad.bytes == triadElements * threads * 12, "triad counts two reads and a write per element")
  }

  @Test("the read loop sums exactly and the triad writes b + q·c")
  func kernelsAreRight() {
    let count = 1_003
    let x = (0..<count).map { Float($0 % 5) }
    let sum = x.withUnsafeBufferPointer { StreamKernels.sum($0) }
    #expect(sum == x.reduce(0, +))
    var a = [Float](repeating: 0, count: count)
    let b = (0..<count).map { Float($0) }
    let c = (0..<count).map { Float($0 % 3) }
    a.withUnsafeMutableBufferPointer { a in
      b.withUnsafeBufferPointer { b in c.withUnsafeBufferPointer { c in StreamKernels.triad(a, b, c, 2) } }
    }
    #expect(a == zip(b, c).map { $0 + 2 * $1 })
  }

  @Test("a sweep measures both kernels for every thread count")
  func sweep() throws {
    let probe = BandwidthProbe(topology: try Topology.current(), bytes: 4 << 20, repetitions: 1)
    let results = try probe.sweep(threadCounts: [1, 1])
    #expect(results.map(\.kernel) == [.read, .triad, .read, .triad])
  }
}
