import Foundation

// Reference solvers ("oracles") in Double precision, independent of the engine,
// so that tests can check that every training strategy reaches the true optimum.

/// The loss of a reference problem, as a function of a row's margins m and label y.
enum OracleLoss: Equatable, Sendable {
  /// ½(m − y)², y real.
  case squared
  /// log(1 + e^(−y m)), y ∈ {−1, +1}.
  case logistic
  /// scikit-learn's modified Huber, y ∈ {−1, +1}: max(0, 1 − y m)² where y m ≥ −1, else −4 y m.
  case modifiedHuber
  /// −m_y + log Σₖ e^(mₖ) over K margins, y ∈ {0, …, K − 1} (the class index, as a Double).
  case softmax(classes: Int)
  /// Σₖ log(1 + e^(−yₖ mₖ)) over K margins, yₖ = +1 if y == k else −1, y ∈ {0, …, K − 1}.
  case oneVsRest(classes: Int)
}

/// A linear model's training problem: rows, labels, optional row weights, loss and penalties.
struct OracleProblem: Sendable {
  /// n rows × d columns, dense (a sparse test passes its densified rows).
  var features: [[Double]]
  /// One label per row, in the loss's convention.
  var labels: [Double]
  /// One weight per row; nil: every row weighs 1.
  var rowWeights: [Double]? = nil
  /// The loss.
  var loss: OracleLoss
  /// λ₁, the L1 penalty on the weights.
  var l1: Double = 0
  /// λ₂, the L2 penalty on the weights.
  var l2: Double = 0
  /// Whether each output has a free, unpenalised intercept (else the intercepts are 0).
  var fitIntercept: Bool = true
  /// Per feature, a factor on λ₁ and λ₂ for that feature's weights (nil: 1 each). A
  /// trainer that penalises a feature only on the rows that hold it (AdaGrad on sparse
  /// rows) minimises the objective with each feature's factor its share of rows.
  var penaltyScale: [Double]? = nil

  /// The margins per row: 1 for squared, logistic and modified Huber, K for softmax and one-vs-rest.
  var outputs: Int {
    switch loss {
    case .squared, .logistic, .modifiedHuber: 1
    case .softmax(let classes), .oneVsRest(let classes): classes
    }
  }
}

/// A model and its objective.
struct OracleSolution: Sendable {
  /// d × outputs: weights[j][k] is feature j's weight for output k.
  var weights: [[Double]]
  /// One intercept per output (all 0 when the problem fits none).
  var bias: [Double]
  /// `Oracle.objective` at this model.
  var objective: Double
}

/// The objective of a reference problem and its minimiser.
enum Oracle {
  /// F(W, b) = (Σᵢ wᵢ ℓ(mᵢ, yᵢ)) / (Σᵢ wᵢ) + λ₁ Σ|W| + ½ λ₂ Σ W², with mᵢ = Wᵀ xᵢ + b
  /// (K margins per row); the intercepts are never penalised.
  static func objective(_ problem: OracleProblem, weights: [[Double]], bias: [Double]) -> Double {
    let flat = FlatProblem(problem)
    precondition(weights.count == flat.features && weights.allSatisfy { $0.count == flat.outputs })
    precondition(bias.count == flat.outputs)
    return flat.objective(weights.flatMap { $0 } + bias)
  }

