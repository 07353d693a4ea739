import Dataset
import Foundation
import Testing

@testable import Ingest

@Suite("Synthetic data")
struct SyntheticDataTests {
  @Test("the same seed gives the same bytes for any thread count; another seed differs")
  func deterministic() throws {
    let folder = try temporaryFolder()
    for kind in SyntheticKind.allCases {
      let spec = SyntheticSpec(kind: kind, rows: 20_000, features: 30, nonZerosPerRow: 10, seed: 9)
      var files: [Data] = []
      for (threads, seed) in [(1, 9), (3, 9), (2, 10)] as [(Int, UInt64)] {
        let path = folder + "/\(kind)-\(threads).sds"
        var seeded = spec
        seeded.seed = seed
        _ = try SyntheticData.write(
          seeded, into: try DatasetWriter(path: path, layout: layout(kind)), threads: threads)
        files.append(try contents(path))
      }
      #expect(files[0] == files[1], "\(kind): thread count changed the output")
      #expect(files[0] != files[2], "\(kind): the seed made no difference")
    }
  }

  func layout(_ kind: SyntheticKind) -> Layout { kind == .sparseClassification ? .csr : .dense }

  @Test("sparse rows have K sorted distinct indices, unit norm, ±1 labels, low indices most frequent")
  func sparseShape() throws {
    let path = try temporaryFolder() + "/s.sds"
    let spec = SyntheticSpec(
      kind: .sparseClassification, rows: 3000, features: 1000, nonZerosPerRow: 20, seed: 4)
    _ = try SyntheticData.write(spec, into: try DatasetWriter(path: path, layout: .csr))
    let data = try Dataset(path: path)
    try data.verify()
    var counts = [Int](repeating: 0, count: 1000)
    for row in 0..<data.rows.count {
      let sparse = data.rows.sparseRow(row)
      #expect(sparse.indices.count == 20)
      let norm = sparse.values.reduce(0) { $0 + $1 * $1 }
      #expect(abs(norm - 1) < 1e-4)
      #expect(data.rows.label(row) == 1 || data.rows.label(row) == -1)
      for index in sparse.indices { counts[Int(index)] += 1 }
    }
    #expect(counts[0..<100].reduce(0, +) > 3 * counts[900..<1000].reduce(0, +))
  }

  @Test("dense regression labels follow the true model up to the noise")
  func denseModel() throws {
    let path = try temporaryFolder() + "/r.sds"
    let spec = SyntheticSpec(kind: .denseRegression, rows: 2000, features: 8, seed: 2, noise: 0.1)
    _ = try SyntheticData.write(spec, into: try DatasetWriter(path: path, layout: .dense))
    let data = try Dataset(path: path)
    let model = SyntheticData.trueModel(spec)
    var squared: Float = 0
    for row in 0..<data.rows.count {
      let features = data.rows.denseRow(row)
      let predicted = zip(features, model).reduce(0) { $0 + $1.0 * $1.1 }
      squared += (predicted - data.rows.label(row)) * (predicted - data.rows.label(row))
    }
    let residual = (squared / Float(data.rows.count)).squareRoot()
    #expect(abs(residual - 0.1) < 0.02, "residual std \(residual)")
  }

  @Test("a test set with the training set's model seed follows the same model, with other rows")
  func heldOutDraw() throws {
    let folder = try temporaryFolder()
    let train = SyntheticSpec(kind: .denseRegression, rows: 500, features: 8, seed: 1, noise: 0.1)
    var test = train
    test.seed = 2
    test.modelSeed = 1
    #expect(SyntheticData.trueModel(test) == SyntheticData.trueModel(train))
    _ = try SyntheticData.write(train, into: try DatasetWriter(path: folder + "/train.sds", layout: .dense))
    _ = try SyntheticData.write(test, into: try DatasetWriter(path: folder + "/test.sds", layout: .dense))
    let a = try Dataset(path: folder + "/train.sds")
    let b = try Dataset(path: folder + "/test.sds")
    #expect(Array(a.rows.denseRow(0)) != Array(b.rows.denseRow(0)))
    let model = SyntheticData.trueModel(train)
    var squared: Float = 0
    for row in 0..<b.rows.count {
      let error = zip(b.rows.denseRow(row), model).reduce(0) { $0 + $1.0 * $1.1 } - b.rows.label(row)
      squared += error * error
    }
    #expect(abs((squared / Float(b.rows.count)).squareRoot() - 0.1) < 0.02)
  }
}
