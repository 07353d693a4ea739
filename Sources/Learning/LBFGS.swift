/// Limited-memory BFGS (Nocedal 1980; Liu and Nocedal 1989): the last `m`
/// steps `s = x⁺ − x` and gradient changes `y = ∇f⁺ − ∇f` stand for the
/// inverse Hessian, and the two-loop recursion turns a gradient into a
/// quasi-Newton direction in O(m · n). The objective is evaluated elsewhere
/// (in Sounder, one pass of every worker over its rows); this type only
/// keeps the history and does the vector algebra, in Double.
public struct LBFGSHistory: Sendable {
  /// The most pairs kept.
  public let memory: Int
  private var steps: [[Double]] = []
  private var changes: [[Double]] = []
  /// 1 / (yᵀs) of each pair.
  private var rhos: [Double] = []
  /// The shape `D` of the initial inverse Hessian, positive (`nil`: I).
  private let diagonal: [Double]?

  /// A history of at most `memory` pairs. `diagonal`, when given, shapes the
  /// initial inverse Hessian: `γD` instead of `γI` (a Jacobi preconditioner:
  /// the inverse of each coordinate's curvature, estimated from the data),
  /// which on rows whose features differ widely in scale or frequency takes
  /// far fewer iterations.
  public init(memory: Int, diagonal: [Double]? = nil) {
    precondition(memory >= 1, "L-BFGS keeps at least one pair")
    precondition(diagonal.map { $0.allSatisfy { $0 > 0 && $0.isFinite } } ?? true, "a positive diagonal")
    self.memory = memory
    self.diagonal = diagonal
  }

  /// Pairs held.
  public var count: Int { steps.count }

  /// Forgets every pair (the next direction is the steepest descent).
  public mutating func reset() {
    steps.removeAll()
    changes.removeAll()
    rhos.removeAll()
  }

  /// Adds the pair (s, y) when its curvature yᵀs is positive enough to keep
  /// the implicit Hessian positive definite (yᵀs > 10⁻¹⁰ ‖s‖ ‖y‖); returns
  /// whether it was kept. The oldest pair goes when `memory` are held.
  @discardableResult
  public mutating func add(step s: [Double], change y: [Double]) -> Bool {
    let curvature = dot(y, s)
    guard curvature > 1e-10 * (dot(s, s) * dot(y, y)).squareRoot() else { return false }
    if steps.count == memory {
      steps.removeFirst()
      changes.removeFirst()
      rhos.removeFirst()
    }
    steps.append(s)
    changes.append(y)
    rhos.append(1 / curvature)
    return true
  }

  /// The direction −H ∇f by the two-loop recursion, with the initial inverse
  /// Hessian γD, γ = sᵀy / yᵀDy of the newest pair (1 with none; D = I
  /// without a diagonal).
  public func direction(gradient: [Double]) -> [Double] {
    var q = gradient
    var alphas = [Double](repeating: 0, count: steps.count)
    for i in steps.indices.reversed() {
      alphas[i] = rhos[i] * dot(steps[i], q)
      axpy(-alphas[i], changes[i], &q)
    }
    var gamma = 1.0
    if let s = steps.last, let y = changes.last {
      let shaped = diagonal.map { d in y.indices.reduce(0.0) { $0 + y[$1] * d[$1] * y[$1] } } ?? dot(y, y)
      gamma = dot(s, y) / shaped
    }
    if let diagonal {
      for j in q.indices { q[j] *= gamma * diagonal[j] }
    } else if gamma != 1 {
      for j in q.indices { q[j] *= gamma }
    }
    for i in steps.indices {
      let beta = rhos[i] * dot(changes[i], q)
      axpy(alphas[i] - beta, steps[i], &q)
    }
    for j in q.indices { q[j] = -q[j] }
    return q
  }
}

/// A line search for the strong Wolfe conditions (Nocedal and Wright,
/// *Numerical Optimization*, algorithms 3.5 and 3.6): along a descent
/// direction d from x, find α with
///
///     f(x + αd) ≤ f(x) + c₁ α ∇f(x)ᵀd          (sufficient decrease)
///     |∇f(x + αd)ᵀd| ≤ c₂ |∇f(x)ᵀd|            (curvature)
///
/// bracketing by doubling, then zooming by cubic interpolation (bisection
/// when the cubic falls outside the safe middle of the bracket).
public struct WolfeLineSearch: Sendable {
  public var c1 = 1e-4
  public var c2 = 0.9
  /// The most evaluations one search may make.
  public var maxEvaluations = 25

