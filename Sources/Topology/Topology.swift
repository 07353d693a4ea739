import CHwloc
import CNuma

/// A machine's layout: packages, NUMA nodes, cores, processing units (PUs,
/// hardware threads), caches and the distances between NUMA nodes.
///
/// A `Topology` is a snapshot read once from hwloc, either from this machine
/// (``current()``) or from a synthetic description (``synthetic(_:)``), so
/// that placement logic for many-node machines can be run and tested on any
/// machine. Every index in it is a logical index (0, 1, 2, ... in hwloc's
/// order); OS indices, the numbers the kernel uses, are stored beside them.
public struct Topology: Sendable {
  /// A processor package (socket).
  public struct Package: Sendable, Equatable, Codable {
    /// Logical index.
    public var index: Int
    /// The cores in the package (indices into ``Topology/cores``).
    public var cores: [Int]
    /// The NUMA nodes whose CPUs lie in the package.
    public var nodes: [Int]
  }

  /// A NUMA node: a memory bank and the processing units closest to it.
  public struct NUMANode: Sendable, Equatable, Codable {
    /// Logical index.
    public var index: Int
    /// The kernel's node number (what `numactl` and `mbind` use).
    public var osIndex: Int
    /// Bytes of memory local to the node (0 when hwloc does not know).
    public var memoryBytes: UInt64
    /// The node's package.
    public var package: Int
    /// The cores whose processing units all belong to this node.
    public var cores: [Int]
    /// The node's processing units.
    public var processingUnits: [Int]
  }

  /// A physical core.
  public struct Core: Sendable, Equatable, Codable {
    /// Logical index.
    public var index: Int
    /// The core's package.
    public var package: Int
    /// The core's NUMA node.
    public var node: Int
    /// The core's processing units (hardware threads), in logical order.
    public var processingUnits: [Int]
  }

  /// A processing unit: one hardware thread, the unit a thread is pinned to.
  public struct ProcessingUnit: Sendable, Equatable, Codable {
    /// Logical index.
    public var index: Int
    /// The kernel's CPU number (what `sched_getcpu` returns).
    public var osIndex: Int
    /// The PU's core.
    public var core: Int
    /// The PU's NUMA node.
    public var node: Int
    /// The PU's package.
    public var package: Int
  }

  /// One level and kind of CPU cache, summarised over its instances.
  public struct Cache: Sendable, Equatable, Codable {
    /// What a cache holds.
    public enum Kind: String, Sendable, Codable { case unified, data, instruction }
    /// 1 for L1, 2 for L2, ...
    public var level: Int
    public var kind: Kind
    /// Bytes in one instance.
    public var sizeBytes: UInt64
    /// Bytes in one cache line.
    public var lineBytes: Int
    /// How many instances the machine has.
    public var count: Int
    /// How many processing units share one instance.
    public var processingUnitsPerInstance: Int

    /// "L1d", "L1i", "L2", ...
    public var name: String {
      switch kind {
      case .unified: "L\(level)"
      case .data: "L\(level)d"
      case .instruction: "L\(level)i"
      }
    }
  }

  /// Relative memory access costs between NUMA nodes (10 means local, as in
  /// the ACPI SLIT table that `numactl --hardware` prints).
  public struct Distances: Sendable, Equatable, Codable {
    /// Where the figures come from.
    public enum Source: String, Sendable, Codable {
      /// The operating system, read by hwloc.
      case hwloc
      /// The kernel, read through libnuma's `numa_distance`.
      case libnuma
      /// Nothing reported them: 10 on the diagonal and 20 elsewhere.
      case assumed
    }
    /// `values[i][j]`: the cost of node `i` reading node `j`'s memory.
    public var values: [[Int]]
    public var source: Source
  }

  /// What this topology describes: "this machine" or the synthetic string.
  public let name: String
  /// Whether this is the machine the process runs on (false for synthetic ones).
  public let isThisSystem: Bool
  public let packages: [Package]
  public let nodes: [NUMANode]
  public let cores: [Core]
  public let processingUnits: [ProcessingUnit]
  /// Caches by level, then kind (data before instruction).
  public let caches: [Cache]
  public let distances: Distances

  let handle: HwlocTopology

  /// Reads this machine's topology.
  public static func current() throws(TopologyError) -> Topology {
    try Topology(handle: HwlocTopology(synthetic: nil), name: "this machine")
  }

  /// The most processing units a synthetic machine may have.
  public static let maximumSyntheticUnits = 65_536

