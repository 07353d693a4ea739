import Dataset
import Foundation
import Testing

@testable import Ingest

/// Every stored value of `data`'s dense rows, row by row.
private func denseValues(_ data: Dataset) -> [[Float]] {
  (0..<data.rows.count).map { Array(data.rows.denseRow($0)) }
}

@Suite("Reading and writing data without labels")
struct UnlabelledIngestTests {
  let none = LabelKind.none

  @Test("CSV without labels: every column is a feature, for any thread count")
  func csv() throws {
    let folder = try temporaryFolder()
    let input = try write("a,b,label\n1,2.5,3\n-4,5,6e2\n\n7,8,9\n", to: "u.csv", in: folder)
    for threads in [1, 2] {
      let summary = try Importer.convert(
        input: input, output: folder + "/u\(threads).sds", csv: CSVOptions(labelKind: none),
        settings: IngestSettings(threads: threads, chunkBytes: 64))
      #expect(summary.rows == 3 && summary.columns == 3 && summary.labelKind == none)
    }
    let data = try Dataset(path: folder + "/u1.sds")
    #expect(!data.hasLabels && data.header[.labels].length == 0)
    // The values as the text has them, the column named label among them.
    #expect(denseValues(data) == [[1, 2.5, 3], [-4, 5, 600], [7, 8, 9]])
    #expect(try contents(folder + "/u1.sds") == contents(folder + "/u2.sds"))
  }