  public init() {}

  /// A point the search evaluated: the step, the objective, and the
  /// directional derivative ∇f(x + αd)ᵀd.
  public struct Point: Sendable {
    public var alpha: Double
    public var value: Double
    public var slope: Double
    public init(alpha: Double, value: Double, slope: Double) {
      self.alpha = alpha
      self.value = value
      self.slope = slope
    }
  }

  /// Searches from `start` (α = 0, f(x), ∇f(x)ᵀd < 0) with the first trial
  /// step `initial`; `evaluate(α)` returns the point at α (and may keep its
  /// gradient). Returns the accepted point, or `nil` when no step of
  /// sufficient decrease was found within `maxEvaluations`.
  public func search(
    from start: Point, initial: Double, evaluate: (Double) throws -> Point
  ) rethrows -> Point? {
    precondition(start.slope < 0, "a line search needs a descent direction")
    var previous = start
    var alpha = initial
    var evaluations = 0
    var best: Point? = nil
    while evaluations < maxEvaluations {
      let point = try evaluate(alpha)
      evaluations += 1
      if !point.value.isFinite || point.value > start.value + c1 * alpha * start.slope
        || (evaluations > 1 && point.value >= previous.value)
      {
        return try zoom(
          start: start, low: previous, high: point, evaluations: evaluations, evaluate: evaluate) ?? best
      }
      best = point
      if abs(point.slope) <= -c2 * start.slope { return point }
      if point.slope >= 0 {
        return try zoom(start: start, low: point, high: previous, evaluations: evaluations, evaluate: evaluate)
          ?? best
      }
      previous = point
      alpha *= 2
    }
    return best
  }

  /// Narrows the bracket between `low` (sufficient decrease, the lower
  /// value) and `high` until a point meets both conditions.
  private func zoom(
    start: Point, low: Point, high: Point, evaluations: Int, evaluate: (Double) throws -> Point
  ) rethrows -> Point? {
    var (low, high) = (low, high)
    var evaluations = evaluations
    // The best point of sufficient decrease seen, if the bracket runs out.
    var best: Point? = low.alpha > 0 ? low : nil
    while evaluations < maxEvaluations {
      let alpha = Self.interpolate(low, high)
      let point = try evaluate(alpha)
      evaluations += 1
      if !point.value.isFinite || point.value > start.value + c1 * alpha * start.slope
        || point.value >= low.value
      {
        high = point
      } else {
        best = point
        if abs(point.slope) <= -c2 * start.slope { return point }
        if point.slope * (high.alpha - low.alpha) >= 0 { high = low }
        low = point
      }
      if abs(high.alpha - low.alpha) <= 1e-12 * max(1, abs(low.alpha)) { break }
    }
    return best
  }

  /// The minimiser of the cubic through the two points' values and slopes,
  /// kept in the middle 80% of the bracket (else its midpoint).
  static func interpolate(_ a: Point, _ b: Point) -> Double {
    let lower = min(a.alpha, b.alpha)
    let upper = max(a.alpha, b.alpha)
    let middle = (lower + upper) / 2
    guard a.value.isFinite, b.value.isFinite else { return middle }
    let d1 = a.slope + b.slope - 3 * (a.value - b.value) / (a.alpha - b.alpha)
    let root = d1 * d1 - a.slope * b.slope
    guard root >= 0 else { return middle }
    let d2 = (b.alpha > a.alpha ? 1.0 : -1.0) * root.squareRoot()
    let alpha = b.alpha - (b.alpha - a.alpha) * (b.slope + d2 - d1) / (b.slope - a.slope + 2 * d2)
    let margin = 0.1 * (upper - lower)
    guard alpha.isFinite, alpha > lower + margin, alpha < upper - margin else { return middle }
    return alpha
  }
}

@inline(__always)
private func dot(_ a: [Double], _ b: [Double]) -> Double {
  var sum = 0.0
  for j in a.indices { sum += a[j] * b[j] }
  return sum
}

@inline(__always)
private func axpy(_ alpha: Double, _ x: [Double], _ y: inout [Double]) {
  for j in y.indices { y[j] += alpha * x[j] }
}