  /// The minimiser of `objective`.
  ///
  /// - Squared loss without L1: ridge least squares in closed form, the normal equations
  ///   (X̃ᵀ D X̃ + λ₂ P) θ = X̃ᵀ D y (D the normalised row weights, X̃ the features with a column
  ///   of ones when fitting intercepts, P the identity on the weights and 0 on the intercepts),
  ///   solved by Cholesky; they must be positive definite (λ₂ > 0 or X̃ of full column rank).
  /// - Every other case: Newton's method (proximal Newton when λ₁ > 0) with a backtracking line
  ///   search on weights and intercepts together, until the proximal-gradient mapping's max-norm
  ///   is below 1e-12 or the objective stops decreasing. It converges quadratically where the
  ///   objective is strongly convex (λ₂ > 0, or a non-separable full-rank design), giving the
  ///   objective to ~1e-15 relative and the parameters to ~1e-12; modified Huber, once
  ///   differentiable, uses its generalised Hessian (2 where −1 ≤ y m < 1, else 0).
  /// - Without strong convexity the objective is still minimised to the same tolerance where a
  ///   minimum exists, but the minimiser may not be unique; logistic, modified Huber or
  ///   one-vs-rest on separable data without a penalty has no minimum.
  /// - Softmax is unchanged by adding one constant to every class's margin, so its fitted
  ///   intercepts are returned centred (Σₖ bₖ = 0), and with λ₁ = λ₂ = 0 so is each feature's
  ///   row of weights (Σₖ W[j][k] = 0).
  static func solve(_ problem: OracleProblem) -> OracleSolution {
    let flat = FlatProblem(problem)
    var theta = problem.loss == .squared && problem.l1 == 0 ? flat.ridge() : flat.newton()
    let (features, outputs) = (flat.features, flat.outputs)
    if case .softmax = problem.loss {
      if problem.fitIntercept { centre(&theta, row: features, outputs: outputs) }
      if problem.l1 == 0 && problem.l2 == 0 {
        for j in 0..<features { centre(&theta, row: j, outputs: outputs) }
      }
    }
    return OracleSolution(
      weights: (0..<features).map { j in Array(theta[j * outputs..<(j + 1) * outputs]) },
      bias: Array(theta[(features * outputs)...]), objective: flat.objective(theta))
  }

  /// Subtracts the mean from the `row`-th run of `outputs` entries of θ.
  private static func centre(_ theta: inout [Double], row: Int, outputs: Int) {
    let run = row * outputs..<(row + 1) * outputs
    let mean = theta[run].reduce(0, +) / Double(outputs)
    for i in run { theta[i] -= mean }
  }
}

extension OracleLoss {
  /// ℓ(m, y) for one row's margins m, with its gradient ∂ℓ/∂m and its Hessian ∂²ℓ/∂m²
  /// (K × K, row-major; for modified Huber the generalised second derivative).
  fileprivate func evaluate(_ margins: ArraySlice<Double>, _ y: Double)
    -> (value: Double, gradient: [Double], hessian: [Double])
  {
    let m = Array(margins)
    switch self {
    case .squared:
      // ℓ = ½(m − y)², ℓ′ = m − y, ℓ″ = 1.
      return (0.5 * (m[0] - y) * (m[0] - y), [m[0] - y], [1])
    case .logistic:
      // z = y m: ℓ = log(1 + e^(−z)), ℓ′ = −y σ(−z), ℓ″ = σ(z) σ(−z).
      let z = y * m[0]
      return (softplus(-z), [-y * sigmoid(-z)], [sigmoid(z) * sigmoid(-z)])
    case .modifiedHuber:
      // z = y m: ℓ = (1 − z)², ℓ′ = −2y(1 − z), ℓ″ = 2 for −1 ≤ z < 1;
      // ℓ = −4z, ℓ′ = −4y, ℓ″ = 0 for z < −1; and 0 for z ≥ 1.
      let z = y * m[0]
      if z >= 1 { return (0, [0], [0]) }
      if z >= -1 { return ((1 - z) * (1 - z), [-2 * y * (1 - z)], [2]) }
      return (-4 * z, [-4 * y], [0])
    case .softmax(let classes):
      // pₖ = e^(mₖ − L), L = log Σₖ e^(mₖ) (shifted by max m): ℓ = L − m_y,
      // ∂ℓ/∂mₖ = pₖ − [k = y], ∂²ℓ/∂mₖ∂mₗ = pₖ [k = l] − pₖ pₗ.
      let c = Self.classIndex(y, classes)
      let top = m.max()!
      let logSum = top + log(m.reduce(0) { $0 + exp($1 - top) })
      let p = m.map { exp($0 - logSum) }
      var hessian = [Double](repeating: 0, count: classes * classes)
      for k in 0..<classes {
        for l in 0..<classes { hessian[k * classes + l] = (k == l ? p[k] : 0) - p[k] * p[l] }
      }
      return (logSum - m[c], (0..<classes).map { p[$0] - ($0 == c ? 1 : 0) }, hessian)
    case .oneVsRest(let classes):
      // K independent logistic losses with yₖ = ±1; the Hessian is diagonal.
      let c = Self.classIndex(y, classes)
      var (value, gradient) = (0.0, [Double](repeating: 0, count: classes))
      var hessian = [Double](repeating: 0, count: classes * classes)
      for k in 0..<classes {
        let yk: Double = k == c ? 1 : -1
        let z = yk * m[k]
        value += softplus(-z)
        gradient[k] = -yk * sigmoid(-z)
        hessian[k * classes + k] = sigmoid(z) * sigmoid(-z)
      }
      return (value, gradient, hessian)
    }
  }

