import Dataset
import Foundation
import Testing

@testable import Ingest

@Suite("Dataset cache beside the source")
struct DatasetCacheTests {
  @Test("converts once, reuses while unchanged, converts again when the source or options change")
  func reuse() throws {
    let folder = try temporaryFolder()
    let source = try write("+1 1:1\n-1 2:2\n", to: "t.svm", in: folder)
    let first = try DatasetCache.open(source: source)
    #expect(first.converted && first.dataset.header.rows == 2)
    let second = try DatasetCache.open(source: source)
    #expect(!second.converted)
    let zeroBased = try DatasetCache.open(source: source, libsvm: LIBSVMOptions(zeroBased: true))
    #expect(zeroBased.converted && zeroBased.dataset.header.columns == 3)
    _ = try write("+1 1:1\n-1 2:2\n+1 3:3\n", to: "t.svm", in: folder)
    let third = try DatasetCache.open(source: source, libsvm: LIBSVMOptions(zeroBased: true))
    #expect(third.converted && third.dataset.header.rows == 3)
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == [
        ".t.svm.sounder.key", ".t.svm.sounder.sds", "t.svm",
      ])
  }

  @Test("a damaged cache is rebuilt; a bad source fails and leaves no cache")
  func damaged() throws {
    let folder = try temporaryFolder()
    let source = try write("+1 1:1\n", to: "t.svm", in: folder)
    _ = try DatasetCache.open(source: source)
    try Data("junk".utf8).write(to: URL(fileURLWithPath: DatasetCache.cachePath(for: source)))
    #expect(try DatasetCache.open(source: source).converted)
    let bad = try write("+1 x\n", to: "b.svm", in: folder)
    #expect(throws: IngestError.self) { try DatasetCache.open(source: bad) }
    #expect(!FileManager.default.fileExists(atPath: DatasetCache.cachePath(for: bad)))
  }

  @Test("an edit past the first 64 KiB with the size and modification time restored is still seen")
  func editKeepingSizeAndTime() throws {
    let folder = try temporaryFolder()
    let source = folder + "/wide.csv"
    // Over 64 KiB of rows, then the last row's label, which the edit flips.
    var text = String(repeating: "1,2,3,0\n", count: 12_000)
    text += "4,5,6,1\n"
    try text.write(toFile: source, atomically: false, encoding: .utf8)
    let first = try DatasetCache.open(source: source)
    #expect(first.converted && first.dataset.rows.label(12_000) == 1)
    let attributes = try FileManager.default.attributesOfItem(atPath: source)
    let modified = try #require(attributes[.modificationDate] as? Date)
    // Same size, same bytes for the first 64 KiB, same modification time: what cp -p or rsync -t leave.
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: source))
    try handle.seek(toOffset: UInt64(text.utf8.count - 2))
    try handle.write(contentsOf: Data("0".utf8))
    try handle.close()
    try FileManager.default.setAttributes([.modificationDate: modified], ofItemAtPath: source)
    let second = try DatasetCache.open(source: source)
    #expect(second.converted, "the stale cache was used")
    #expect(second.dataset.rows.label(12_000) == 0)
  }
}
