import Dataset
import Foundation
import SeededRandom
import Testing

@testable import Ingest

/// Converts `text` (written to `name` in `folder`) to `.sds` and opens the result.
private func convert(
  _ text: String, named name: String = "in.csv", in folder: String, options: CSVOptions = CSVOptions(),
  threads: Int = 2, chunkBytes: Int = 8 << 20
) throws -> (summary: ConversionSummary, data: Dataset) {
  let input = try write(text, to: name, in: folder)
  let output = folder + "/" + name + ".sds"
  let summary = try Importer.convert(
    input: input, output: output, csv: options,
    settings: IngestSettings(threads: threads, chunkBytes: chunkBytes))
  return (summary, try Dataset(path: output))
}

/// The error a conversion of `text` stops with, as printed.
private func failure(_ text: String, in folder: String, options: CSVOptions = CSVOptions()) throws -> String {
  let input = try write(text, to: "bad.csv", in: folder)
  do {
    _ = try Importer.convert(input: input, output: folder + "/bad.sds", csv: options)
  } catch {
    #expect(!FileManager.default.fileExists(atPath: folder + "/bad.sds"))
    return "\(error)".replacingOccurrences(of: input, with: "bad.csv")
  }
  Issue.record("\(text) converted")
  return ""
}

@Suite("CSV class names")
struct ClassNameTests {
  @Test("a header and name labels: ids in sorted order of the names, kept in the file")
  func headerAndNames() throws {
    let folder = try temporaryFolder()
    let (summary, data) = try convert(
      "sepal,petal,species\n5.1,1.4,setosa\n7,4.7,versicolor\n6.3,6,virginica\n4.9,1.4,setosa\n", in: folder)
    #expect(summary.labelKind == .classIndex && summary.rows == 4 && summary.columns == 2)
    #expect(summary.classNames == ["setosa", "versicolor", "virginica"])
    #expect(data.classNames == ["setosa", "versicolor", "virginica"])
    #expect((0..<4).map(data.rows.label) == [0, 1, 2, 0])
    #expect(Array(data.rows.denseRow(1)) == [7, 4.7])
    #expect(data.header.labelKind == .classIndex && data.header.version == 2)
    try data.verify()
  }

  @Test("no header and name labels: the first line is a row")
  func noHeaderAndNames() throws {
    let folder = try temporaryFolder()
    let (_, data) = try convert("1,2,spam\n3,4,ham\n5,6,spam\n", in: folder)
    #expect(data.classNames == ["ham", "spam"])
    #expect(data.rows.count == 3 && (0..<3).map(data.rows.label) == [1, 0, 1])
    let (_, one) = try convert("1,2,spam\n", named: "one.csv", in: folder)
    #expect(one.classNames == ["spam"] && one.rows.count == 1)
  }

  @Test(
    "headers are told from rows by their fields and the next line's label",
    arguments: [
      ("a,b,label\n1,2,0\n3,4,1\n", 2, nil),  // header, numeric labels
      ("1,2,0\n3,4,1\n", 2, nil),  // no header, numeric labels
      ("1,2,label\n3,4,1\n5,6,0\n", 2, nil),  // header of numbers and a label name
      ("1,2,label\n\n3,4,1\n", 1, nil),  // the next line is the first that is not blank
      ("1,2,y\n3,4,n\n", 2, ["n", "y"]),  // no header, name labels
      ("p,q,class\n1,2,b\n3,4,a\n", 2, ["a", "b"]),  // header, name labels
      ("p,q,r\n1,2,b\n", 1, ["b"]),  // header, name labels in the last column
      ("a,b,c\n1,,0\n", 1, nil),  // header; a missing feature is filled (a missing label never is)
    ] as [(String, Int, [String]?)])
  func headerRule(text: String, rows: Int, names: [String]?) throws {
    let folder = try temporaryFolder()
    let (summary, data) = try convert(text, in: folder, options: CSVOptions(fill: 0))
    #expect(summary.rows == rows && data.classNames == names)
  }

