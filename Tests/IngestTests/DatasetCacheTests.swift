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
}
