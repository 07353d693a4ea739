import Dataset
import Foundation
import Testing

@testable import Ingest

/// The bytes of a version 1 `.npy` file holding `values` with `descr` and `shape`.
func npy<T>(_ values: [T], descr: String, shape: String, fortran: Bool = false) -> Data {
  var header = "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shape), }"
  while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
  header += "\n"
  var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
  data.append(contentsOf: [UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)])
  data.append(contentsOf: Array(header.utf8))
  values.withUnsafeBytes { data.append(contentsOf: $0) }
  return data
}

@Suite("NumPy .npy")
struct NPYTests {
  @Test("float64 features and float32 labels convert to a dense dataset")
  func convert() throws {
    let folder = try temporaryFolder()
    try npy([1.5, 2, 3, 4, 5, 6.25] as [Double], descr: "<f8", shape: "(3, 2)").write(
      to: URL(fileURLWithPath: folder + "/x.npy"))
    try npy([0, 1, 1] as [Float], descr: "<f4", shape: "(3,)").write(
      to: URL(fileURLWithPath: folder + "/y.npy"))
    let summary = try Importer.convert(
      input: folder + "/x.npy", output: folder + "/d.sds", npyLabels: folder + "/y.npy")
    #expect(summary.rows == 3 && summary.columns == 2 && summary.labelKind == .binary)
    let data = try Dataset(path: folder + "/d.sds")
    #expect(Array(data.rows.denseRow(2)) == [5, 6.25] && data.rows.label(1) == 1)
  }

  @Test(
    "bad arrays are refused with what was expected",
    arguments: [
      ("<f8", "(3, 0)", "(3,)", false, "", "expected at least one feature in a file without labels"),
      (">f8", "(3, 2)", "(3,)", false, "y.npy", "expected little-endian float32 or float64 data"),
      ("<f8", "(3, 2)", "(3,)", true, "y.npy", "expected C order"),
      ("<f8", "(6,)", "(4,)", false, "y.npy", "expected a 2-D float array"),
      ("<f8", "(3, 2)", "(4,)", false, "y.npy", "expected 3 labels"),
      ("<f8", "(4, 2)", "(4,)", false, "y.npy", "expected 64 bytes of data"),
      (
        "<f8", "(9223372036854775807, 4)", "(4,)", false, "y.npy",
        "expected a shape whose size fits in memory"
      ),
      ("<f8", "(-3, -2)", "(4,)", false, "y.npy", "expected dimensions of 0 or more"),
    ])
  func bad(descr: String, shape: String, labelShape: String, fortran: Bool, labels: String, message: String)
    throws
  {
    let folder = try temporaryFolder()
    try npy([1, 2, 3, 4, 5, 6] as [Double], descr: descr, shape: shape, fortran: fortran).write(
      to: URL(fileURLWithPath: folder + "/x.npy"))
    try npy([0, 1, 1, 0] as [Float], descr: "<f4", shape: labelShape).write(
      to: URL(fileURLWithPath: folder + "/y.npy"))
    #expect {
      try Importer.convert(
        input: folder + "/x.npy", output: folder + "/d.sds",
        npyLabels: labels.isEmpty ? nil : folder + "/" + labels)
    } throws: { error in
      #expect("\(error)".contains(message), "got \(error)")
      return true
    }
    #expect(!FileManager.default.fileExists(atPath: folder + "/d.sds"))
  }

  @Test("a header quoting control characters gives a one-line error with them escaped")
  func controlCharactersInTheHeader() throws {
    let folder = try temporaryFolder()
    try npy([1, 2] as [Float], descr: "<f4\u{1}\n", shape: "(2,)").write(
      to: URL(fileURLWithPath: folder + "/x.npy"))
    do {
      _ = try Importer.convert(input: folder + "/x.npy", output: folder + "/d.sds")
      Issue.record("a damaged header converted")
    } catch {
      let text = "\(error)"
      #expect(text.contains("\\u{1}\\n"), "\(text)")
      #expect(
        text.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F }, "\(text.debugDescription)")
    }
    #expect(!FileManager.default.fileExists(atPath: folder + "/d.sds"))
  }

  @Test("NaN in the features is refused")
  func nan() throws {
    let folder = try temporaryFolder()
    try npy([1, .nan] as [Float], descr: "<f4", shape: "(1, 2)").write(
      to: URL(fileURLWithPath: folder + "/x.npy"))
    try npy([1] as [Float], descr: "<f4", shape: "(1,)").write(to: URL(fileURLWithPath: folder + "/y.npy"))
    #expect(throws: IngestError.self) {
      try Importer.convert(input: folder + "/x.npy", output: folder + "/d.sds", npyLabels: folder + "/y.npy")
    }
  }
}
