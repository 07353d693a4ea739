#if canImport(Glibc)
  import Glibc
#endif

/// Why a topology query, a thread binding or a NUMA memory operation failed.
public enum TopologyError: Error, Equatable, Sendable, CustomStringConvertible {
  /// A hwloc call failed; `errno` is what it left behind.
  case hwloc(function: String, errno: Int32)
  /// hwloc rejected a synthetic topology description.
  case invalidSyntheticDescription(String)
  /// A synthetic machine larger than Sounder builds (its levels' counts multiplied).
  case syntheticTooLarge(description: String, units: Int, limit: Int)
  /// The operation needs the real machine but the topology is synthetic
  /// (hwloc accepts binding requests on a synthetic topology and ignores them).
  case notThisSystem(operation: String)
  /// The kernel or libnuma offers no NUMA support.
  case numaUnavailable
  /// There is no NUMA node with this index.
  case noSuchNode(Int, available: Int)
  /// There is no processing unit with this index.
  case noSuchProcessingUnit(Int, available: Int)
  /// Allocating node-local memory failed.
  case allocationFailed(bytes: Int, node: Int)
  /// A system call failed with `errno`.
  case system(function: String, errno: Int32)

  public var description: String {
    switch self {
    case .hwloc(let function, let code):
      return "hwloc: \(function) failed: \(Self.message(for: code))"
    case .syntheticTooLarge(let text, let units, let limit):
      return
        "synthetic topology \"\(text)\" has \(units == Int.max ? "more than \(Int.max)" : "\(units)") processing units; at most \(limit)"
    case .invalidSyntheticDescription(let text):
      return
        "invalid synthetic topology \"\(text)\": expected hwloc's synthetic syntax, "
        + "levels with counts from the top down, such as \"pack:2 numa:2 core:8 pu:2\""
    case .notThisSystem(let operation):
      return "cannot \(operation) on a synthetic topology: it describes a simulated machine"
    case .numaUnavailable:
      return "NUMA is not available on this system (numa_available() returned -1)"
    case .noSuchNode(let node, let available):
      return "no NUMA node \(node): this machine has \(available) (0...\(available - 1))"
    case .noSuchProcessingUnit(let unit, let available):
      return "no processing unit \(unit): this machine has \(available) (0...\(available - 1))"
    case .allocationFailed(let bytes, let node):
      return "could not allocate \(bytes) bytes on NUMA node \(node)"
    case .system(let function, let code):
      return "\(function) failed: \(Self.message(for: code))"
    }
  }

  static func message(for code: Int32) -> String {
    guard let text = strerror(code) else { return "errno \(code)" }
    return "\(String(cString: text)) (errno \(code))"
  }
}
