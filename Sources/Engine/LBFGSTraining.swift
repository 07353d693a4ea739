import Learning
import Parallel

/// L-BFGS on the synchronous path: every evaluation of the objective is one
/// pass of all workers over their rows (``SynchronousTraining/fullGradient``,
/// reduced in worker order and through the ``Reducer``), and the
/// quasi-Newton algebra runs on the calling thread between passes, in
/// Double. An epoch is one iteration: the two-loop direction, then a line
/// search for the strong Wolfe conditions, usually one pass and rarely more.
///
/// The objective is the configuration's, `Σ ρ ℓ / Σ ρ + ½ λ₂ ‖W‖²`
/// (intercepts unpenalised). The model's parameters are Float, so every
/// trial point is rounded to Float before it is evaluated and the algebra
/// sees exactly the point the workers saw.
final class LBFGSTraining<O: OutputObjective>: @unchecked Sendable {
  private let pass: SynchronousTraining<O>
  private let model: ModelReplicas
  private let tallies: EpochTallies
  private let l2: Double
  private var history: LBFGSHistory
  private let search = WolfeLineSearch()
  /// The current iterate, its objective and gradient, and its loss tally.
  private var current: Evaluated?
  /// Set when no step decreases the objective any more.
  private(set) var finished = false

  private struct Evaluated {
    var parameters: [Double]
    var value: Double
    var gradient: [Double]
    var tally: LossTally
  }

  init(pass: SynchronousTraining<O>, configuration: TrainingConfiguration) {
    self.pass = pass
    model = pass.model
    tallies = pass.tallies
    l2 = Double(configuration.problem.l2)
    history = LBFGSHistory(memory: configuration.optimizer.memory)
  }

  /// One iteration on `team`; leaves the model at the accepted point and
  /// that point's loss in the tallies (the epoch's training loss, exact).
  func iterate(on team: WorkerTeam) throws {
    guard !finished else { return }
    let start = try current ?? evaluate(Array(model.parameters(0)).map(Double.init), on: team)
    var accepted: Evaluated? = nil
    // With a history whose direction fails, forget it and try the steepest descent once.
    for attempt in 0..<2 where accepted == nil {
      if attempt == 1 {
        guard history.count > 0 else { break }
        history.reset()
      }
      accepted = try step(from: start, on: team)
    }
    guard let accepted else {
      finished = true
      write(start.parameters)
      record(start.tally)
      return
    }
    var s = accepted.parameters
    var y = accepted.gradient
    for j in s.indices {
      s[j] -= start.parameters[j]
      y[j] -= start.gradient[j]
    }
    history.add(step: s, change: y)
    current = accepted
    write(accepted.parameters)
    record(accepted.tally)
    // Float parameters and gradients end the descent near a relative
    // decrease of 10⁻⁹: past it line searches fail, each at the cost of
    // many passes.
    if start.value - accepted.value <= 1e-9 * max(1, abs(start.value)) { finished = true }
  }

  /// A line search along the history's direction from `start`; `nil` when
  /// no step of sufficient decrease exists (or the direction is not one of
  /// descent even as the steepest).
  private func step(from start: Evaluated, on team: WorkerTeam) throws -> Evaluated? {
    let direction = history.direction(gradient: start.gradient)
    var slope = 0.0
    var length = 0.0
    for j in direction.indices {
      slope += direction[j] * start.gradient[j]
      length += direction[j] * direction[j]
    }
    guard slope < 0, slope.isFinite else { return nil }
    // The first iteration has no curvature yet: a step of unit length.
    let initial = history.count == 0 ? 1 / length.squareRoot() : 1
    var tried: [Double: Evaluated] = [:]
    let point = try search.search(
      from: .init(alpha: 0, value: start.value, slope: slope), initial: initial
    ) { alpha in
      var trial = start.parameters
      for j in trial.indices { trial[j] += alpha * direction[j] }
      let evaluated = try evaluate(trial, on: team)
      tried[alpha] = evaluated
      var slope = 0.0
      for j in direction.indices { slope += direction[j] * evaluated.gradient[j] }
      return .init(alpha: alpha, value: evaluated.value, slope: slope)
    }
    guard let point, point.value < start.value else { return nil }
    return tried[point.alpha]
  }

  /// The objective and its gradient at `parameters` (rounded to Float, as
  /// the model holds them): one pass of every worker.
  private func evaluate(_ parameters: [Double], on team: WorkerTeam) throws -> Evaluated {
    let rounded = parameters.map { Double(Float($0)) }
    write(rounded)
    _ = tallies.takeTotal()
    try team.run { context in try self.pass.fullGradient(context) }
    // This process's loss; the objective needs every process's.
    let tally = tallies.takeTotal()
    let global = try pass.reducer.allReduce(tally)
    let count = model.parameterCount
    let combined = pass.combined.floats
    let weight = Double(combined[count])
    var gradient = (0..<count).map { weight > 0 ? Double(combined[$0]) / weight : 0 }
    var squares = 0.0
    for j in 0..<model.weightCount {
      squares += rounded[j] * rounded[j]
      gradient[j] += l2 * rounded[j]
    }
    let value = (global.weight > 0 ? global.loss / global.weight : 0) + 0.5 * l2 * squares
    return Evaluated(parameters: rounded, value: value, gradient: gradient, tally: tally)
  }

  private func write(_ parameters: [Double]) {
    let target = model.parameters(0)
    for j in parameters.indices { target[j] = Float(parameters[j]) }
  }

  /// Leaves `tally` as the epoch's progressive loss (worker 0's slot).
  private func record(_ tally: LossTally) {
    _ = tallies.takeTotal()
    tallies.record(tally, worker: 0)
  }
}
