import Learning
import Testing

@testable import Engine

/// L-BFGS against the oracle's Newton optimum (Double, `Oracles.swift`),
/// with the objective evaluated by the oracle on the model the engine
/// returns.
@Suite("L-BFGS", .serialized)
struct LBFGSTests {
  static func configuration(_ penalty: Penalty, loss: Loss = .logistic) -> TrainingConfiguration {
    var setup = TrainingConfiguration()
    setup.problem.loss = loss
    setup.optimizer.algorithm = .lbfgs
    setup.problem.l2 = penalty.l2
    setup.problem.l1 = penalty.l1
    setup.execution.threads = 2
    setup.stopping.epochs = 200
    return setup
  }

  static func gap(_ model: LinearModel, _ problem: OracleProblem) -> (
    gap: Double, reached: Double, optimum: Double
  ) {
    let optimum = Oracle.solve(problem).objective
    let outputs = model.outputs
    let weights = (0..<model.features).map { j in
      (0..<outputs).map { Double(model.weights[j * outputs + $0]) }
    }
    let reached = Oracle.objective(problem, weights: weights, bias: model.intercepts.map(Double.init))
    return ((reached - optimum) / abs(optimum), reached, optimum)
  }

  @Test(
    "binary and multiclass logistic, dense and sparse, with every penalty (OWL-QN for L1), reach the oracle's optimum within 1e-6",
    arguments: Shape.allCases, Penalty.allCases)
  func reachesNewtonOptimum(shape: Shape, penalty: Penalty) throws {
    let result = try Trainer(Self.configuration(penalty)).fit(shape.rows.block)
    let problem = ConvergenceMatrixTests.problem(shape, penalty, rowsPenalty: false)
    let (gap, reached, optimum) = Self.gap(result.model, problem)
    #expect(
      gap <= 1e-6,
      "\(shape.rawValue), \(penalty.rawValue): \(reached) against \(optimum) after \(result.history.count) iterations"
    )
    #expect(result.history.count < 200, "stopped by \(result.stopReason)")
    if penalty.l1 > 0 {
      // OWL-QN's weights are exactly zero where the oracle's are.
      let oracle = Oracle.solve(problem).weights.flatMap { $0 }
      let zeros = oracle.indices.filter { abs(oracle[$0]) < 1e-9 }
      #expect(!zeros.isEmpty, "an L1 optimum with no zero weight tests nothing")
      #expect(
        zeros.allSatisfy { result.model.weights[$0] == 0 },
        "\(shape.rawValue): weights \(zeros.filter { result.model.weights[$0] != 0 }) should be 0")
    }
  }

  @Test("least squares reaches the closed-form optimum within 1e-6")
  func leastSquares() throws {
    let rows = Shape.denseBinary.rows
    let result = try Trainer(Self.configuration(.l2, loss: .squared)).fit(rows.block)
    let problem = OracleProblem(
      features: rows.dense, labels: rows.labels, loss: .squared, l2: Double(Penalty.l2.l2))
    let (gap, reached, optimum) = Self.gap(result.model, problem)
    #expect(gap <= 1e-6, "\(reached) against \(optimum)")
  }

  @Test(
    "from a warm start of averaged SGD epochs, the same optimum within 1e-6",
    arguments: [Shape.denseBinary, .sparseThree])
  func warmStart(shape: Shape) throws {
    var setup = Self.configuration(.l2)
    setup.optimizer.warmStartEpochs = 2
    let result = try Trainer(setup).fit(shape.rows.block)
    let (gap, reached, optimum) = Self.gap(
      result.model, ConvergenceMatrixTests.problem(shape, .l2, rowsPenalty: false))
    #expect(gap <= 1e-6, "\(shape.rawValue): \(reached) against \(optimum)")
    #expect(result.warmStart?.epoch == 2)
    var sgd = setup
    sgd.optimizer.algorithm = .sgd
    #expect(
      throws: TrainingError.invalidConfiguration("warm-start epochs give L-BFGS its start; sgd has none")
    ) {
      try Trainer(sgd).fit(shape.rows.block)
    }
  }

  @Test("a bitwise-identical model from run to run for a given thread count")
  func reproducible() throws {
    let rows = Shape.sparseThree.rows.block
    let first = try Trainer(Self.configuration(.l2)).fit(rows).model
    let second = try Trainer(Self.configuration(.l2)).fit(rows).model
    #expect(first.weights == second.weights && first.intercepts == second.intercepts)
  }

  @Test("what L-BFGS cannot take is refused with a reason")
  func refusals() {
    var hinge = Self.configuration(.none, loss: .hinge)
    #expect(throws: TrainingError.self) { try hinge.validate() }
    hinge.problem.loss = .logistic
    hinge.optimizer.learningRate = 0.1
    #expect(throws: TrainingError.self) { try hinge.validate() }
    hinge.optimizer.learningRate = nil
    hinge.execution.strategy = .hogwild
    #expect(throws: TrainingError.self) { try hinge.validate() }
    hinge.execution.strategy = .auto
    hinge.optimizer.memory = 0
    #expect(throws: TrainingError.self) { try hinge.validate() }
  }
}