  @Test("--header and --no-header override the rule")
  func forcedHeader() throws {
    let folder = try temporaryFolder()
    let (_, data) = try convert("1,2,setosa\n3,4,ham\n", in: folder, options: CSVOptions(header: true))
    #expect(data.rows.count == 1 && data.classNames == ["ham"])
    #expect(
      try failure("a,b,species\n1,2,setosa\n", in: folder, options: CSVOptions(header: false))
        == "bad.csv:1: expected a number in column 0, found 'a'")
  }

  @Test("CSV → sds → CSV → sds round-trips byte for byte, names written back")
  func roundTrip() throws {
    let folder = try temporaryFolder()
    let (_, _) = try convert(
      "p;q;kind\n1.5;2;b c\n3;-4;\" a\"\n0;0;b c\n", named: "r.csv", in: folder,
      options: CSVOptions(delimiter: UInt8(ascii: ";")))
    let first = folder + "/r.csv.sds"
    _ = try Importer.convert(input: first, output: folder + "/r2.csv")
    #expect(
      try String(contentsOfFile: folder + "/r2.csv", encoding: .utf8)
        == "x0,x1,label\n1.5,2,b c\n3,-4,\" a\"\n0,0,b c\n")
    _ = try Importer.convert(input: folder + "/r2.csv", output: folder + "/r3.sds")
    #expect(try contents(first) == contents(folder + "/r3.sds"))
    #expect(try Dataset(path: first).classNames == [" a", "b c"])
  }

  @Test("LIBSVM output of named classes holds the class ids")
  func libsvmIds() throws {
    let folder = try temporaryFolder()
    _ = try convert("a,b,y\n1,0,spam\n0,2,ham\n", in: folder)
    _ = try Importer.convert(input: folder + "/in.csv.sds", output: folder + "/out.svm")
    #expect(try String(contentsOfFile: folder + "/out.svm", encoding: .utf8) == "1 1:1\n0 2:2\n")
  }

  @Test("a name CSV cannot hold is refused when writing CSV")
  func unwritableName() throws {
    let folder = try temporaryFolder()
    _ = try convert("1;2;a,b\n", in: folder, options: CSVOptions(delimiter: UInt8(ascii: ";")))
    #expect {
      try Importer.convert(input: folder + "/in.csv.sds", output: folder + "/out.csv")
    } throws: { error in
      "\(error)".contains("the class name 'a,b' cannot be a CSV label")
    }
    #expect(!FileManager.default.fileExists(atPath: folder + "/out.csv"))
  }

  @Test("ids and bytes are the same for any thread count and chunk size; names sort byte-wise")
  func threadCounts() throws {
    let folder = try temporaryFolder()
    let names = ["setosa", "Zebra", "été", "e\u{301}t\u{301}e", "b", "a b", "ünï", "A"]
    var random = SplitMix64(seed: 11)
    var text = "f0,f1,f2,name\n"
    var expected: [String] = []
    for _ in 0..<3000 {
      let name = names[Int(random.next(below: names.count))]
      expected.append(name)
      text += "\(random.next(below: 100)),\(random.next(below: 7)).5,-\(random.next(below: 9)),\(name)\n"
    }
    let input = try write(text, to: "t.csv", in: folder)
    for (threads, chunk, output) in [(1, 8 << 20, "1.sds"), (2, 512, "2.sds"), (2, 8 << 20, "3.sds")] {
      _ = try Importer.convert(
        input: input, output: folder + "/" + output,
        settings: IngestSettings(threads: threads, chunkBytes: chunk))
    }
    #expect(try contents(folder + "/1.sds") == contents(folder + "/2.sds"))
    #expect(try contents(folder + "/1.sds") == contents(folder + "/3.sds"))
    let data = try Dataset(path: folder + "/1.sds")
    let sorted = names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    #expect(data.classNames == sorted)
    #expect(data.classNames?.first == "A" && data.classNames?.count == 8, "é and e + U+0301 are two names")
    #expect((0..<data.rows.count).map { data.classNames![Int(data.rows.label($0))] } == expected)
  }

  @Test(
    "bad labels stop with the file and line",
    arguments: [
      (
        "a,b,s\n1,2,x\n3,4,7\n",
        "bad.csv:3: expected a class name in column 2 (s), found the number '7'; "
          + "the first row's label is a name, and a label column holds numbers or class names, not both"
      ),
      (
        "a,b,s\n1,2,0\n3,4,x\n",
        "bad.csv:3: expected a number as the label in column 2 (s), found 'x'; "
          + "the first row's label is a number, and a label column holds numbers or class names, not both"
      ),
      (
        "1,2,x\n3,4,\n",
        "bad.csv:2: expected a class name in column 2, found a missing value (an empty field)"
      ),
      ("1,2,x\n3,4,NA\n", "bad.csv:2: expected a class name in column 2, found a missing value ('NA')"),
      (
        "1,2,x\n3,4,a\u{0}b\n",
        "bad.csv:2: expected a class name in column 2, found 'a\\u{0}b', which holds a NUL byte"
      ),
      ("1,2,x\n3,y,x\n", "bad.csv:2: expected a number in column 1, found 'y'"),
      ("1,2,x\n3,4\n", "bad.csv:2: expected 3 fields (as in the first line), found 2"),
    ])
  func badLabels(text: String, message: String) throws {
    #expect(try failure(text, in: try temporaryFolder()) == message)
  }

  @Test("invalid UTF-8 in a name stops with the file and line")
  func invalidUTF8() throws {
    let folder = try temporaryFolder()
    let input = folder + "/bad.csv"
    try Data(Array("1,2,x\n3,4,".utf8) + [0xFF, 0xFE] + [0x0A]).write(to: URL(fileURLWithPath: input))
    #expect {
      try Importer.convert(input: input, output: folder + "/bad.sds")
    } throws: { error in
      "\(error)".hasPrefix("\(input):2: expected a class name in column 2, found ")
        && "\(error)".hasSuffix(", which is not valid UTF-8")
    }
  }

  @Test("--label-kind real or binary with name labels is refused; class is accepted")
  func labelKinds() throws {
    let folder = try temporaryFolder()
    for kind in [LabelKind.real, .binary] {
      #expect(
        try failure("a,b,s\n1,2,x\n", in: folder, options: CSVOptions(labelKind: kind))
          == "bad.csv:2: expected a number as the label in column 2 (s) for --label-kind \(kind), found the "
          + "class name 'x'; labels that are names are class labels (--label-kind class)")
    }
    let (summary, _) = try convert("a,b,s\n1,2,x\n", in: folder, options: CSVOptions(labelKind: .classIndex))
    #expect(summary.labelKind == .classIndex && summary.classNames == ["x"])
  }

  @Test("two names give class labels, not binary ones")
  func twoNames() throws {
    let (summary, data) = try convert("1,ham\n2,spam\n", in: try temporaryFolder())
    #expect(summary.labelKind == .classIndex && data.header.labelKind == .classIndex)
  }

  @Test("more than 65,535 distinct names stop at the line of the 65,536th, for any thread count")
  func tooManyNames() throws {
    let folder = try temporaryFolder()
    var text = "v,name\n"
    for index in 0...65_535 { text += "1,n\(index)\n" }
    text += "1,n0\n"
    let input = try write(text, to: "many.csv", in: folder)
    for threads in [1, 2] {
      #expect {
        try Importer.convert(
          input: input, output: folder + "/many.sds",
          settings: IngestSettings(threads: threads, chunkBytes: 4096))
      } throws: { error in
        "\(error)"
          == "\(input):65537: expected at most 65535 distinct class names in column 1 (name), found one more, 'n65535'"
      }
    }
    text = "v,name\n" + (0..<65_535).map { "1,n\($0)\n" }.joined()
    let (summary, _) = try convert(text, named: "most.csv", in: folder)
    #expect(summary.classNames?.count == 65_535)
  }

  @Test("the name table finds names by their bytes, past growth, and sorts them byte-wise")
  func nameTable() {
    var table = NameTable()
    let words = (0..<1000).map { "w\($0 * 7919 % 1000)" }
    for word in words {
      let (id, inserted) = Array(word.utf8).withUnsafeBytes { table.insert($0) }
      #expect(inserted && Int(id) == table.count - 1)
    }
    #expect(Array("w5".utf8).withUnsafeBytes { table.insert($0).inserted } == false)
    #expect(Array("w500".utf8).withUnsafeBytes { table.id(of: $0) }.map { table.name(Int($0)) } == "w500")
    #expect(Array("w1000".utf8).withUnsafeBytes { table.id(of: $0) } == nil)
    #expect(table.sorted().names == words.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
  }
}
