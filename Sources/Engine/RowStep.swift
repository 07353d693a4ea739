import CAtomics
import Dataset
import Kernels
import Learning
import Parallel

/// One model's memory as the row step reads and writes it: `columns ×
/// outputs` weights (feature-major), `outputs` intercepts, and under AdaGrad
/// the sums of squared gradients of both (weights' then intercepts').
///
/// Plain pointers into a ``ModelReplicas`` replica (or a caller's arrays),
/// valid for as long as that owner lives; who may write them at the same
/// time is the ``ModelSharing`` the step is run with.
struct ModelView {
  let weights: UnsafeMutableBufferPointer<Float>
  let intercepts: UnsafeMutablePointer<Float>
  /// Empty under the global step-size schedules.
  let sums: UnsafeMutableBufferPointer<Float>
}

/// Whether other workers write the model while a step runs: the one thing
/// that changes between a private replica and a Hogwild! one. The row step
/// is generic over it, so each compiles to its own loop with the choice
/// folded away.
protocol ModelSharing {
  /// `true`: sparse accesses and intercepts go through relaxed atomics.
  static var isShared: Bool { get }
}

/// Only this worker writes the model.
enum PrivateModel: ModelSharing {
  static var isShared: Bool { false }
}

/// Other workers write the model at the same time, without locks (Hogwild!).
/// Dense rows still use plain vector loads and stores, the documented race
/// of ``Kernels/Shared/racyStep(_:model:coefficient:)``.
enum SharedModel: ModelSharing {
  static var isShared: Bool { true }
}

/// The per-row step of every algorithm, written once: the K margins, the
/// derivative of the loss with respect to them, and what is done with it
/// (an SGD step, an AdaGrad step, or a gradient sum).
///
///     m = Wᵀx + b,   d = ρ · ∂ℓ(m, y)/∂m   (ρ: the row's weight)
///
/// For one output (``Learning/Single``) the loops over outputs fold away and
/// each branch is the single-output kernel (`Dense.dot`, `Sparse.axpy`, …).
struct RowStep<O: OutputObjective>: Sendable {
  let objective: O
  let fitIntercept: Bool
  /// `n / Σ ρ` over the training rows: an SGD step on one row is then an
  /// unbiased step on the weighted mean loss `Σ ρᵢ ℓᵢ / Σ ρᵢ` (1 for
  /// unweighted rows).
  let weightScale: Float
  /// Whether each step adds its row's loss, at the margins it computed, to
  /// the epoch's ``LossTally`` (the progressive training loss).
  let tracksLoss: Bool

  /// `m ← scale · ∂ℓ/∂m` at the margins `m`, and, when tracking, the row's
  /// weighted loss there added to `tally` (computed with the derivatives).
  @inline(__always)
  private func derivatives(
    _ m: UnsafeMutablePointer<Float>, label: Float, weight: Float, scale: Float, tally: inout LossTally
  ) {
    guard tracksLoss else { return objective.derivatives(m, label: label, scale: scale) }
    let loss = objective.lossAndDerivatives(m, label: label, scale: scale)
    tally.loss += Double(loss) * Double(weight)
    tally.weight += Double(weight)
  }

  /// K.
  @inline(__always)
  var outputs: Int { objective.outputs }

  /// `m ← Wᵀx + b` for `row`: K floats at `m`.
  @inline(__always)
  func margins<S: ModelSharing>(
    _: S.Type, _ row: Int, of rows: RowBlock, model: ModelView, into m: UnsafeMutablePointer<Float>
  ) {
    let outputs = self.outputs
    for k in 0..<outputs {
      m[k] = S.isShared ? catomics_load_relaxed(model.intercepts + k) : model.intercepts[k]
    }
    switch rows.layout {
    case .dense:
      let x = rows.denseRow(row)
      let w = UnsafeBufferPointer(model.weights)
      if outputs == 1 {
        m[0] += Dense.dot(x, w)
      } else {
        Outputs.addMargins(dense: x, model: w, outputs: outputs, into: m)
      }
    case .csr:
      let x = rows.sparseRow(row)
      switch (outputs == 1, S.isShared) {
      case (true, true): m[0] += Shared.sparseDot(indices: x.indices, values: x.values, model: model.weights)
      case (true, false):
        m[0] += Sparse.dot(indices: x.indices, values: x.values, model: UnsafeBufferPointer(model.weights))
      case (false, true):
        Outputs.sharedAddMargins(
          indices: x.indices, values: x.values, model: model.weights, outputs: outputs, into: m)
      case (false, false):
        Outputs.addMargins(
          indices: x.indices, values: x.values, model: UnsafeBufferPointer(model.weights), outputs: outputs,
          into: m)
      }
    }
  }

