import Dataset
import Foundation
import Ingest
import Learning
import Testing

@testable import Engine

/// The bundled datasets, converted once per test run into a scratch folder.
enum Bundled {
  static let folder: String = {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    return root.appendingPathComponent("data").path
  }()

  static func open(_ name: String) throws -> Dataset {
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("sounder-tests-\(getpid())")
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    let output = scratch.appendingPathComponent(name + ".sds").path
    if !FileManager.default.fileExists(atPath: output) {
      _ = try Importer.convert(input: folder + "/" + name + ".csv", output: output)
    }
    return try Dataset(path: output)
  }
}

/// Solves `A x = b` for a symmetric positive definite `A` (Cholesky).
func solveSPD(_ a: [[Double]], _ b: [Double]) -> [Double] {
  let n = b.count
  var l = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
  for i in 0..<n {
    for j in 0...i {
      var sum = a[i][j]
      for k in 0..<j { sum -= l[i][k] * l[j][k] }
      l[i][j] = i == j ? sum.squareRoot() : sum / l[j][j]
    }
  }
  var y = [Double](repeating: 0, count: n)
  for i in 0..<n { y[i] = (b[i] - (0..<i).reduce(0) { $0 + l[i][$1] * y[$1] }) / l[i][i] }
  var x = [Double](repeating: 0, count: n)
  for i in stride(from: n - 1, through: 0, by: -1) {
    x[i] = (y[i] - ((i + 1)..<n).reduce(0) { $0 + l[$1][i] * x[$1] }) / l[i][i]
  }
  return x
}

/// The rows of a dense block as `Double` vectors with a trailing 1 (intercept).
func augmentedRows(_ rows: RowBlock) -> [[Double]] {
  (0..<rows.count).map { row in rows.denseRow(row).map(Double.init) + [1] }
}

@Suite("Bundled data", .serialized)
struct BundledDataTests {
  /// Least squares in closed form: the MSE of the normal-equations solution.
  func leastSquaresMSE(_ rows: RowBlock) -> Double {
    let x = augmentedRows(rows)
    let d = x[0].count
    var gram = [[Double]](repeating: [Double](repeating: 0, count: d), count: d)
    var moment = [Double](repeating: 0, count: d)
    for (xi, row) in zip(x, 0..<rows.count) {
      let y = Double(rows.label(row))
      for i in 0..<d {
        moment[i] += xi[i] * y
        for j in 0..<d { gram[i][j] += xi[i] * xi[j] }
      }
    }
    let w = solveSPD(gram, moment)
    return zip(x, 0..<rows.count).reduce(0) { total, pair in
      let error = zip(pair.0, w).reduce(0) { $0 + $1.0 * $1.1 } - Double(rows.label(pair.1))
      return total + error * error
    } / Double(rows.count)
  }

  @Test("squared loss, sync gd on standardised diabetes data reaches the least-squares MSE within 0.1%")
  func syncGDMatchesLeastSquares() throws {
    let dataset = try Bundled.open("diabetes")
    let optimum = leastSquaresMSE(dataset.rows)
    var setup = TrainingConfiguration()
    setup.problem.loss = .squared
    setup.execution.strategy = .sync
    setup.optimizer.algorithm = .gd
    setup.problem.standardize = true
    setup.stopping.epochs = 3_000
    setup.optimizer.learningRate = 0.3
    setup.optimizer.schedule = .constant
    let result = try Trainer(setup).fit(try dataset.checkedRows())
    let mse = try #require(result.model.evaluate(try dataset.checkedRows()).mse)
    #expect(abs(mse - optimum) / optimum < 0.001, "MSE \(mse), least squares \(optimum)")
  }

  @Test("squared loss, hogwild sgd on standardised diabetes data is within 1% of least squares")
  func hogwildSGDNearLeastSquares() throws {
    let dataset = try Bundled.open("diabetes")
    let optimum = leastSquaresMSE(dataset.rows)
    var setup = TrainingConfiguration()
    setup.problem.loss = .squared
    setup.execution.strategy = .hogwild
    setup.optimizer.algorithm = .sgd
    setup.problem.standardize = true
    setup.stopping.epochs = 200
    setup.optimizer.learningRate = 0.02
    setup.optimizer.schedule = .inverseScaling
    setup.optimizer.power = 0.5
    let result = try Trainer(setup).fit(try dataset.checkedRows())
    let mse = try #require(result.model.evaluate(try dataset.checkedRows()).mse)
    #expect(abs(mse - optimum) / optimum < 0.01, "MSE \(mse), least squares \(optimum)")
  }

  @Test("logistic loss with L2 on breast-cancer data reaches Newton's optimum within 0.5%")
  func logisticMatchesNewton() throws {
    let dataset = try Bundled.open("breast-cancer")
    let rows = try dataset.checkedRows()
    let lambda = 1e-2
    // Newton's method in Double on standardised features: the exact optimum
    // of mean log-loss + ½ λ ‖w‖² (no penalty on the intercept).
    var setup = TrainingConfiguration()
    setup.problem.standardize = true
    let prepared = try TrainingSet(rows: rows, test: nil, configuration: setup)
    let x = augmentedRows(prepared.rows)
    let y = (0..<rows.count).map { Double(prepared.rows.label($0)) }
    let d = x[0].count
    let n = Double(x.count)
    func objective(_ w: [Double]) -> Double {
      let loss = zip(x, y).reduce(0) { total, pair in
        let m = zip(pair.0, w).reduce(0) { $0 + $1.0 * $1.1 }
        let z = -pair.1 * m
        return total + (z > 0 ? z + log1p(exp(-z)) : log1p(exp(z)))
      }
      return loss / n + 0.5 * lambda * w.dropLast().reduce(0) { $0 + $1 * $1 }
    }
    var w = [Double](repeating: 0, count: d)
    for _ in 0..<30 {
      var gradient = [Double](repeating: 0, count: d)
      var hessian = [[Double]](repeating: [Double](repeating: 0, count: d), count: d)
      for (xi, yi) in zip(x, y) {
        let m = zip(xi, w).reduce(0) { $0 + $1.0 * $1.1 }
        let p = 1 / (1 + exp(yi * m))
        for i in 0..<d {
          gradient[i] -= yi * p * xi[i] / n
          for j in 0..<d { hessian[i][j] += p * (1 - p) * xi[i] * xi[j] / n }
        }
      }
      for i in 0..<(d - 1) {
        gradient[i] += lambda * w[i]
        hessian[i][i] += lambda
      }
      let step = solveSPD(hessian, gradient)
      w = zip(w, step).map { $0 - $1 }
    }
    let optimum = objective(w)

    var training = TrainingConfiguration()
    training.problem.loss = .logistic
    training.execution.strategy = .sync
    training.optimizer.algorithm = .gd
    training.problem.standardize = true
    training.problem.l2 = Float(lambda)
    training.stopping.epochs = 3_000
    training.optimizer.learningRate = 1
    training.optimizer.schedule = .constant
    training.stopping.exactLoss = true  // the objective of the last epoch's model, against Newton's
    let result = try Trainer(training).fit(rows)
    let reached = try #require(result.history.last).trainingLoss
    #expect(abs(reached - optimum) / optimum < 0.005, "objective \(reached), Newton's optimum \(optimum)")
  }
}
