import Dataset
import Foundation
import SeededRandom
import Testing

@testable import Ingest

@Suite("LIBSVM parsing")
struct LIBSVMTests {
  @Test("labels, comments, qid, blank lines, unsorted indices")
  func basics() throws {
    let folder = try temporaryFolder()
    let input = try write(
      "# header comment\n+1 qid:3 3:0.5 1:2 # trailing\n\n-1\t2:1e-3\r\n0.5 7:-4\n", to: "a.svm", in: folder)
    let summary = try Importer.convert(input: input, output: folder + "/a.sds")
    #expect(summary.rows == 3 && summary.columns == 7 && summary.nonZeros == 4)
    #expect(summary.labelKind == .real)
    let data = try Dataset(path: folder + "/a.sds")
    #expect(Array(data.rows.sparseRow(0).indices) == [0, 2])
    #expect(Array(data.rows.sparseRow(0).values) == [2, 0.5])
    #expect(data.rows.sparseRow(1).values[0] == 0.001)
    #expect((0..<3).map(data.rows.label) == [1, -1, 0.5])
  }

  @Test(
    "label kinds are detected",
    arguments: [
      ("+1 1:1\n-1 1:1\n", LabelKind.binary), ("0 1:1\n1 1:1\n", .binary), ("0 1:1\n2 1:1\n", .classIndex),
      ("-1 1:1\n0 1:1\n1 1:1\n", .real), ("1.5 1:1\n", .real),
    ])
  func labelKinds(text: String, kind: LabelKind) throws {
    let folder = try temporaryFolder()
    let input = try write(text, to: "k.svm", in: folder)
    #expect(try Importer.convert(input: input, output: folder + "/k.sds").labelKind == kind)
  }

  @Test("zero-based indices and a given feature count")
  func options() throws {
    let folder = try temporaryFolder()
    let input = try write("1 0:1 4:2\n", to: "z.svm", in: folder)
    let summary = try Importer.convert(
      input: input, output: folder + "/z.sds", libsvm: LIBSVMOptions(zeroBased: true, features: 10))
    #expect(summary.columns == 10)
    let data = try Dataset(path: folder + "/z.sds")
    #expect(Array(data.rows.sparseRow(0).indices) == [0, 4])
  }

