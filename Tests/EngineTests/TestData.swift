import Dataset
import SeededRandom

@testable import Engine

/// Rows made in memory from a known linear model, for engine tests: dense
/// standard-normal features or sparse rows with `perRow` non-zeros, labels
/// from the model plus noise (±1 for classification). `skew` > 1 makes
/// sparse columns power-law: column ⌊columns · u^skew⌋ for uniform u, so
/// low columns are frequent and high ones rare, as words in text. `scale`
/// multiplies every stored value after the labels are drawn (the same
/// problem in other units).
final class TestRows: @unchecked Sendable {
  let block: CheckedRows
  let truth: [Float]
  private let features: UnsafeMutableBufferPointer<Float>
  private let labels: UnsafeMutableBufferPointer<Float>
  private let offsets: UnsafeMutableBufferPointer<Int64>
  private let indices: UnsafeMutableBufferPointer<Int32>

  init(
    rows: Int, columns: Int, sparse perRow: Int? = nil, classification: Bool, noise: Float = 0.1,
    seed: UInt64 = 7, offset: Float = 0.5, skew: Double = 1, scale: Float = 1
  ) {
    var generator = SplitMix64(seed: seed)
    func normal() -> Float {
      // Box–Muller from two uniforms in (0, 1].
      let u = (Double(generator.next() >> 11) + 1) / 9_007_199_254_740_993
      let v = Double(generator.next() >> 11) / 9_007_199_254_740_992
      return Float((-2 * log(u)).squareRoot() * cos(2 * .pi * v))
    }
    truth = (0..<columns).map { _ in normal() }
    let stored = perRow.map { rows * $0 } ?? rows * columns
    features = .allocate(capacity: max(stored, 1))
    labels = .allocate(capacity: rows)
    offsets = .allocate(capacity: rows + 1)
    indices = .allocate(capacity: max(stored, 1))
    offsets[0] = 0
    for row in 0..<rows {
      var margin: Float = 0
      if let perRow {
        var chosen = Set<Int32>()
        while chosen.count < perRow {
          if skew == 1 {
            chosen.insert(Int32(generator.next(below: columns)))
          } else {
            let u = Double(generator.next() >> 11) / 9_007_199_254_740_992
            chosen.insert(Int32(Double(columns) * pow(u, skew)))
          }
        }
        for (k, column) in chosen.sorted().enumerated() {
          let value = normal() / Float(perRow).squareRoot()
          indices[row * perRow + k] = column
          features[row * perRow + k] = value
          margin += value * truth[Int(column)]
        }
        offsets[row + 1] = Int64((row + 1) * perRow)
      } else {
        for j in 0..<columns {
          let value = normal()
          features[row * columns + j] = value
          margin += value * truth[j]
        }
        offsets[row + 1] = Int64((row + 1) * columns)
      }
      let noisy = margin + offset + noise * normal()
      labels[row] = classification ? (noisy >= 0 ? 1 : 0) : noisy
    }
    for k in 0..<stored { features[k] *= scale }
    block = try! CheckedRows(
      RowBlock(
        count: rows, columns: columns, layout: perRow == nil ? .dense : .csr,
        features: UnsafePointer(features.baseAddress!), offsets: UnsafePointer(offsets.baseAddress!),
        indices: UnsafePointer(indices.baseAddress!), labels: UnsafePointer(labels.baseAddress!), weights: nil
      ), source: "test rows")
  }

  deinit {
    features.deallocate()
    labels.deallocate()
    offsets.deallocate()
    indices.deallocate()
  }
}

#if canImport(Glibc)
  import Glibc
#endif