  /// The class a label names, checked to be in 0..<classes.
  private static func classIndex(_ y: Double, _ classes: Int) -> Int {
    precondition(y == y.rounded() && y >= 0 && y < Double(classes), "class label \(y) not in 0..<\(classes)")
    return Int(y)
  }
}

/// log(1 + eᵗ) = max(t, 0) + log1p(e^(−|t|)), without overflow.
private func softplus(_ t: Double) -> Double { max(t, 0) + log1p(exp(-abs(t))) }

/// σ(t) = 1 / (1 + e^(−t)), without overflow.
private func sigmoid(_ t: Double) -> Double {
  t >= 0 ? 1 / (1 + exp(-t)) : exp(t) / (1 + exp(t))
}

/// S(z, τ) = sign(z) max(|z| − τ, 0), the proximal map of τ|·|.
private func softThreshold(_ z: Double, _ threshold: Double) -> Double {
  z > threshold ? z - threshold : z < -threshold ? z + threshold : 0
}

/// −1, 0 or +1 as x is negative, zero or positive.
private func sign(_ x: Double) -> Int { x > 0 ? 1 : x < 0 ? -1 : 0 }

/// A problem in the solvers' flat form. The parameters θ hold (d + 1) × K entries, row-major:
/// row j < d is feature j's K weights, row d the K intercepts (held at 0 when not fitted).
/// The solvers move the first `unknowns` = `columns` × K of them, `columns` being d + 1 when
/// fitting intercepts and d otherwise; the first `penalised` = d × K are the weights.
private struct FlatProblem {
  let problem: OracleProblem
  let rows: Int
  let features: Int
  let outputs: Int
  let columns: Int
  /// X̃: n × (d + 1), the features with a last column of ones.
  let design: [Double]
  /// wᵢ / Σᵢ wᵢ.
  let scale: [Double]

  init(_ problem: OracleProblem) {
    self.problem = problem
    let (n, d) = (problem.features.count, problem.features.first?.count ?? 0)
    precondition(n > 0 && problem.labels.count == n && problem.features.allSatisfy { $0.count == d })
    (rows, features, outputs) = (n, d, problem.outputs)
    columns = d + (problem.fitIntercept ? 1 : 0)
    precondition(outputs >= 1 && problem.l1 >= 0 && problem.l2 >= 0)
    if problem.loss == .logistic || problem.loss == .modifiedHuber {
      precondition(problem.labels.allSatisfy { $0 == 1 || $0 == -1 }, "binary labels must be −1 or +1")
    }
    design = problem.features.flatMap { $0 + [1] }
    let weights = problem.rowWeights ?? Array(repeating: 1, count: n)
    precondition(weights.count == n && weights.allSatisfy { $0 >= 0 })
    let total = weights.reduce(0, +)
    precondition(total > 0)
    scale = weights.map { $0 / total }
  }

  /// λ₁ and λ₂ of each penalised unknown (feature j's weights: times penaltyScale[j]).
  var l1s: [Double] { (0..<penalised).map { problem.l1 * (problem.penaltyScale?[$0 / outputs] ?? 1) } }
  var l2s: [Double] { (0..<penalised).map { problem.l2 * (problem.penaltyScale?[$0 / outputs] ?? 1) } }

  var unknowns: Int { columns * outputs }
  var penalised: Int { features * outputs }

  /// The margins, n × K: mᵢₖ = Σⱼ X̃ᵢⱼ θⱼₖ over all d + 1 columns.
  func margins(_ theta: [Double]) -> [Double] {
    let width = features + 1
    var m = [Double](repeating: 0, count: rows * outputs)
    for i in 0..<rows {
      for j in 0..<width where design[i * width + j] != 0 {
        for k in 0..<outputs { m[i * outputs + k] += design[i * width + j] * theta[j * outputs + k] }
      }
    }
    return m
  }