  @Test("CSV without labels: no header when the first line holds a number; one column is enough")
  func csvShapes() throws {
    let folder = try temporaryFolder()
    let numbers = try write("1,x\n2,3\n", to: "n.csv", in: folder)
    #expect {
      try Importer.convert(input: numbers, output: folder + "/n.sds", csv: CSVOptions(labelKind: none))
    } throws: { error in
      "\(error)" == "\(numbers):1: expected a number in column 1, found 'x'"
    }
    let single = try write("height\n1.5\n2\n", to: "s.csv", in: folder)
    _ = try Importer.convert(input: single, output: folder + "/s.sds", csv: CSVOptions(labelKind: none))
    #expect(denseValues(try Dataset(path: folder + "/s.sds")) == [[1.5], [2]])
    let semicolons = try write("1;2\n", to: "c.csv", in: folder)
    #expect {
      try Importer.convert(input: semicolons, output: folder + "/c.sds", csv: CSVOptions(labelKind: none))
    } throws: { error in
      "\(error)"
        == "\(semicolons):1: expected features separated by ',', found 1 field; the line holds ';', so try --delimiter ';'"
    }
    #expect {
      try Importer.convert(
        input: single, output: folder + "/l.sds", csv: CSVOptions(labelColumn: .index(0), labelKind: none))
    } throws: { error in
      "\(error)".hasPrefix("--label-column 0 names a label column, but --no-labels (label kind none)")
    }
  }

  @Test("LIBSVM without labels: lines start with their first index:value")
  func libsvm() throws {
    let folder = try temporaryFolder()
    let input = try write("# features only\n3:2 1:0.5\n2:1 qid:4\n", to: "u.svm", in: folder)
    let summary = try Importer.convert(
      input: input, output: folder + "/u.sds", libsvm: LIBSVMOptions(labelKind: none))
    #expect(summary.rows == 2 && summary.columns == 3 && summary.labelKind == none)
    let data = try Dataset(path: folder + "/u.sds")
    #expect(!data.hasLabels)
    #expect(
      Array(data.rows.sparseRow(0).indices) == [0, 2] && Array(data.rows.sparseRow(0).values) == [0.5, 2])
    #expect(Array(data.rows.sparseRow(1).indices) == [1] && Array(data.rows.sparseRow(1).values) == [1])
    let labelled = try write("1:1\n+1 2:1\n", to: "l.svm", in: folder)
    #expect {
      try Importer.convert(input: labelled, output: folder + "/l.sds", libsvm: LIBSVMOptions(labelKind: none))
    } throws: { error in
      "\(error)"
        == "\(labelled):2: expected index:value (--no-labels: a line has no label, only index:value pairs), found '+1'"
    }
  }

  @Test(".npy without labels reads as label kind none")
  func npyWithoutLabels() throws {
    let folder = try temporaryFolder()
    try npy([1.5, 2, 3, 4, 5, 6.25] as [Double], descr: "<f8", shape: "(3, 2)").write(
      to: URL(fileURLWithPath: folder + "/x.npy"))
    try npy([0, 1, 1] as [Float], descr: "<f4", shape: "(3,)").write(
      to: URL(fileURLWithPath: folder + "/y.npy"))
    let summary = try Importer.convert(input: folder + "/x.npy", output: folder + "/d.sds")
    #expect(summary.rows == 3 && summary.columns == 2 && summary.labelKind == none)
    let data = try Dataset(path: folder + "/d.sds")
    #expect(!data.hasLabels && denseValues(data) == [[1.5, 2], [3, 4], [5, 6.25]])
    #expect(throws: IngestError.self) {
      try Importer.convert(
        input: folder + "/x.npy", output: folder + "/e.sds", csv: CSVOptions(labelKind: none),
        npyLabels: folder + "/y.npy")
    }
    #expect {
      try Importer.convert(
        input: folder + "/x.npy", output: folder + "/e.sds", csv: CSVOptions(labelKind: .binary))
    } throws: { error in
      "\(error)".hasSuffix(
        "--label-kind binary needs labels, and a .npy file holds only features; "
          + "give the labels with --labels y.npy")
    }
    #expect(!FileManager.default.fileExists(atPath: folder + "/e.sds"))
  }

  @Test("without labels → CSV → without labels gives the same bytes; CSV has no label column")
  func csvRoundTrip() throws {
    let folder = try temporaryFolder()
    let input = try write("0.25,-1\n3,1e-3\n", to: "u.csv", in: folder)
    _ = try Importer.convert(input: input, output: folder + "/a.sds", csv: CSVOptions(labelKind: none))
    let back = try Importer.convert(input: folder + "/a.sds", output: folder + "/b.csv")
    #expect(back.labelKind == none)
    #expect(String(decoding: try contents(folder + "/b.csv"), as: UTF8.self) == "x0,x1\n0.25,-1\n3,0.001\n")
    _ = try Importer.convert(
      input: folder + "/b.csv", output: folder + "/c.sds", csv: CSVOptions(labelKind: none))
    #expect(try contents(folder + "/a.sds") == contents(folder + "/c.sds"))
  }

  @Test("without labels → LIBSVM: lines without labels, and a row of zeros is refused")
  func libsvmOutput() throws {
    let folder = try temporaryFolder()
    let input = try write("2:0.5 4:1\n1:-2\n", to: "u.svm", in: folder)
    _ = try Importer.convert(input: input, output: folder + "/a.sds", libsvm: LIBSVMOptions(labelKind: none))
    _ = try Importer.convert(input: folder + "/a.sds", output: folder + "/b.svm")
    #expect(String(decoding: try contents(folder + "/b.svm"), as: UTF8.self) == "2:0.5 4:1\n1:-2\n")
    let zeros = try write("1,2\n0,0\n", to: "z.csv", in: folder)
    _ = try Importer.convert(input: zeros, output: folder + "/z.sds", csv: CSVOptions(labelKind: none))
    #expect {
      try Importer.convert(input: folder + "/z.sds", output: folder + "/z.svm")
    } throws: { error in
      "\(error)"
        == "\(folder)/z.svm: row 2 has no value that is not 0, and without labels its LIBSVM line would be "
        + "blank, which reads as no row; write .csv or .sds instead"
    }
    #expect(!FileManager.default.fileExists(atPath: folder + "/z.svm"))
  }

  @Test("the cache converts again when only --no-labels changes")
  func cacheKey() throws {
    let folder = try temporaryFolder()
    let source = try write("1,2,3\n4,5,6\n", to: "t.csv", in: folder)
    let labelled = try DatasetCache.open(source: source)
    #expect(labelled.converted && labelled.dataset.hasLabels && labelled.dataset.header.columns == 2)
    let unlabelled = try DatasetCache.open(source: source, csv: CSVOptions(labelKind: none))
    #expect(unlabelled.converted && !unlabelled.dataset.hasLabels && unlabelled.dataset.header.columns == 3)
    let again = try DatasetCache.open(source: source, csv: CSVOptions(labelKind: none))
    #expect(!again.converted && !again.dataset.hasLabels)
    #expect(try DatasetCache.open(source: source).converted)
  }
}
