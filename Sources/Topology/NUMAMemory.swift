import CNuma

#if canImport(Glibc)
  import Glibc
#endif

/// Placing memory on NUMA nodes: allocating on a node, binding an existing
/// range (such as a memory-mapped file) to a node, and asking where pages are.
///
/// Node numbers here are the kernel's (``Topology/NUMANode/osIndex``).
public enum NUMAMemory {
  /// Whether the kernel and libnuma support NUMA calls.
  /// The corresponding C function is `numa_available`.
  public static var isAvailable: Bool { numa_available() >= 0 }

  /// The kernel's page size in bytes.
  public static var pageSize: Int { Int(sysconf(Int32(_SC_PAGESIZE))) }

  /// Allocates `bytes` of zeroed memory on `node`.
  /// The corresponding C function is `numa_alloc_onnode`.
  public static func allocate(bytes: Int, onNode node: Int) throws(TopologyError)
    -> NodeLocalMemory
  {
    try checkNode(node)
    guard bytes > 0 else { throw .allocationFailed(bytes: bytes, node: node) }
    guard let start = numa_alloc_onnode(bytes, Int32(node)) else {
      throw .allocationFailed(bytes: bytes, node: node)
    }
    return NodeLocalMemory(start: start, count: bytes, node: node)
  }

  /// Binds the pages spanning `range` to `node` and moves the pages already
  /// present there. The range is widened to whole pages.
  /// The corresponding C function is `mbind` with `MPOL_BIND | MPOL_MF_MOVE`.
  public static func bind(_ range: UnsafeRawBufferPointer, toNode node: Int) throws(TopologyError) {
    try checkNode(node)
    guard let base = range.baseAddress, range.count > 0 else { return }
    let page = UInt(pageSize)
    let start = UInt(bitPattern: base) & ~(page - 1)
    let end = (UInt(bitPattern: base) + UInt(range.count) + page - 1) & ~(page - 1)
    let bitsPerWord = UInt.bitWidth
    var mask = [UInt](repeating: 0, count: node / bitsPerWord + 1)
    mask[node / bitsPerWord] |= 1 << UInt(node % bitsPerWord)
    // maxnode counts bits; the kernel reads one fewer than it is given.
    let maxNode = UInt(mask.count * bitsPerWord + 1)
    let status = mask.withUnsafeBufferPointer { words in
      mbind(
        UnsafeMutableRawPointer(bitPattern: start), UInt(end - start), Int32(cnuma_mpol_bind()),
        words.baseAddress, maxNode, cnuma_mpol_mf_move())
    }
    guard status == 0 else { throw .system(function: "mbind", errno: errno) }
  }

  /// The node holding each page of `range`, or `nil` for a page that is not
  /// resident (never touched, or swapped out). Queries do not fault pages in.
  /// The corresponding C function is `move_pages` with no target nodes.
  public static func nodes(ofPagesIn range: UnsafeRawBufferPointer) throws(TopologyError) -> [Int?] {
    guard let base = range.baseAddress, range.count > 0 else { return [] }
    let page = pageSize
    let first = Int(bitPattern: base) & ~(page - 1)
    let last = (Int(bitPattern: base) + range.count - 1) & ~(page - 1)
    var pages: [UnsafeMutableRawPointer?] = stride(from: first, through: last, by: page).map {
      UnsafeMutableRawPointer(bitPattern: $0)
    }
    var status = [Int32](repeating: 0, count: pages.count)
    let result = pages.withUnsafeMutableBufferPointer { addresses in
      status.withUnsafeMutableBufferPointer { status in
        move_pages(0, UInt(addresses.count), addresses.baseAddress, nil, status.baseAddress, 0)
      }
    }
    guard result == 0 else { throw .system(function: "move_pages", errno: errno) }
    return status.map { $0 >= 0 ? Int($0) : nil }
  }

  /// The share of `range`'s resident pages that sit on `node` (1 when no page
  /// is resident yet, since first touch will place them).
  public static func localShare(of range: UnsafeRawBufferPointer, node: Int) throws(TopologyError)
    -> Double
  {
    let resident = try nodes(ofPagesIn: range).compactMap { $0 }
    guard !resident.isEmpty else { return 1 }
    return Double(resident.count { $0 == node }) / Double(resident.count)
  }

  private static func checkNode(_ node: Int) throws(TopologyError) {
    guard isAvailable else { throw .numaUnavailable }
    let count = Int(numa_max_node()) + 1
    guard node >= 0, node < count else { throw .noSuchNode(node, available: count) }
    // The corresponding C function is `numa_get_mems_allowed`.
    guard let allowed = numa_get_mems_allowed() else { throw .numaUnavailable }
    defer { numa_bitmask_free(allowed) }
    guard numa_bitmask_isbitset(allowed, UInt32(node)) != 0 else {
      throw .noSuchNode(node, available: count)
    }
  }
}

/// Memory allocated on one NUMA node, freed when the last reference goes.
///
/// The class only owns the allocation; it never reads or writes the bytes
/// itself. Threads that share it coordinate their own accesses (disjoint
/// ranges, barriers or relaxed atomics), which is why it may be shared.
public final class NodeLocalMemory: @unchecked Sendable {
  /// The memory, as bytes.
  public let bytes: UnsafeMutableRawBufferPointer
  /// The node it was allocated on.
  public let node: Int

  init(start: UnsafeMutableRawPointer, count: Int, node: Int) {
    bytes = UnsafeMutableRawBufferPointer(start: start, count: count)
    self.node = node
  }

  deinit {
    // The corresponding C function is `numa_free`.
    numa_free(bytes.baseAddress, bytes.count)
  }
}
