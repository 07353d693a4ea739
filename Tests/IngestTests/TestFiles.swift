import Dataset
import Foundation
import Ingest
import SeededRandom

/// A fresh empty folder under the system's temporary folder.
func temporaryFolder() throws -> String {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent(
    "sounder-ingest-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url.path
}

/// Writes `text` to `name` in `folder` and returns the path.
func write(_ text: String, to name: String, in folder: String) throws -> String {
  let path = folder + "/" + name
  try Data(text.utf8).write(to: URL(fileURLWithPath: path))
  return path
}

/// The bytes of the file at `path`.
func contents(_ path: String) throws -> Data {
  try Data(contentsOf: URL(fileURLWithPath: path))
}