  /// Builds a simulated machine from hwloc's synthetic description, levels
  /// from the top down with a count each, e.g. `"pack:2 numa:2 core:8 pu:2"`
  /// (2 packages of 2 NUMA nodes of 8 cores of 2 hardware threads).
  /// Useful to compute and test placement for machines one does not have.
  public static func synthetic(_ description: String) throws(TopologyError) -> Topology {
    let trimmed = description.trimmingWhitespace()
    guard !trimmed.isEmpty else { throw .invalidSyntheticDescription(description) }
    // Sized before hwloc builds it: "pack:1000 numa:1000 core:1000 pu:8" would take minutes and gigabytes.
    var units = 1
    for level in trimmed.split(separator: " ") {
      guard let colon = level.firstIndex(of: ":"),
        let count = Int(level[level.index(after: colon)...].prefix { $0.isNumber })
      else { continue }
      let (product, overflow) = units.multipliedReportingOverflow(by: count)
      units = overflow ? Int.max : product
    }
    guard units <= maximumSyntheticUnits else {
      throw .syntheticTooLarge(description: trimmed, units: units, limit: maximumSyntheticUnits)
    }
    return try Topology(handle: HwlocTopology(synthetic: trimmed), name: trimmed)
  }

  init(handle: HwlocTopology, name: String) throws(TopologyError) {
    self.handle = handle
    self.name = name
    self.isThisSystem = handle.isThisSystem

    let packageObjects = handle.objects(HWLOC_OBJ_PACKAGE)
    let nodeObjects = handle.objects(HWLOC_OBJ_NUMANODE)
    let coreObjects = handle.objects(HWLOC_OBJ_CORE)
    let puObjects = handle.objects(HWLOC_OBJ_PU)

    /// The index of the first object whose cpuset holds CPU `cpu`.
    func owner(of cpu: Int, among objects: [hwloc_obj_t]) -> Int? {
      objects.firstIndex { hwloc_bitmap_isset($0.pointee.cpuset, UInt32(cpu)) != 0 }
    }

    var units: [ProcessingUnit] = []
    for (index, object) in puObjects.enumerated() {
      let cpu = Int(object.pointee.os_index)
      units.append(
        ProcessingUnit(
          index: index, osIndex: cpu,
          core: owner(of: cpu, among: coreObjects) ?? index,
          node: owner(of: cpu, among: nodeObjects) ?? 0,
          package: owner(of: cpu, among: packageObjects) ?? 0))
    }

    // Machines whose hwloc reports no cores (some VMs) get one core per PU.
    var coreList: [Core] = []
    if coreObjects.isEmpty {
      for unit in units {
        units[unit.index].core = unit.index
        coreList.append(
          Core(index: unit.index, package: unit.package, node: unit.node, processingUnits: [unit.index]))
      }
    } else {
      for index in coreObjects.indices {
        let members = units.filter { $0.core == index }
        coreList.append(
          Core(
            index: index, package: members.first?.package ?? 0, node: members.first?.node ?? 0,
            processingUnits: members.map(\.index)))
      }
    }

    var nodeList: [NUMANode] = []
    for (index, object) in nodeObjects.enumerated() {
      let members = units.filter { $0.node == index }
      nodeList.append(
        NUMANode(
          index: index, osIndex: Int(object.pointee.os_index),
          memoryBytes: object.pointee.attr?.pointee.numanode.local_memory ?? 0,
          package: members.first?.package ?? 0,
          cores: coreList.filter { $0.node == index }.map(\.index),
          processingUnits: members.map(\.index)))
    }

    let packageCount = max(packageObjects.count, 1)
    packages = (0..<packageCount).map { index in
      Package(
        index: index,
        cores: coreList.filter { $0.package == index }.map(\.index),
        nodes: nodeList.filter { $0.package == index }.map(\.index))
    }
    nodes = nodeList
    cores = coreList
    processingUnits = units
    caches = Self.readCaches(handle)
    distances = Self.readDistances(handle, nodes: nodeList)
  }

  private static func readCaches(_ handle: HwlocTopology) -> [Cache] {
    let types: [hwloc_obj_type_t] = [
      HWLOC_OBJ_L1CACHE, HWLOC_OBJ_L1ICACHE, HWLOC_OBJ_L2CACHE, HWLOC_OBJ_L2ICACHE,
      HWLOC_OBJ_L3CACHE, HWLOC_OBJ_L3ICACHE, HWLOC_OBJ_L4CACHE, HWLOC_OBJ_L5CACHE,
    ]
    return types.compactMap { type in
      let objects = handle.objects(type)
      guard let first = objects.first, let attributes = first.pointee.attr?.pointee.cache else {
        return nil
      }
      let kind: Cache.Kind =
        switch attributes.type {
        case HWLOC_OBJ_CACHE_DATA: .data
        case HWLOC_OBJ_CACHE_INSTRUCTION: .instruction
        default: .unified
        }
      return Cache(
        level: Int(attributes.depth), kind: kind, sizeBytes: attributes.size,
        lineBytes: Int(attributes.linesize), count: objects.count,
        processingUnitsPerInstance: Int(hwloc_bitmap_weight(first.pointee.cpuset)))
    }
  }

