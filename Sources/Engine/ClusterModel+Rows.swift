import Dataset
import Dispatch
import Learning

extension ClusterModel {
  /// The Euclidean distance from every row of `rows` to each of the k
  /// centres, row after row (`count × clusters` floats), in the space the
  /// model clusters in (standardised when it has a scaler): scikit-learn's
  /// `transform`. Sums in Double; rows shared out over the cores in
  /// contiguous chunks, each writing its own rows' distances.
  public func distances(_ rows: CheckedRows) throws(TrainingError) -> [Float] {
    let block = rows.block
    guard block.columns <= features, block.layout == .csr || block.columns == features else {
      throw .invalidConfiguration(
        "the data has \(block.columns) features but the model \(features); they must match")
    }
    let scaled = scaler.map { TrainingSet.scaled(block, by: $0) }
    defer { scaled?.deallocate() }
    let source = RowBlock(
      count: block.count, columns: block.columns, layout: block.layout,
      features: UnsafePointer(scaled?.baseAddress) ?? block.features, offsets: block.offsets,
      indices: block.indices, labels: block.labels, weights: block.weights)
    let k = clusters
    let d = features
    let centres = centres.map(Double.init)
    let norms = (0..<k).map { c in centres[c * d..<(c + 1) * d].reduce(0) { $0 + $1 * $1 } }
    var result = [Float](repeating: 0, count: block.count * k)
    let chunks = max(1, min(ProcessInfoCores.count * 4, block.count / 4_096))
    result.withUnsafeMutableBufferPointer { out in
      // Each chunk writes only its own rows' k distances.
      nonisolated(unsafe) let base = out.baseAddress!
      DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
        for row in (block.count * chunk / chunks)..<(block.count * (chunk + 1) / chunks) {
          for c in 0..<k {
            var squared = 0.0
            switch source.layout {
            case .dense:
              for (j, x) in source.denseRow(row).enumerated() {
                let difference = Double(x) - centres[c * d + j]
                squared += difference * difference
              }
            case .csr:
              let x = source.sparseRow(row)
              squared = norms[c]
              for (j, value) in zip(x.indices, x.values) {
                let v = Double(value)
                squared += v * v - 2 * v * centres[c * d + Int(j)]
              }
            }
            base[row * k + c] = Float(max(squared, 0).squareRoot())
          }
        }
      }
    }
    return result
  }
}
