import CHwloc
import CLaunchAffinity

#if canImport(Glibc)
  import Glibc
#endif

/// Owns one loaded hwloc topology (`hwloc_topology_t`).
///
/// The handle is created, configured and loaded in `init` and only read after
/// that. hwloc documents concurrent read-only use of a loaded topology,
/// binding calls included, as thread-safe, which is why this class may be
/// shared between threads.
final class HwlocTopology: @unchecked Sendable {
  let raw: hwloc_topology_t
  /// Whether the topology is this machine (false for synthetic topologies).
  let isThisSystem: Bool

  /// Loads this machine's topology, or a synthetic one when `synthetic` is set.
  /// The corresponding C functions are `hwloc_topology_init`,
  /// `hwloc_topology_set_synthetic` and `hwloc_topology_load`.
  init(synthetic: String?) throws(TopologyError) {
    var handle: hwloc_topology_t?
    guard hwloc_topology_init(&handle) == 0, let handle else {
      throw .hwloc(function: "hwloc_topology_init", errno: errno)
    }
    // hwloc hides instruction caches unless asked; `lstopo` shows them, so do we.
    hwloc_topology_set_icache_types_filter(handle, HWLOC_TYPE_FILTER_KEEP_ALL)
    if let synthetic {
      let status = synthetic.withCString { hwloc_topology_set_synthetic(handle, $0) }
      if status != 0 {
        hwloc_topology_destroy(handle)
        throw .invalidSyntheticDescription(synthetic)
      }
    }
    guard hwloc_topology_load(handle) == 0 else {
      let code = errno
      hwloc_topology_destroy(handle)
      throw .hwloc(function: "hwloc_topology_load", errno: code)
    }
    if synthetic == nil, hwloc_topology_is_thissystem(handle) != 0 { Self.restrictToLaunchMask(handle) }
    raw = handle
    isThisSystem = hwloc_topology_is_thissystem(handle) != 0
  }

  /// Removes the CPUs this process was not given at start-up (by `taskset`,
  /// `mpirun`'s binding, a batch system), so that placement uses only its
  /// own: two MPI ranks on one machine then train on different cores. The
  /// corresponding C function is `hwloc_topology_restrict`; a mask that
  /// cannot be read, or that covers the whole machine, changes nothing.
  private static func restrictToLaunchMask(_ handle: hwloc_topology_t) {
    var cpus = [Int32](repeating: 0, count: 4096)
    let count = Int(claunch_allowed_cpus(&cpus, Int32(cpus.count)))
    guard count > 0, count <= cpus.count, let set = hwloc_bitmap_alloc() else { return }
    defer { hwloc_bitmap_free(set) }
    for cpu in cpus[0..<count] { hwloc_bitmap_set(set, UInt32(cpu)) }
    guard let root = hwloc_get_root_obj(handle)?.pointee.cpuset else { return }
    let allowedHere = hwloc_bitmap_alloc()
    defer { hwloc_bitmap_free(allowedHere) }
    hwloc_bitmap_and(allowedHere, set, root)
    guard hwloc_bitmap_iszero(allowedHere) == 0, hwloc_bitmap_isequal(allowedHere, root) == 0 else { return }
    _ = hwloc_topology_restrict(handle, allowedHere, 0)
  }

  deinit { hwloc_topology_destroy(raw) }

  /// The objects of one type, in logical order.
  func objects(_ type: hwloc_obj_type_t) -> [hwloc_obj_t] {
    let count = hwloc_get_nbobjs_by_type(raw, type)
    guard count > 0 else { return [] }
    return (0..<UInt32(count)).compactMap { hwloc_get_obj_by_type(raw, type, $0) }
  }

  /// Binds the calling thread to the CPU with OS index `cpu`.
  /// The corresponding C function is `hwloc_set_cpubind` with
  /// `HWLOC_CPUBIND_THREAD`.
  func bindCurrentThread(toCPU cpu: Int) throws(TopologyError) {
    guard let set = hwloc_bitmap_alloc() else {
      throw .hwloc(function: "hwloc_bitmap_alloc", errno: errno)
    }
    defer { hwloc_bitmap_free(set) }
    hwloc_bitmap_only(set, UInt32(cpu))
    guard hwloc_set_cpubind(raw, set, Int32(HWLOC_CPUBIND_THREAD.rawValue)) == 0 else {
      throw .hwloc(function: "hwloc_set_cpubind", errno: errno)
    }
  }

  /// The OS indices of the CPUs the calling thread may run on.
  /// The corresponding C function is `hwloc_get_cpubind`.
  func currentThreadBinding() throws(TopologyError) -> [Int] {
    guard let set = hwloc_bitmap_alloc() else {
      throw .hwloc(function: "hwloc_bitmap_alloc", errno: errno)
    }
    defer { hwloc_bitmap_free(set) }
    guard hwloc_get_cpubind(raw, set, Int32(HWLOC_CPUBIND_THREAD.rawValue)) == 0 else {
      throw .hwloc(function: "hwloc_get_cpubind", errno: errno)
    }
    return Self.members(of: set)
  }

  /// The indices set in a bitmap (Swift's stand-in for the
  /// `hwloc_bitmap_foreach_begin` macro, which it cannot import).
  static func members(of set: hwloc_const_bitmap_t?) -> [Int] {
    guard let set else { return [] }
    var result: [Int] = []
    var index = hwloc_bitmap_first(set)
    while index >= 0 {
      result.append(Int(index))
      index = hwloc_bitmap_next(set, index)
    }
    return result
  }
}
