/// SplitMix64 (Steele, Lea and Flood, 2014): a small, fast, seedable
/// generator whose output is the same on every platform and release, unlike
/// the system's. Row shuffles, synthetic data and test inputs all draw from
/// it, so a seed names one sequence everywhere.
///
/// ```swift
/// var random = SplitMix64(seed: 42)
/// let die = random.next(below: 6) + 1
/// ```
public struct SplitMix64: RandomNumberGenerator, Sendable {
  private var state: UInt64

  public init(seed: UInt64) { state = seed }

  /// The next 64 random bits.
  @inline(__always)
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// A uniform integer in `0..<bound` by Lemire's multiply-shift, without
  /// the rejection step: the bias is below `bound / 2⁶⁴`.
  @inline(__always)
  public mutating func next(below bound: Int) -> Int {
    precondition(bound > 0, "bound must be positive")
    return Int((UInt128(next()) &* UInt128(bound)) >> 64)
  }

  /// Fisher–Yates shuffle of `values[range]`.
  public mutating func shuffle<C: MutableCollection & RandomAccessCollection>(
    _ values: inout C, _ range: Range<C.Index>
  ) where C.Index == Int {
    guard range.count > 1 else { return }
    for i in stride(from: range.upperBound - 1, to: range.lowerBound, by: -1) {
      let j = range.lowerBound + next(below: i - range.lowerBound + 1)
      values.swapAt(i, j)
    }
  }
}
