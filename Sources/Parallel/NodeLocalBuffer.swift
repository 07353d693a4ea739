import Topology

/// A zeroed array of floats on one NUMA node (or, without NUMA support,
/// anywhere), padded to whole cache lines so that two buffers never share one.
///
/// The class owns the memory and never touches it after zeroing; the threads
/// that use it coordinate through barriers or relaxed atomics, which is why it
/// may be shared.
public final class NodeLocalBuffer: @unchecked Sendable {
  /// The floats.
  public let floats: UnsafeMutableBufferPointer<Float>
  /// The kernel's node number the memory was requested on (`nil`: anywhere).
  public let node: Int?
  private let numaMemory: NodeLocalMemory?

  /// `count` zeroed floats on kernel node `node` (`nil`, or no NUMA support:
  /// wherever the allocator puts them).
  public init(count: Int, node: Int?) throws {
    let padded = max((count + 15) / 16 * 16, 16)
    let bytes = padded * MemoryLayout<Float>.stride
    if let node, NUMAMemory.isAvailable {
      let memory = try NUMAMemory.allocate(bytes: bytes, onNode: node)
      numaMemory = memory
      floats = UnsafeMutableBufferPointer(
        start: memory.bytes.baseAddress!.bindMemory(to: Float.self, capacity: padded), count: count)
      self.node = node
    } else {
      let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
      numaMemory = nil
      floats = UnsafeMutableBufferPointer(
        start: raw.bindMemory(to: Float.self, capacity: padded), count: count)
      self.node = nil
    }
    UnsafeMutableBufferPointer(start: floats.baseAddress, count: padded).initialize(repeating: 0)
  }

  deinit {
    if numaMemory == nil { UnsafeMutableRawPointer(floats.baseAddress!).deallocate() }
  }
}
