import Dataset
import Foundation

/// A fresh empty folder under the system's temporary folder.
func temporaryFolder() throws -> String {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent(
    "sounder-dataset-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url.path
}

/// Writes a small CSR dataset: rows [0:1, 2:2], [], [1:-3.5], labels ±1.
func writeSmallSparse(_ path: String) throws {
  let writer = try DatasetWriter(path: path, layout: .csr)
  var batch = RowBatch(layout: .csr)
  batch.labels = [1, -1, 1]
  batch.values = [1, 2, -3.5]
  batch.indices = [0, 2, 1]
  batch.rowLengths = [2, 0, 1]
  try writer.append(batch)
  try writer.finish(columns: 3, labelKind: .binary)
}

/// Writes a dense dataset of `rows` × `columns`, value = row * 10 + column.
func writeDense(_ path: String, rows: Int, columns: Int, weights: Bool = false) throws {
  let writer = try DatasetWriter(path: path, layout: .dense)
  var batch = RowBatch(layout: .dense, columns: columns)
  for row in 0..<rows {
    batch.labels.append(Float(row))
    if weights { batch.weights.append(0.5) }
    for column in 0..<columns { batch.values.append(Float(row * 10 + column)) }
  }
  try writer.append(batch)
  try writer.finish(columns: columns, labelKind: .real)
}
