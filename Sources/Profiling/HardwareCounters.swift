import CPerfEvents

#if canImport(Glibc)
  import Glibc
#endif

/// Cycles, instructions and last-level-cache misses of this process (all its
/// threads) over a stretch of work, from Linux's `perf_event_open`.
public struct HardwareCounts: Sendable, Equatable, Codable {
  public var cycles: Int64
  public var instructions: Int64
  public var cacheMisses: Int64

  /// Instructions per cycle.
  public var instructionsPerCycle: Double { cycles > 0 ? Double(instructions) / Double(cycles) : 0 }
}

/// Opens the three hardware counters once; each ``measure(_:)`` counts one
/// stretch. Where the kernel refuses (virtual machines often have no PMU;
/// `perf_event_paranoid` may forbid it), ``unavailable`` says why and
/// ``measure(_:)`` returns `nil` counts.
public final class HardwareCounters {
  private var descriptors: [Int32] = []
  /// Why counting is impossible here, or `nil` when it works.
  public private(set) var unavailable: String?

  public init() {
    for event in [CPERF_CYCLES, CPERF_INSTRUCTIONS, CPERF_LLC_MISSES] {
      let descriptor = cperf_open(event)
      if descriptor < 0 {
        unavailable =
          "perf_event_open refused hardware counters: \(String(cString: strerror(-descriptor))) (errno \(-descriptor))"
        descriptors.forEach(cperf_close)
        descriptors = []
        return
      }
      descriptors.append(descriptor)
    }
  }

  deinit { descriptors.forEach(cperf_close) }

  /// Runs `work` and returns what it counted (`nil` counts where unavailable).
  public func measure<T>(_ work: () throws -> T) rethrows -> (T, HardwareCounts?) {
    guard unavailable == nil else { return (try work(), nil) }
    for descriptor in descriptors { _ = cperf_start(descriptor) }
    let value = try work()
    let counts = descriptors.map(cperf_stop)
    return (value, HardwareCounts(cycles: counts[0], instructions: counts[1], cacheMisses: counts[2]))
  }
}