  /// `W ← W + x ⊗ c` for `row` (c: K coefficients at `c`), through `S`.
  @inline(__always)
  private func addOuter<S: ModelSharing>(
    _: S.Type, _ row: Int, of rows: RowBlock, _ c: UnsafeMutablePointer<Float>,
    into w: UnsafeMutableBufferPointer<Float>
  ) {
    let outputs = self.outputs
    switch rows.layout {
    case .dense:
      let x = rows.denseRow(row)
      if outputs == 1 {
        Dense.axpy(c[0], x, w)
      } else if S.isShared {
        Outputs.sharedAddOuter(dense: x, coefficients: c, outputs: outputs, model: w)
      } else {
        Outputs.addOuter(dense: x, coefficients: c, outputs: outputs, model: w)
      }
    case .csr:
      let x = rows.sparseRow(row)
      switch (outputs == 1, S.isShared) {
      case (true, true): Shared.sparseAxpy(c[0], indices: x.indices, values: x.values, model: w)
      case (true, false): Sparse.axpy(c[0], indices: x.indices, values: x.values, into: w)
      case (false, true):
        Outputs.sharedAddOuter(
          indices: x.indices, values: x.values, coefficients: c, outputs: outputs, model: w)
      case (false, false):
        Outputs.addOuter(indices: x.indices, values: x.values, coefficients: c, outputs: outputs, model: w)
      }
    }
  }

  /// One SGD step on `row`, `m` a scratch of K floats:
  ///
  ///     d ← ρ (n/Σρ) ∂ℓ(Wᵀx + b, y)/∂m
  ///     W ← W − η x ⊗ d,   b ← b − η d
  ///
  /// Penalties are not part of it: the replica strategies apply them at
  /// their meetings, once per update taken (see ``ReplicaTraining``).
  @inline(__always)
  func sgd<S: ModelSharing>(
    _ sharing: S.Type, _ row: Int, of rows: RowBlock, eta: Float, model: ModelView,
    scratch m: UnsafeMutablePointer<Float>, tally: inout LossTally
  ) {
    margins(sharing, row, of: rows, model: model, into: m)
    let (label, weight) = (rows.label(row), rows.weight(row))
    // m ← −η d
    derivatives(m, label: label, weight: weight, scale: -eta * weightScale * weight, tally: &tally)
    addOuter(sharing, row, of: rows, m, into: model.weights)
    guard fitIntercept else { return }
    for k in 0..<outputs {
      if S.isShared { catomics_add_relaxed(model.intercepts + k, m[k]) } else { model.intercepts[k] += m[k] }
    }
  }

  /// One SGD step on dense `row` for one output and a private model, the
  /// same step as ``sgd(_:_:of:eta:model:scratch:tally:)``, with the next
  /// row's margin computed while this row's derivative is:
  ///
  ///     m₊ = x₊·w + b                        (before this step: w, b)
  ///     c  = −η ρ (n/Σρ) ℓ′(m, y),  w ← w + c x,  b ← b + c
  ///     returns x₊·w_new + b_new = m₊ − b + (b + c) + c (x·x₊)
  ///
  /// The dot products of the next row do not wait for the exponential in
  /// ℓ′, so the CPU overlaps them; the correction `c (x·x₊)` makes the
  /// margin exact (up to rounding), not one step stale. `margin` is this
  /// row's margin when the previous step computed it; `next` the next row,
  /// if any; the result is its margin.
  @inline(__always)
  func sgdLookingAhead(
    _ row: Int, margin: Float?, next: Int?, of rows: RowBlock, eta: Float, model: ModelView,
    scratch m: UnsafeMutablePointer<Float>, tally: inout LossTally
  ) -> Float? {
    let w = UnsafeBufferPointer(model.weights)
    let x = rows.denseRow(row)
    m[0] = margin ?? (Dense.dot(x, w) + model.intercepts[0])
    var ahead: Float = 0
    var cross: Float = 0
    if let next {
      let following = rows.denseRow(next)
      ahead = Dense.dot(following, w)
      cross = Dense.dot(x, following)
    }
    let (label, weight) = (rows.label(row), rows.weight(row))
    derivatives(m, label: label, weight: weight, scale: -eta * weightScale * weight, tally: &tally)
    let c = m[0]
    Dense.axpy(c, x, model.weights)
    if fitIntercept { model.intercepts[0] += c }
    return next == nil ? nil : ahead + model.intercepts[0] + c * cross
  }