/// The two-loop recursion and the line search on their own, against an
/// exactly known minimum.
@Suite struct LBFGSHistoryTests {
  @Test("minimises the Rosenbrock function to its minimum (1, 1)")
  func rosenbrock() {
    func f(_ x: [Double]) -> (Double, [Double]) {
      let (a, b) = (x[0], x[1])
      let value = (1 - a) * (1 - a) + 100 * (b - a * a) * (b - a * a)
      return (value, [-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a)])
    }
    var history = LBFGSHistory(memory: 5)
    var x = [-1.2, 1.0]
    var (value, gradient) = f(x)
    for _ in 0..<200 where value > 1e-18 {
      let d = history.direction(gradient: gradient)
      let slope = d[0] * gradient[0] + d[1] * gradient[1]
      guard slope < 0 else {
        history.reset()
        continue
      }
      let start = x
      var kept: [Double: (Double, [Double])] = [:]
      guard
        let point = WolfeLineSearch().search(
          from: .init(alpha: 0, value: value, slope: slope), initial: history.count == 0 ? 0.01 : 1,
          evaluate: { alpha in
            let trial = [start[0] + alpha * d[0], start[1] + alpha * d[1]]
            let (v, g) = f(trial)
            kept[alpha] = (v, g)
            return .init(alpha: alpha, value: v, slope: g[0] * d[0] + g[1] * d[1])
          })
      else { break }
      let (newValue, newGradient) = kept[point.alpha]!
      x = [start[0] + point.alpha * d[0], start[1] + point.alpha * d[1]]
      history.add(
        step: [x[0] - start[0], x[1] - start[1]],
        change: [newGradient[0] - gradient[0], newGradient[1] - gradient[1]])
      (value, gradient) = (newValue, newGradient)
    }
    #expect(abs(x[0] - 1) < 1e-6 && abs(x[1] - 1) < 1e-6, "ended at \(x), f = \(value)")
  }

  @Test("keeps at most `memory` pairs and refuses a pair without positive curvature")
  func memory() {
    var history = LBFGSHistory(memory: 2)
    let kept = [
      history.add(step: [1, 0], change: [2, 0]), history.add(step: [0, 1], change: [0, 3]),
      history.add(step: [1, 1], change: [1, 1]), history.add(step: [1, 0], change: [-1, 0]),
    ]
    #expect(kept == [true, true, true, false])
    #expect(history.count == 2)
    // With the pairs of a diagonal quadratic diag(2, 3), the direction is −H⁻¹g exactly.
    var exact = LBFGSHistory(memory: 2)
    exact.add(step: [1, 0], change: [2, 0])
    exact.add(step: [0, 1], change: [0, 3])
    let d = exact.direction(gradient: [4, 9])
    #expect(abs(d[0] + 2) < 1e-12 && abs(d[1] + 3) < 1e-12, "\(d)")
  }
}