  /// hwloc's NUMA latency matrix if the OS reports one, else libnuma's on the
  /// real machine, else the conventional 10 (local) / 20 (remote).
  private static func readDistances(_ handle: HwlocTopology, nodes: [NUMANode]) -> Distances {
    let count = max(nodes.count, 1)
    if let matrix = hwlocDistances(handle, count: count) {
      return Distances(values: matrix, source: .hwloc)
    }
    if handle.isThisSystem, numa_available() >= 0, nodes.count == count {
      let matrix = nodes.map { from in
        nodes.map { to in Int(numa_distance(Int32(from.osIndex), Int32(to.osIndex))) }
      }
      if matrix.allSatisfy({ $0.allSatisfy { $0 > 0 } }) {
        return Distances(values: matrix, source: .libnuma)
      }
    }
    let matrix = (0..<count).map { i in (0..<count).map { j in i == j ? 10 : 20 } }
    return Distances(values: matrix, source: .assumed)
  }

  /// The corresponding C functions are `hwloc_distances_get_by_type` and
  /// `hwloc_distances_release`.
  private static func hwlocDistances(_ handle: HwlocTopology, count: Int) -> [[Int]]? {
    var available: UInt32 = 1
    var matrices: [UnsafeMutablePointer<hwloc_distances_s>?] = [nil]
    let kind = UInt(HWLOC_DISTANCES_KIND_MEANS_LATENCY.rawValue)
    guard
      hwloc_distances_get_by_type(handle.raw, HWLOC_OBJ_NUMANODE, &available, &matrices, kind, 0)
        == 0,
      available >= 1, let matrix = matrices[0]
    else { return nil }
    defer { hwloc_distances_release(handle.raw, matrix) }
    let size = Int(matrix.pointee.nbobjs)
    guard size == count, let values = matrix.pointee.values else { return nil }
    return (0..<size).map { i in (0..<size).map { j in Int(values[i * size + j]) } }
  }
}

extension Topology {
  /// Binds the calling thread to one processing unit, so the scheduler never
  /// moves it. Throws on a synthetic topology, where binding would do nothing.
  /// The corresponding C function is `hwloc_set_cpubind`.
  public func bindCurrentThread(to unit: Int) throws(TopologyError) {
    guard isThisSystem else { throw .notThisSystem(operation: "bind a thread") }
    guard processingUnits.indices.contains(unit) else {
      throw .noSuchProcessingUnit(unit, available: processingUnits.count)
    }
    try handle.bindCurrentThread(toCPU: processingUnits[unit].osIndex)
  }

  /// The OS CPU numbers the calling thread is allowed to run on.
  /// The corresponding C function is `hwloc_get_cpubind`.
  public func currentThreadBinding() throws(TopologyError) -> [Int] {
    guard isThisSystem else { throw .notThisSystem(operation: "read a thread's binding") }
    return try handle.currentThreadBinding()
  }

  /// The OS number of the CPU the calling thread runs on right now.
  /// The corresponding C function is `sched_getcpu`.
  public static func currentCPU() -> Int { Int(sched_getcpu()) }

  /// The processing unit with this OS CPU number, if any.
  public func processingUnit(osIndex: Int) -> ProcessingUnit? {
    processingUnits.first { $0.osIndex == osIndex }
  }

  /// The NUMA node with this kernel node number, if any.
  public func node(osIndex: Int) -> NUMANode? {
    nodes.first { $0.osIndex == osIndex }
  }

  /// The size of the largest cache a single core can use alone (its L2, or
  /// L1d where there is no L2); 0 when hwloc reports no caches.
  public var privateCacheBytes: UInt64 {
    caches.filter {
      $0.kind != .instruction && $0.processingUnitsPerInstance <= (cores.first?.processingUnits.count ?? 1)
    }
    .map(\.sizeBytes).max() ?? 0
  }
}

extension String {
  func trimmingWhitespace() -> String {
    var view = Substring(self)
    while let first = view.first, first.isWhitespace { view.removeFirst() }
    while let last = view.last, last.isWhitespace { view.removeLast() }
    return String(view)
  }
}