  /// One AdaGrad step on `row` (see ``Kernels/AdaptiveStep``), `m` a
  /// scratch of K floats: with `d` as in ``sgd(_:_:of:eta:model:scratch:)``,
  /// weight `(j, k)` steps by `η₀ / √(G + ε²)` along `dₖ xⱼ` plus its
  /// penalties, intercept `k` along `dₖ`, unpenalised.
  @inline(__always)
  func adagrad<S: ModelSharing>(
    _ sharing: S.Type, _ row: Int, of rows: RowBlock, step: AdaptiveStep, model: ModelView,
    scratch m: UnsafeMutablePointer<Float>, tally: inout LossTally
  ) {
    let outputs = self.outputs
    margins(sharing, row, of: rows, model: model, into: m)
    let (label, weight) = (rows.label(row), rows.weight(row))
    derivatives(m, label: label, weight: weight, scale: weightScale * weight, tally: &tally)
    let weightCount = model.weights.count
    let sums = UnsafeMutableBufferPointer(rebasing: model.sums[0..<weightCount])
    switch rows.layout {
    case .dense:
      let x = rows.denseRow(row)
      // Plain vector accesses also on a shared model: the documented race of Shared.racyStep
      // (for several outputs, partial groups lane by lane on a shared model).
      if outputs == 1 {
        step.step(derivative: m[0], dense: x, model: model.weights, sums: sums)
      } else if S.isShared {
        Outputs.sharedAdaptive(
          dense: x, derivatives: m, outputs: outputs, model: model.weights, sums: sums, step: step)
      } else {
        Outputs.adaptive(
          dense: x, derivatives: m, outputs: outputs, model: model.weights, sums: sums, step: step)
      }
    case .csr:
      let x = rows.sparseRow(row)
      switch (outputs == 1, S.isShared) {
      case (true, true):
        step.sharedStep(
          derivative: m[0], indices: x.indices, values: x.values, model: model.weights, sums: sums)
      case (true, false):
        step.step(derivative: m[0], indices: x.indices, values: x.values, model: model.weights, sums: sums)
      case (false, true):
        Outputs.sharedAdaptive(
          indices: x.indices, values: x.values, derivatives: m, outputs: outputs, model: model.weights,
          sums: sums, step: step)
      case (false, false):
        Outputs.adaptive(
          indices: x.indices, values: x.values, derivatives: m, outputs: outputs, model: model.weights,
          sums: sums, step: step)
      }
    }
    guard fitIntercept else { return }
    let unpenalised = AdaptiveStep(rate: step.rate, epsilon: step.epsilon)
    let interceptSums = model.sums.baseAddress! + weightCount
    for k in 0..<outputs {
      if S.isShared {
        unpenalised.sharedUpdate(model.intercepts + k, sum: interceptSums + k, gradient: m[k])
      } else {
        unpenalised.update(model.intercepts + k, sum: interceptSums + k, gradient: m[k])
      }
    }
  }

