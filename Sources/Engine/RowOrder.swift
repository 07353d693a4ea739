/// SplitMix64 (Steele, Lea and Flood, 2014): a small, fast, seedable
/// generator, so that shuffles are the same on every platform and release.
struct SplitMix64 {
  private var state: UInt64

  init(seed: UInt64) { state = seed }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// A uniform integer in `0..<bound` (Lemire's multiply-shift, bias below 2⁻³²
  /// for the bounds used here).
  mutating func next(below bound: Int) -> Int {
    Int((UInt128(next()) &* UInt128(bound)) >> 64)
  }

  /// Fisher–Yates shuffle of `values[range]`.
  mutating func shuffle(_ values: inout [Int32], _ range: Range<Int>) {
    guard range.count > 1 else { return }
    for i in stride(from: range.upperBound - 1, to: range.lowerBound, by: -1) {
      let j = range.lowerBound + next(below: i - range.lowerBound + 1)
      values.swapAt(i, j)
    }
  }
}

/// The order a worker visits its rows in during one epoch: blocks of
/// consecutive rows, each read front to back, in a shuffled order.
///
/// Blocks hold about 256 KB of row data: long enough for the hardware
/// prefetcher to stream them (shuffling rows inside a block, or using
/// 16 KB blocks, measured 2× and 1.25× slower on 2,000,000 × 64 dense data),
/// short enough that consecutive updates still come from unrelated parts of
/// the data.
enum RowOrder {
  /// Bytes of row data per shuffled block.
  static let blockBytes = 256 << 10

  /// Rows per block for `rows` rows of `bytesPerRow` bytes on average: about
  /// ``blockBytes`` of data, but at most 1/64 of the rows, so that small
  /// datasets are still shuffled.
  static func blockRows(bytesPerRow: Int, rows: Int) -> Int {
    max(1, min(blockBytes / max(bytesPerRow, 1), rows / 64))
  }

  /// `rows` in a seeded block-shuffled order, different for every `epoch`
  /// and `stream` (worker) under one `seed`.
  static func shuffled(_ rows: [Int32], blockRows: Int, seed: UInt64, epoch: Int, stream: Int) -> [Int32] {
    var generator = SplitMix64(
      seed: seed ^ (UInt64(epoch) &* 0xD1B5_4A32_D192_ED03) ^ (UInt64(stream) &* 0x8CB9_2BA7_2F3D_8DD7))
    let blockCount = (rows.count + blockRows - 1) / blockRows
    var blocks = (0..<blockCount).map(Int32.init)
    generator.shuffle(&blocks, 0..<blockCount)
    var order: [Int32] = []
    order.reserveCapacity(rows.count)
    for block in blocks {
      let lower = Int(block) * blockRows
      order.append(contentsOf: rows[lower..<min(lower + blockRows, rows.count)])
    }
    return order
  }
}
