import Dataset
import Foundation
import SeededRandom
import Testing

@testable import Ingest

@Suite("CSV parsing")
struct CSVTests {
  @Test("a header is detected and a column named label is the label")
  func header() throws {
    let folder = try temporaryFolder()
    let input = try write("a,label,b\n1,0,2\n3,1,4.5\n", to: "h.csv", in: folder)
    let summary = try Importer.convert(input: input, output: folder + "/h.sds")
    #expect(summary.rows == 2 && summary.columns == 2 && summary.labelKind == .binary)
    let data = try Dataset(path: folder + "/h.sds")
    #expect(Array(data.rows.denseRow(1)) == [3, 4.5] && data.rows.label(1) == 1)
  }

  @Test("no header: the last column is the label; options pick others")
  func options() throws {
    let folder = try temporaryFolder()
    let input = try write("1;2;3\n4;5;6\n", to: "n.csv", in: folder)
    var options = CSVOptions(delimiter: UInt8(ascii: ";"))
    _ = try Importer.convert(input: input, output: folder + "/n.sds", csv: options)
    var data = try Dataset(path: folder + "/n.sds")
    #expect(Array(data.rows.denseRow(0)) == [1, 2] && data.rows.label(0) == 3)
    options.labelColumn = .index(0)
    _ = try Importer.convert(input: input, output: folder + "/n.sds", csv: options)
    data = try Dataset(path: folder + "/n.sds")
    #expect(Array(data.rows.denseRow(1)) == [5, 6] && data.rows.label(1) == 4)
    let named = try write("x,\"y\"\n1,2\n", to: "q.csv", in: folder)
    _ = try Importer.convert(
      input: named, output: folder + "/q.sds", csv: CSVOptions(labelColumn: .name("x")))
    let labelled = try Dataset(path: folder + "/q.sds")
    #expect(labelled.rows.label(0) == 1)
  }

  @Test("--fill replaces missing values")
  func fill() throws {
    let folder = try temporaryFolder()
    let input = try write("a,b,y\n1,,0\nNA,2,1\n", to: "f.csv", in: folder)
    _ = try Importer.convert(input: input, output: folder + "/f.sds", csv: CSVOptions(fill: -1))
    let data = try Dataset(path: folder + "/f.sds")
    #expect(Array(data.rows.denseRow(0)) == [1, -1] && Array(data.rows.denseRow(1)) == [-1, 2])
  }

