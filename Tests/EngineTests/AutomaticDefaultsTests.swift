import Foundation
import Learning
import Testing

@testable import Engine

/// The algorithm and the L2 strength a configuration leaves open, checked
/// against a cross-validation written here over the oracle's exact optima
/// (Newton in Double, `Oracles.swift`).
@Suite("Defaults: the algorithm and the penalty from the data", .serialized)
struct AutomaticDefaultsTests {
  /// Few rows for their features: the unpenalised optimum overfits, so the
  /// strength matters.
  static let rows = OracleRows(rows: 80, columns: 16, classes: nil, seed: 3)

  /// 1 down to 10⁻⁶ in half decades.
  static let grid = (0...12).map { pow(10, -0.5 * Double($0)) }

  /// The reference: for each strength, the oracle's optimum on four fifths
  /// of the rows (every fifth row from the fold's own left out), its mean
  /// log-loss on that fifth, averaged over the five folds.
  static func referenceScores() -> [Double] {
    let data = rows
    return grid.map { l2 in
      (0..<5).reduce(0.0) { total, fold in
        let training = data.labels.indices.filter { $0 % 5 != fold }
        let held = data.labels.indices.filter { $0 % 5 == fold }
        let solution = Oracle.solve(
          OracleProblem(
            features: training.map { data.dense[$0] }, labels: training.map { data.labels[$0] },
            loss: .logistic, l2: l2))
        let loss = held.reduce(0.0) { sum, row in
          let margin = zip(data.dense[row], solution.weights).reduce(solution.bias[0]) { $0 + $1.0 * $1.1[0] }
          return sum + log1p(exp(-data.labels[row] * margin))
        }
        return total + loss / Double(held.count) / 5
      }
    }
  }

  @Test("small data: L-BFGS to the optimum, with the L2 strength 5-fold cross-validation chooses")
  func smallData() throws {
    #expect(zip(Trainer.penaltyGrid, Self.grid).allSatisfy { abs(Double($0) - $1) <= 1e-6 * $1 })
    var setup = TrainingConfiguration()
    setup.problem.standardize = false
    setup.execution.threads = 2
    let result = try Trainer(setup).fit(Self.rows.block)
    #expect(result.algorithm.kind == .lbfgs && result.algorithm.reason.hasPrefix("small data"))
    #expect(result.l2.reason.hasPrefix("5-fold cross-validation"), "\(result.l2.reason)")
    let scores = Self.referenceScores()
    let best = scores.indices.min { scores[$0] < scores[$1] }!
    let chosen = try #require(Self.grid.firstIndex { abs(Double(result.l2.value) - $0) <= 1e-6 * $0 })
    // The reference's best, or a strength the reference scores as well to 1e-4.
    #expect(
      chosen == best || scores[chosen] <= scores[best] * (1 + 1e-4),
      "chose \(result.l2.value) (reference loss \(scores[chosen])), the reference \(Self.grid[best]) (\(scores[best]))"
    )
    #expect(
      best != 0 && best != Self.grid.count - 1, "a best strength at the grid's end tests little: \(scores)")
    // The run minimises the chosen objective to its optimum on every row.
    let problem = OracleProblem(
      features: Self.rows.dense, labels: Self.rows.labels, loss: .logistic, l2: Double(result.l2.value))
    let (gap, reached, optimum) = LBFGSTests.gap(result.model, problem)
    #expect(gap <= 1e-6, "\(reached) against the optimum \(optimum)")
  }

  @Test("large data: SGD and no penalty; hinge: SGD, which gets no search; what is given is kept")
  func otherData() throws {
    // 16,400 × 64 = 1,049,600 stored values, just past 2²⁰.
    let large = TestRows(rows: 16_400, columns: 64, classification: true)
    var setup = TrainingConfiguration()
    setup.stopping.epochs = 1
    setup.execution.threads = 2
    let big = try Trainer(setup).fit(large.block)
    #expect(big.algorithm.kind == .sgd && big.algorithm.reason.contains("1049600 stored values"))
    #expect(big.l2.value == 0 && big.l2.reason.hasPrefix("large data"), "\(big.l2.reason)")

    var hinge = setup
    hinge.problem.loss = .hinge
    let kinked = try Trainer(hinge).fit(Self.rows.block)
    #expect(kinked.algorithm.kind == .sgd && kinked.algorithm.reason.contains("hinge"))
    #expect(kinked.l2.value == 0 && kinked.l2.reason.hasPrefix("sgd: none unless given"))

    var given = setup
    given.optimizer.algorithm = .sgd
    given.problem.l2 = 0.01
    let kept = try Trainer(given).fit(Self.rows.block)
    #expect(kept.algorithm == (.sgd, "as requested") && kept.l2 == (0.01, "as requested"))
    var sync = setup
    sync.execution.strategy = .sync
    sync.optimizer.learningRate = 0.1
    #expect(try Trainer(sync).fit(Self.rows.block).algorithm.kind == .minibatch)
  }

  @Test(
    "a fold trains on the rows not held out but every fifth, and validates on those; held-out rows are neither"
  )
  func folds() throws {
    var setup = TrainingConfiguration()
    setup.stopping.holdoutFraction = 0.1
    let data = try TrainingSet(rows: Self.rows.block, test: nil, configuration: setup)
    let kept = (0..<80).filter { !setup.isHeldOut($0) }
    #expect(kept.count == 72 && data.allTraining.map(Int.init) == kept)
    let (training, validation) = Trainer.fold(2, of: 5, from: data.allTraining)
    #expect(validation.map(Int.init) == kept.indices.filter { $0 % 5 == 2 }.map { kept[$0] })
    #expect(training.map(Int.init) == kept.indices.filter { $0 % 5 != 2 }.map { kept[$0] })
  }
}
