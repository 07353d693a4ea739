/// Page-aligned memory for benchmark vectors, filled with small values so
/// repeated kernels never overflow or reach subnormals. Owns its memory.
public final class Region: @unchecked Sendable {
  /// The floats; shared read-only between pinned threads, or split into
  /// disjoint slices when written.
  public let floats: UnsafeMutableBufferPointer<Float>

  /// `count` floats, each set to a value in [0.5, 1.5).
  public init(floats count: Int) {
    let raw = UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 4096)
    floats = UnsafeMutableBufferPointer(start: raw.bindMemory(to: Float.self, capacity: count), count: count)
    fill(0..<count)
  }

  deinit { floats.deallocate() }

  /// Sets `floats[range]` to the benchmark's values; threads call it on their
  /// own slices to place pages on their NUMA node (first touch).
  public func fill(_ range: Range<Int>) {
    for i in range { floats[i] = 0.5 + Float(i % 1024) / 1024 }
  }

  /// `count` floats from `start`, read-only.
  public func slice(_ start: Int, _ count: Int) -> UnsafeBufferPointer<Float> {
    UnsafeBufferPointer(rebasing: floats[start..<(start + count)])
  }

  /// `count` floats from `start`, writable.
  public func mutableSlice(_ start: Int, _ count: Int) -> UnsafeMutableBufferPointer<Float> {
    UnsafeMutableBufferPointer(rebasing: floats[start..<(start + count)])
  }
}

/// Keeps results alive so no kernel call is optimised away.
public nonisolated(unsafe) var sink: Float = 0