  @Test(
    "bad input names the file and line and writes nothing",
    arguments: [
      ("a,b,y\n1,2,0\n1,2\n", 3, "expected 3 fields (as in the first line), found 2"),
      ("a,b,y\n1,2,0\n1,2,3,4\n", 3, "expected 3 fields (as in the first line), found 4"),
      (
        "a,b,y\n1,,0\n", 2,
        "expected a number in column 1 (b), found a missing value (an empty field); use --fill"
      ),
      ("1,2,0\n1,x,0\n", 2, "expected a number in column 1, found 'x'"),
      ("1,2,0\n1,inf,0\n", 2, "NaN and infinity are not allowed"),
      ("", 1, "expected at least one row, found an empty file"),
      ("a,b,y\n", 1, "expected at least one row"),
      ("5\n", 1, "expected at least 2 fields"),
    ])
  func badInput(text: String, line: Int, message: String) throws {
    let folder = try temporaryFolder()
    let input = try write(text, to: "bad.csv", in: folder)
    #expect {
      try Importer.convert(input: input, output: folder + "/out.sds")
    } throws: { error in
      let text = "\(error)"
      #expect(text.hasPrefix("\(input):\(line): ") && text.contains(message), "got \(text)")
      return true
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["bad.csv"])
  }

  @Test("a label column that does not exist is refused")
  func badLabelColumn() throws {
    let folder = try temporaryFolder()
    let input = try write("a,b\n1,2\n", to: "c.csv", in: folder)
    for column in [ColumnSelector.index(2), .name("zz")] {
      #expect(throws: IngestError.self) {
        try Importer.convert(input: input, output: folder + "/o.sds", csv: CSVOptions(labelColumn: column))
      }
    }
  }

  @Test("CSV → sds → CSV → sds round-trips exactly, for any thread count")
  func roundTrip() throws {
    let folder = try temporaryFolder()
    var random = SplitMix64(seed: 5)
    var text = "p,q,r,label\n"
    for _ in 0..<2000 {
      let values = (0..<3).map { _ in "\(Float(Int(random.next(below: 2_000_000)) - 1_000_000) / 8191)" }
      text += values.joined(separator: ",") + ",\(random.next(below: 2))\n"
    }
    let input = try write(text, to: "r.csv", in: folder)
    _ = try Importer.convert(input: input, output: folder + "/r1.sds", settings: IngestSettings(threads: 1))
    _ = try Importer.convert(
      input: input, output: folder + "/r1b.sds", settings: IngestSettings(threads: 3, chunkBytes: 512))
    #expect(try contents(folder + "/r1.sds") == contents(folder + "/r1b.sds"))
    _ = try Importer.convert(input: folder + "/r1.sds", output: folder + "/r2.csv")
    _ = try Importer.convert(input: folder + "/r2.csv", output: folder + "/r3.sds")
    #expect(try contents(folder + "/r1.sds") == contents(folder + "/r3.sds"))
  }

  @Test("a byte order mark is skipped, and a typo in the first row is an error, not a header")
  func firstLineShape() throws {
    let folder = try temporaryFolder()
    let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
    let cases: [(name: String, bytes: [UInt8], rows: Int?)] = [
      ("bom-data", bom + Array("1,2,0\n3,4,1\n5,6,0\n".utf8), 3),
      ("bom-header", bom + Array("x,label,z\n3,1,4\n5,0,6\n".utf8), 2),
      ("typo", Array("1e,2,0\n3,4,1\n".utf8), nil),
    ]
    for (name, bytes, rows) in cases {
      let input = folder + "/\(name).csv"
      try Data(bytes).write(to: URL(fileURLWithPath: input))
      let output = folder + "/\(name).sds"
      if let rows {
        let summary = try Importer.convert(input: input, output: output)
        #expect(summary.rows == rows, "\(name): \(summary.rows) rows")
        if name == "bom-header" {
          // The label is the column named label, not the last one.
          let data = try Dataset(path: output)
          #expect(data.rows.label(0) == 1 && Array(data.rows.denseRow(0)) == [3, 4])
        }
      } else {
        #expect {
          _ = try Importer.convert(input: input, output: output)
        } throws: { error in
          #expect(
            "\(error)".contains("\(input):1: expected a number in column 0, found '1e'"), "got \(error)")
          return true
        }
        #expect(!FileManager.default.fileExists(atPath: output))
      }
    }
  }

  @Test("--fill replaces missing features, never labels, and only with a finite number")
  func fillRules() throws {
    let folder = try temporaryFolder()
    let input = folder + "/missing.csv"
    try "a,b,label\n1,,0\n3,4,1\n".write(toFile: input, atomically: true, encoding: .utf8)
    let filled = try Importer.convert(input: input, output: folder + "/filled.sds", csv: CSVOptions(fill: -1))
    #expect(filled.rows == 2)
    let data = try Dataset(path: folder + "/filled.sds")  // alive while its rows are read
    #expect(Array(data.rows.denseRow(0)) == [1, -1])
    for (text, fill, message) in [
      (
        "a,b,label\n1,2,0\n3,4,\n", Float(0),
        "missing.csv:3: expected a label in column 2 (label), found a missing value"
      ),
      ("a,b,label\n1,,0\n", Float.nan, "--fill must be a finite number (got nan)"),
    ] {
      try text.write(toFile: input, atomically: true, encoding: .utf8)
      #expect {
        _ = try Importer.convert(input: input, output: folder + "/bad.sds", csv: CSVOptions(fill: fill))
      } throws: { error in
        #expect("\(error)".contains(message), "got \(error)")
        return true
      }
      #expect(!FileManager.default.fileExists(atPath: folder + "/bad.sds"))
    }
  }

  @Test("hints: another separator names --delimiter, gzip data says to decompress it")
  func hints() throws {
    let folder = try temporaryFolder()
    let cases: [(String, [UInt8], String)] = [
      ("semi.csv", Array("a;b;label\n1;2;0\n".utf8), "found 1; the line holds ';', so try --delimiter ';'"),
      ("tab.csv", Array("a\tb\tlabel\n1\t2\t0\n".utf8), "the line holds '\\t', so try --delimiter '\\t'"),
      (
        "zipped.csv", [0x1F, 0x8B, 0x08, 0x00, 0x0A, 0x31, 0x2C, 0x32, 0x0A],
        "zipped.csv:1: expected text, found gzip-compressed data; decompress it first"
      ),
      (
        "zipped.svm", [0x1F, 0x8B, 0x08, 0x00, 0x0A],
        "zipped.svm:1: expected text, found gzip-compressed data"
      ),
    ]
    for (name, bytes, message) in cases {
      let input = folder + "/" + name
      try Data(bytes).write(to: URL(fileURLWithPath: input))
      #expect {
        _ = try Importer.convert(input: input, output: folder + "/out.sds")
      } throws: { error in
        #expect("\(error)".contains(message), "\(name): got \(error)")
        return true
      }
      #expect(!FileManager.default.fileExists(atPath: folder + "/out.sds"))
    }
  }
}