  /// Adds `row`'s weighted loss gradient to `gradient` (weights then
  /// intercepts, the model's shape) and returns the row's weight:
  ///
  ///     g_W ← g_W + x ⊗ ρ ∂ℓ/∂m,   g_b ← g_b + ρ ∂ℓ/∂m
  ///
  /// The margins come from `model`, read through `S`; `gradient` is private.
  @inline(__always)
  func accumulate<S: ModelSharing>(
    _ sharing: S.Type, _ row: Int, of rows: RowBlock, model: ModelView,
    into gradient: UnsafeMutableBufferPointer<Float>,
    scratch m: UnsafeMutablePointer<Float>, tally: inout LossTally
  ) -> Float {
    let (label, weight) = (rows.label(row), rows.weight(row))
    margins(sharing, row, of: rows, model: model, into: m)
    derivatives(m, label: label, weight: weight, scale: weight, tally: &tally)
    let weightCount = model.weights.count
    addOuter(
      PrivateModel.self, row, of: rows, m,
      into: UnsafeMutableBufferPointer(rebasing: gradient[0..<weightCount]))
    for k in 0..<outputs { gradient[weightCount + k] += m[k] }
    return weight
  }
}

/// The loss of the rows an epoch stepped on, at the margins their steps
/// computed: `Σ ρ ℓ` and `Σ ρ` (one per worker, added up in worker order).
struct LossTally: Sendable {
  var loss: Double = 0
  var weight: Double = 0
}

/// Each worker's ``LossTally`` of the epoch that just ran, written once per
/// worker at its end.
final class EpochTallies: Sendable {
  private let slots: Locked<[LossTally]>

  init(workers: Int) { slots = Locked(Array(repeating: LossTally(), count: workers)) }

  /// Worker `worker`'s tally of this epoch.
  func record(_ tally: LossTally, worker: Int) { slots.withLock { $0[worker] = tally } }

  /// The workers' tallies added up in worker order (the same sum for a
  /// given thread count), and cleared for the next epoch.
  func takeTotal() -> LossTally {
    slots.withLock { slots in
      var total = LossTally()
      for slot in slots {
        total.loss += slot.loss
        total.weight += slot.weight
      }
      slots = Array(repeating: LossTally(), count: slots.count)
      return total
    }
  }
}

/// The update of one coordinate from its mean gradient `ḡ` over an update's
/// rows: the one rule for a gradient step with penalties, used by `sync`
/// and by mini-batch on every strategy, so the penalty is applied once per
/// update whatever the batch size.
///
///     weights:    w ← w − η (ḡ + λ₂ w),  then  w ← sign(w) max(|w| − η λ₁, 0)
///     intercepts: b ← b − η ḡ   (never penalised)
///
/// Under AdaGrad the coordinate takes its own step along `ḡ` instead, the
/// penalties folded in (see ``Kernels/AdaptiveStep``).
struct GradientUpdate: Sendable {
  /// Coordinates below this are weights; the rest are intercepts.
  let weightCount: Int
  let fitIntercept: Bool
  let l1: Float
  let l2: Float
  let adaptive: AdaptiveStep?

  init(weightCount: Int, configuration: TrainingConfiguration) {
    self.weightCount = weightCount
    fitIntercept = configuration.problem.fitIntercept
    l1 = configuration.problem.l1
    l2 = configuration.problem.l2Strength
    adaptive = configuration.adaptiveStep
  }

  /// Applies the update to coordinate `j` of `model` (`parameters`: weights
  /// then intercepts; `sums`: AdaGrad's, same shape, or `nil`), through `S`.
  @inline(__always)
  func apply<S: ModelSharing>(
    _: S.Type, _ j: Int, mean: Float, eta: Float, parameters: UnsafeMutablePointer<Float>,
    sums: UnsafeMutablePointer<Float>?
  ) {
    let isWeight = j < weightCount
    guard isWeight || fitIntercept else { return }
    let slot = parameters + j
    if let adaptive, let sums {
      let step = isWeight ? adaptive : AdaptiveStep(rate: adaptive.rate, epsilon: adaptive.epsilon)
      if S.isShared {
        step.sharedUpdate(slot, sum: sums + j, gradient: mean)
      } else {
        step.update(slot, sum: sums + j, gradient: mean)
      }
      return
    }
    let old = S.isShared ? catomics_load_relaxed(slot) : slot.pointee
    var value: Float
    if isWeight {
      value = old - eta * (mean + l2 * old)
      if l1 > 0 { value = value > 0 ? max(0, value - eta * l1) : min(0, value + eta * l1) }
    } else {
      value = old - eta * mean
    }
    if S.isShared { catomics_store_relaxed(slot, value) } else { slot.pointee = value }
  }
}