  /// ℓ, ∂ℓ/∂m and ∂²ℓ/∂m² of row i at margins m (n × K).
  func row(_ i: Int, _ m: [Double]) -> (value: Double, gradient: [Double], hessian: [Double]) {
    problem.loss.evaluate(m[i * outputs..<(i + 1) * outputs], problem.labels[i])
  }

  /// F(θ) = Σᵢ (wᵢ / Σw) ℓ(mᵢ, yᵢ) + λ₁ Σ|W| + ½ λ₂ Σ W².
  func objective(_ theta: [Double]) -> Double {
    let m = margins(theta)
    let loss = (0..<rows).reduce(0) { $0 + scale[$1] * row($1, m).value }
    let (l1s, l2s) = (self.l1s, self.l2s)
    var penalty = 0.0
    for i in 0..<penalised {
      let w: Double = theta[i]
      penalty += l1s[i] * abs(w) + 0.5 * l2s[i] * w * w
    }
    return loss + penalty
  }

  /// ∇f for the smooth part f = F − λ₁ Σ|W|, over the `unknowns`:
  /// ∂f/∂θⱼₖ = Σᵢ (wᵢ / Σw) X̃ᵢⱼ ∂ℓ/∂mᵢₖ + λ₂ θⱼₖ [j < d].
  func gradient(_ theta: [Double]) -> [Double] {
    let (m, width) = (margins(theta), features + 1)
    var g = [Double](repeating: 0, count: unknowns)
    for i in 0..<rows {
      let gi = row(i, m).gradient
      for j in 0..<columns {
        let x = scale[i] * design[i * width + j]
        for k in 0..<outputs { g[j * outputs + k] += x * gi[k] }
      }
    }
    let l2s = self.l2s
    for i in 0..<penalised { g[i] += l2s[i] * theta[i] }
    return g
  }

  /// ∇²f, `unknowns` × `unknowns` row-major:
  /// ∂²f/∂θⱼₖ∂θⱼ′ₗ = Σᵢ (wᵢ / Σw) X̃ᵢⱼ X̃ᵢⱼ′ ∂²ℓ/∂mᵢₖ∂mᵢₗ + λ₂ [j = j′ < d, k = l].
  func hessian(_ theta: [Double]) -> [Double] {
    let (m, width, p, q) = (margins(theta), features + 1, unknowns, outputs)
    var hessian = [Double](repeating: 0, count: p * p)
    for i in 0..<rows {
      let h = row(i, m).hessian
      if h.allSatisfy({ $0 == 0 }) { continue }  // modified Huber's flat pieces
      for j in 0..<columns where design[i * width + j] != 0 {
        let x = scale[i] * design[i * width + j]
        // Blocks (j, j′ ≥ j) only; the lower blocks are mirrored below.
        for jj in j..<columns {
          let xx = x * design[i * width + jj]
          for k in 0..<q {
            for l in 0..<q where h[k * q + l] != 0 {
              hessian[(j * q + k) * p + jj * q + l] += xx * h[k * q + l]
            }
          }
        }
      }
    }
    for r in 0..<p {
      for c in 0..<(r / q) * q { hessian[r * p + c] = hessian[c * p + r] }
    }
    let l2s = self.l2s
    for i in 0..<penalised { hessian[i * p + i] += l2s[i] }
    return hessian
  }

  /// θ from its `unknowns` (the rest, the intercepts when not fitted, 0).
  func parameters(_ free: [Double]) -> [Double] {
    free + Array(repeating: 0, count: (features + 1) * outputs - unknowns)
  }

  /// Ridge least squares in closed form. The squared loss's f is quadratic with constant
  /// Hessian H = X̃ᵀ D X̃ + λ₂ P and ∇f(0) = −X̃ᵀ D y, so the normal equations read H θ = −∇f(0).
  func ridge() -> [Double] {
    let zero = parameters(Array(repeating: 0, count: unknowns))
    guard let theta = choleskySolve(hessian(zero), gradient(zero).map { -$0 }) else {
      preconditionFailure("singular normal equations: the ridge problem needs λ₂ > 0 or full-rank features")
    }
    return parameters(theta)
  }

