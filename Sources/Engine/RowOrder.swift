import SeededRandom

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
