import Learning
import Parallel

/// L-BFGS on the synchronous path: every evaluation of the objective is one
/// pass of all workers over their rows (``SynchronousTraining/fullGradient``,
/// reduced in worker order and through the ``Reducer``), and the
/// quasi-Newton algebra runs on the calling thread between passes, in
/// Double. An epoch is one iteration: the two-loop direction, then a line
/// search for the strong Wolfe conditions, usually one pass and rarely more.
///
/// The objective is the configuration's, `Σ ρ ℓ / Σ ρ + λ₁ ‖W‖₁ + ½ λ₂ ‖W‖²`
/// (intercepts unpenalised). With L1 it is OWL-QN (Andrew and Gao, 2007):
/// the history is built from the smooth part's gradients, the direction
/// from the L1 objective's pseudo-gradient, kept within the orthant it
/// starts in, and a backtracking search projects each trial point back
/// onto that orthant, so weights reach exactly zero. The model's parameters
/// are Float, so every trial point is rounded to Float before it is
/// evaluated and the algebra sees exactly the point the workers saw.
final class LBFGSTraining<O: OutputObjective>: @unchecked Sendable {
  private let pass: SynchronousTraining<O>
  private let model: ModelReplicas
  private let tallies: EpochTallies
  private let l2: Double
  private let l1: Double
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

  /// `preconditioner`: the initial inverse Hessian's shape, one positive
  /// value per parameter (weights then intercepts; see ``LBFGSHistory``).
  init(pass: SynchronousTraining<O>, configuration: TrainingConfiguration, preconditioner: [Double]?) {
    self.pass = pass
    model = pass.model
    tallies = pass.tallies
    l2 = Double(configuration.problem.l2Strength)
    l1 = Double(configuration.problem.l1)
    history = LBFGSHistory(memory: configuration.optimizer.memory, diagonal: preconditioner)
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
      accepted = try l1 > 0 ? orthantStep(from: start, on: team) : step(from: start, on: team)
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
    let (before, after) = (objective(start), objective(accepted))
    if before - after <= 1e-9 * max(1, abs(before)) { finished = true }
  }

  /// The whole objective at an evaluated point: the smooth part plus L1.
  private func objective(_ point: Evaluated) -> Double {
    guard l1 > 0 else { return point.value }
    var norm = 0.0
    for j in 0..<model.weightCount { norm += abs(point.parameters[j]) }
    return point.value + l1 * norm
  }

  /// The L1 objective's pseudo-gradient: at a weight of zero, the one-sided
  /// derivative that descends, or zero when neither side does.
  private func pseudoGradient(_ point: Evaluated) -> [Double] {
    var pseudo = point.gradient
    for j in 0..<model.weightCount {
      let (w, g) = (point.parameters[j], point.gradient[j])
      if w > 0 {
        pseudo[j] = g + l1
      } else if w < 0 {
        pseudo[j] = g - l1
      } else if g + l1 < 0 {
        pseudo[j] = g + l1
      } else if g - l1 > 0 {
        pseudo[j] = g - l1
      } else {
        pseudo[j] = 0
      }
    }
    return pseudo
  }

  /// An OWL-QN step: the history's direction for the pseudo-gradient, with
  /// the coordinates that would not descend set to zero, and a backtracking
  /// search (Armijo, halving) over points projected onto the starting
  /// orthant. `nil` when no such step lowers the objective.
  private func orthantStep(from start: Evaluated, on team: WorkerTeam) throws -> Evaluated? {
    let weights = model.weightCount
    let pseudo = pseudoGradient(start)
    var direction = history.direction(gradient: pseudo)
    var slope = 0.0
    var length = 0.0
    for j in direction.indices {
      if direction[j] * pseudo[j] >= 0 { direction[j] = 0 }
      slope += direction[j] * pseudo[j]
      length += direction[j] * direction[j]
    }
    guard slope < 0, slope.isFinite else { return nil }
    // The orthant: a weight's sign, or for a zero weight the sign it would take.
    let orthant = (0..<weights).map { j -> Double in
      let w = start.parameters[j]
      return w != 0 ? (w > 0 ? 1 : -1) : (pseudo[j] < 0 ? 1 : pseudo[j] > 0 ? -1 : 0)
    }
    let before = objective(start)
    var alpha = history.count == 0 ? 1 / length.squareRoot() : 1
    for _ in 0..<30 {
      var trial = start.parameters
      for j in trial.indices { trial[j] += alpha * direction[j] }
      for j in 0..<weights where trial[j] * orthant[j] <= 0 { trial[j] = 0 }
      let evaluated = try evaluate(trial, on: team)
      var decrease = 0.0
      for j in trial.indices { decrease += pseudo[j] * (evaluated.parameters[j] - start.parameters[j]) }
      if objective(evaluated) <= before + 1e-4 * decrease { return evaluated }
      alpha /= 2
    }
    return nil
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