  /// max over the unknowns of |θ − prox(θ − ∇f(θ))|, prox soft-thresholding the weights by λ₁:
  /// zero exactly at a minimiser of F (it is ‖∇f‖∞ when λ₁ = 0).
  func stationarity(_ theta: [Double], _ g: [Double]) -> Double {
    let l1s = self.l1s
    return (0..<unknowns).reduce(0) { largest, i in
      let moved = i < penalised ? softThreshold(theta[i] - g[i], l1s[i]) : theta[i] - g[i]
      return max(largest, abs(theta[i] - moved))
    }
  }

  /// Minimises F by Newton's method, proximal when λ₁ > 0. Each iteration takes the model
  /// q(v) = ∇f(θ)ᵀ(v − θ) + ½ (v − θ)ᵀ A (v − θ) + λ₁ Σ|v_W|, A = ∇²f(θ) + μI, and its minimiser v:
  ///   λ₁ = 0: v = θ − A⁻¹ ∇f(θ) (Cholesky);  λ₁ > 0: v from `modelMinimiser`.
  /// μ = 1e-12 max(1, maxᵢ Aᵢᵢ) keeps A positive definite where ∇²f is singular (softmax's
  /// constant shift of all margins, modified Huber's flat pieces) while barely changing the step.
  /// Backtracking (Armijo): θ ← θ + t Δ, Δ = v − θ, t the first of 1, ½, ¼, … with
  ///   F(θ + t Δ) ≤ F(θ) + 10⁻⁴ t δ, δ = ∇f(θ)ᵀΔ + λ₁ (Σ|v_W| − Σ|θ_W|) < 0,
  /// allowing 10⁻¹⁵ |F(θ)| for rounding once the decrease is below what Doubles resolve.
  func newton() -> [Double] {
    let p = unknowns
    let l1s = self.l1s
    var theta = parameters(Array(repeating: 0, count: p))
    var value = objective(theta)
    for _ in 0..<200 {
      let g = gradient(theta)
      if stationarity(theta, g) < 1e-12 { break }
      var matrix = hessian(theta)
      let damping = 1e-12 * max(1, (0..<p).map { matrix[$0 * p + $0] }.max()!)
      for i in 0..<p { matrix[i * p + i] += damping }
      let target: [Double]
      if problem.l1 == 0 {
        guard let step = choleskySolve(matrix, g.map { -$0 }) else { break }
        target = (0..<p).map { theta[$0] + step[$0] }
      } else {
        target = modelMinimiser(matrix, g, theta)
      }
      let direction = (0..<p).map { target[$0] - theta[$0] }
      // Summed per coordinate: near the optimum Σ|v_W| − Σ|θ_W| would cancel away δ.
      let decrease = (0..<p).reduce(0) { sum, i in
        sum + (g[i] * direction[i] + (i < penalised ? l1s[i] * (abs(target[i]) - abs(theta[i])) : 0))
      }
      guard decrease < 0 else { break }
      var t = 1.0
      while t > 1e-12 {
        let trial = parameters((0..<p).map { theta[$0] + t * direction[$0] })
        let trialValue = objective(trial)
        if trialValue <= value + 1e-4 * t * decrease + 1e-15 * abs(value) {
          (theta, value) = (trial, trialValue)
          break
        }
        t /= 2
      }
      guard t > 1e-12 else { break }
    }
    return theta
  }