  @Test(
    "bad input names the file and line, says what was expected and found, and writes nothing",
    arguments: [
      ("1 1:1\nabc 1:2\n", LIBSVMOptions(), 2, "expected a label (a number), found 'abc'"),
      ("1 1:1\n1 1:2 3\n", LIBSVMOptions(), 2, "expected index:value, found '3'"),
      ("1 1:x\n", LIBSVMOptions(), 1, "expected a feature value (a number) after 1:, found 'x'"),
      ("1 1:nan\n", LIBSVMOptions(), 1, "NaN and infinity are not allowed"),
      ("1 1:-inf\n", LIBSVMOptions(), 1, "NaN and infinity are not allowed"),
      ("nan 1:1\n", LIBSVMOptions(), 1, "NaN and infinity are not allowed"),
      ("1 1:1e40\n", LIBSVMOptions(), 1, "within Float32 range"),
      ("1 0:1\n", LIBSVMOptions(), 1, "expected a feature index ≥ 1 (indices are 1-based"),
      ("1 -3:1\n", LIBSVMOptions(), 1, "found -3"),
      ("1 -1:1\n", LIBSVMOptions(zeroBased: true), 1, "expected a feature index ≥ 0, found -1"),
      (
        "1 1:1\n1 11:1\n", LIBSVMOptions(features: 10), 2,
        "expected a feature index below 11 (--features 10), found 11"
      ),
      ("1 3:1 2:1 3:2\n", LIBSVMOptions(), 1, "expected each feature index once per row, found 3 twice"),
      ("1 2:1 2:1\n", LIBSVMOptions(), 1, "found 2 twice"),
      ("1 a:1\n", LIBSVMOptions(), 1, "expected a feature index (a whole number) before ':', found 'a'"),
      (
        "1 1:1\n2 1:1\n", LIBSVMOptions(labelKind: .binary), 2,
        "expected a binary label (-1, +1, 0 or 1), found 2.0"
      ),
      ("1.5 1:1\n", LIBSVMOptions(labelKind: .classIndex), 1, "expected a class label"),
      ("", LIBSVMOptions(), 1, "expected at least one row, found an empty file"),
      ("# nothing\n\n# here\n", LIBSVMOptions(), 3, "expected at least one row, found only comments"),
    ])
  func badInput(text: String, options: LIBSVMOptions, line: Int, message: String) throws {
    let folder = try temporaryFolder()
    let input = try write(text, to: "bad.svm", in: folder)
    let output = folder + "/out.sds"
    let existing = try write("keep me", to: "existing.sds", in: folder)
    for target in [output, existing] {
      #expect {
        try Importer.convert(input: input, output: target, libsvm: options)
      } throws: { error in
        let text = "\(error)"
        #expect(text.hasPrefix("\(input):\(line): "), "got \(text)")
        #expect(text.contains(message), "got \(text)")
        return true
      }
    }
    #expect(!FileManager.default.fileExists(atPath: output))
    #expect(try String(contentsOfFile: existing, encoding: .utf8) == "keep me")
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == ["bad.svm", "existing.sds"])
  }

  @Test("a piece that stops at a bad line holds only whole rows (found by tools/fuzz)")
  func wholeRowsOnError() {
    let text = Array("+1 1:1 2:2\n+1 1:1 {{39:2\n".utf8)
    let piece = text.withUnsafeBytes { LIBSVMLineParser(options: LIBSVMOptions()).parse($0) }
    #expect(piece.error?.line == 2)
    #expect(piece.batch.values == [1, 2] && piece.batch.indices == [0, 1] && piece.batch.rowLengths == [2])
  }

  @Test("a mix of -1 and 0 labels is not binary")
  func binaryMix() throws {
    let folder = try temporaryFolder()
    let input = try write("-1 1:1\n0 1:1\n", to: "m.svm", in: folder)
    #expect(throws: IngestError.self) {
      try Importer.convert(input: input, output: folder + "/m.sds", libsvm: LIBSVMOptions(labelKind: .binary))
    }
  }

  @Test("output is byte-identical for any thread count and chunk size; errors report the same line")
  func threadCountIndependence() throws {
    let folder = try temporaryFolder()
    var random = SplitMix64(seed: 3)
    var text = ""
    for row in 0..<3000 {
      if row % 97 == 0 { text += "# comment \(row)\n" }
      text += random.next(below: 2) == 0 ? "+1" : "-1"
      var index = 0
      for _ in 0..<random.next(below: 12) {
        index += 1 + random.next(below: 20)
        text += " \(index):\(Float(random.next(below: 100_000)) / 997)"
      }
      text += "\n"
    }
    let input = try write(text, to: "big.svm", in: folder)
    var outputs: [Data] = []
    for (threads, chunk) in [(1, 8 << 20), (2, 4096), (3, 1000), (7, 64)] {
      let output = folder + "/out-\(threads).sds"
      _ = try Importer.convert(
        input: input, output: output, settings: IngestSettings(threads: threads, chunkBytes: chunk))
      outputs.append(try contents(output))
    }
    #expect(outputs.allSatisfy { $0 == outputs[0] })

    let broken = try write(text + "1 2:3 x\n" + text, to: "broken.svm", in: folder)
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).count
    for (threads, chunk) in [(1, 8 << 20), (3, 777)] {
      #expect(
        throws: IngestError.malformed(path: broken, line: lines, message: "expected index:value, found 'x'")
      ) {
        try Importer.convert(
          input: broken, output: folder + "/b.sds",
          settings: IngestSettings(threads: threads, chunkBytes: chunk))
      }
    }
  }

  @Test("text → sds → text → sds round-trips exactly")
  func roundTrip() throws {
    let folder = try temporaryFolder()
    var random = SplitMix64(seed: 11)
    var text = ""
    for _ in 0..<500 {
      text += "\(random.next(below: 3))"
      for index in Set((0..<8).map { _ in 1 + random.next(below: 50) }).sorted() {
        text += " \(index):\(Float(bitPattern: 0x3000_0000 + UInt32(random.next(below: 0x1800_0000))))"
      }
      text += "\n"
    }
    let input = try write(text, to: "r.svm", in: folder)
    _ = try Importer.convert(input: input, output: folder + "/r1.sds")
    _ = try Importer.convert(input: folder + "/r1.sds", output: folder + "/r2.svm")
    _ = try Importer.convert(input: folder + "/r2.svm", output: folder + "/r3.sds")
    #expect(try contents(folder + "/r1.sds") == contents(folder + "/r3.sds"))
    _ = try Importer.convert(input: folder + "/r3.sds", output: folder + "/r4.svm")
    #expect(try contents(folder + "/r2.svm") == contents(folder + "/r4.svm"))
  }
}