  /// The minimiser v of the proximal Newton model gᵀ(v − θ) + ½ (v − θ)ᵀ A (v − θ) + λ₁ Σ|v_W|,
  /// by cyclic coordinate descent from v = θ, keeping r = g + A (v − θ):
  ///   vᵢ ← S(vᵢ − rᵢ / Aᵢᵢ, λ₁ / Aᵢᵢ) for weights, vᵢ ← vᵢ − rᵢ / Aᵢᵢ for intercepts,
  /// until no coordinate moves more than 10⁻¹⁵ max(1, ‖v‖∞) in a sweep, or until a sweep leaves
  /// the weights' signs unchanged and `signedMinimiser` confirms them (descent alone crawls
  /// along the nearly flat directions that softmax and a small λ₂ leave).
  func modelMinimiser(_ matrix: [Double], _ g: [Double], _ theta: [Double]) -> [Double] {
    let p = unknowns
    let l1s = self.l1s
    var (v, r) = (Array(theta[0..<p]), g)
    var (signs, tried) = ([Int](), [Int]())
    for _ in 0..<10_000 {
      var (moved, size) = (0.0, 1.0)
      for i in 0..<p {
        let a = matrix[i * p + i]
        let z = v[i] - r[i] / a
        let next = i < penalised ? softThreshold(z, l1s[i] / a) : z
        let change = next - v[i]
        if change != 0 {
          v[i] = next
          for j in 0..<p { r[j] += change * matrix[i * p + j] }
        }
        (moved, size) = (max(moved, abs(change)), max(size, abs(next)))
      }
      if moved <= 1e-15 * size { break }
      let now = (0..<p).map { $0 < penalised ? sign(v[$0]) : 2 }
      if now == signs && now != tried {
        if let exact = signedMinimiser(matrix, g, theta, signs: now) { return exact }
        tried = now
      }
      signs = now
    }
    return v
  }

  /// The proximal Newton model's minimiser if its weights have the given `signs` (−1, 0 or +1;
  /// 2 for intercepts), else nil. With the zero weights Z held at 0 and the rest S free, the
  /// optimality conditions rᵢ + λ₁ signᵢ = 0 on S read
  ///   A_SS (v − θ)_S = −g_S − λ₁ sign_S + A_SZ θ_Z,
  /// and their solution is the minimiser when its signs on S come out as assumed and
  /// |rᵢ| ≤ λ₁ on Z, r = g + A (v − θ).
  func signedMinimiser(_ matrix: [Double], _ g: [Double], _ theta: [Double], signs: [Int]) -> [Double]? {
    let p = unknowns
    let l1s = self.l1s
    let (free, zero) = ((0..<p).filter { signs[$0] != 0 }, (0..<p).filter { signs[$0] == 0 })
    let rhs = free.map { i in
      zero.reduce(-g[i] - (i < penalised ? l1s[i] * Double(signs[i]) : 0)) {
        $0 + matrix[i * p + $1] * theta[$1]
      }
    }
    let reduced = free.flatMap { i in free.map { matrix[i * p + $0] } }
    guard let step = choleskySolve(reduced, rhs) else { return nil }
    var v = [Double](repeating: 0, count: p)
    for (a, i) in free.enumerated() {
      v[i] = theta[i] + step[a]
      if i < penalised && sign(v[i]) != signs[i] { return nil }
    }
    for i in zero {
      let r = (0..<p).reduce(g[i]) { $0 + matrix[i * p + $1] * (v[$1] - theta[$1]) }
      if abs(r) > l1s[i] { return nil }
    }
    return v
  }
}

/// x with A x = b for a symmetric positive definite A (n × n, row-major), by the Cholesky
/// factorisation A = L Lᵀ, Lⱼⱼ = √(Aⱼⱼ − Σₖ<ⱼ Lⱼₖ²), Lᵢⱼ = (Aᵢⱼ − Σₖ<ⱼ Lᵢₖ Lⱼₖ) / Lⱼⱼ,
/// then L z = b and Lᵀ x = z; nil when a pivot is not positive.
private func choleskySolve(_ matrix: [Double], _ b: [Double]) -> [Double]? {
  let n = b.count
  var lower = [Double](repeating: 0, count: n * n)
  for j in 0..<n {
    var pivot = matrix[j * n + j]
    for k in 0..<j { pivot -= lower[j * n + k] * lower[j * n + k] }
    guard pivot > 0 else { return nil }
    lower[j * n + j] = pivot.squareRoot()
    for i in (j + 1)..<n {
      var sum = matrix[i * n + j]
      for k in 0..<j { sum -= lower[i * n + k] * lower[j * n + k] }
      lower[i * n + j] = sum / lower[j * n + j]
    }
  }
  var x = b
  for i in 0..<n {
    for k in 0..<i { x[i] -= lower[i * n + k] * x[k] }
    x[i] /= lower[i * n + i]
  }
  for i in (0..<n).reversed() {
    for k in (i + 1)..<n { x[i] -= lower[k * n + i] * x[k] }
    x[i] /= lower[i * n + i]
  }
  return x
}
