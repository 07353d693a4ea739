import Dataset
import Kernels
import Parallel

/// One pass of Lloyd's iteration over every worker's rows, the source's
/// partition / assign / aggregate pattern:
/// 1. **assign**: each worker finds its rows' nearest centres, eight rows
///    at a time (the blocked kernel, eight rows × eight centres; under
///    ``KMeansAlgorithm/bounded`` in chunks of 64 rows, only for rows whose
///    bounds cannot rule out a change), then adds each row, in row order, to
///    its own per-centre sums and weights, with the row's `ρ ‖x − c‖²`;
/// 2. **reduce**: after a barrier each worker sums one slice of centres
///    over all workers, in worker order, into the next centres `S_c / W_c`
///    and how far each moved.
///
/// The sums run in the same order whatever the bounds skipped, so both
/// algorithms give bitwise the same centres for a given thread count.
struct LloydPass: Sendable {
  let state: ClusterState
  let assignments: [WorkerAssignment]
  let bounded: Bool
  let counters: CounterSlots
  /// Where to leave each row's squared distance to its centre, if anywhere.
  var distances: UnsafeSendable<UnsafeMutablePointer<Float>>? = nil
  /// Mini-batch: each worker's rows in this epoch's order (`nil`: its rows
  /// as assigned); a pass reads a window of them.
  var order: [[Int32]]? = nil
  /// Mini-batch: each centre moves to the running mean of every row it has
  /// been given (Sculley's update, a batch at a time) instead of the mean
  /// of this pass's rows.
  var runningMean = false
  /// The sums are combined with other processes' before the centres move:
  /// step 2 leaves `combined` and `totals` to the caller, who sums them over
  /// the processes and calls ``move(_:)``.
  var acrossProcesses = false

  /// Rows the bounded iteration settles before it adds them up.
  static let chunk = 64

  /// Runs on worker `context.index` over positions `window` of its rows
  /// (`nil`: all of them). `first`: no bounds yet (every row is assigned in full).
  func run(_ context: WorkerContext, first: Bool, window: Range<Int>? = nil) throws {
    let worker = context.index
    var counter = counters.slot(worker)
    assignOnly(worker, first: first, window: window)
    counter.charge(.compute)
    try context.barrier.arrive()
    counter.charge(.wait)
    reduce(worker)
    counter.charge(.merge)
  }

  /// Step 1 alone, on worker `worker`'s positions `window` (`nil`: all):
  /// what a per-core mini-batch replica does between meetings.
  func assignOnly(_ worker: Int, first: Bool, window: Range<Int>?) {
    let rows = order?[worker] ?? assignments[worker].rows
    let positions = window.map { $0.clamped(to: 0..<rows.count) } ?? 0..<rows.count
    assign(worker, rows: rows, positions: positions, first: first)
    counters.slot(worker).count(examples: positions.count, nonZeros: nonZeros(worker, rows: rows[positions]))
  }

  private func nonZeros(_ worker: Int, rows: ArraySlice<Int32>) -> Int {
    let block = assignments[worker].block
    guard block.layout == .csr else { return rows.count * block.columns }
    return rows.reduce(0) { $0 + Int(block.offsets[Int($1) + 1] - block.offsets[Int($1)]) }
  }

  /// Step 1 on one worker: labels, bounds, sums, weights and tallies.
  private func assign(_ worker: Int, rows: [Int32], positions: Range<Int>, first: Bool) {
    let state = state
    state.sums[worker].update(repeating: 0, count: state.clusters * state.columns)
    state.counts[worker].update(repeating: 0, count: state.clusters)
    // Per-core mini-batch replicas assign against their own centres.
    let view = runningMean ? (state.replicas.isEmpty ? state.shared : state.replicas[worker]) : state.shared
    var assigner = ChunkAssigner(
      pass: self, worker: worker, block: assignments[worker].block, view: view, first: first)
    defer { assigner.deallocate() }
    // Lloyd's rows are added to the sums right after their group's search, while
    // they are still in the L1 cache (64 rows apart took 1M × 64 rows' iteration
    // from 38.7 to 50 ms on one thread); the bounded iteration gathers a group from
    // the few rows of a longer chunk that its bounds cannot settle.
    let chunk = bounded ? Self.chunk : Distances.group
    rows.withUnsafeBufferPointer { rows in
      var start = positions.lowerBound
      while start < positions.upperBound {
        let end = min(start + chunk, positions.upperBound)
        assigner.assign(rows, start..<end)
        assigner.aggregate(rows, start..<end)
        start = end
      }
    }
    assigner.flushWindow()
    let tally = state.tallies + worker * 8
    tally[0] = assigner.inertia
    tally[1] = Double(assigner.changed)
    tally[2] = Double(assigner.computed)
  }

  /// Step 2 on one worker: its slice of centres, summed over the workers in
  /// worker order into `combined` and `totals`, then (unless
  /// ``acrossProcesses``) moved by ``move(_:)``.
  private func reduce(_ worker: Int) {
    let state = state
    let d = state.columns
    let k = state.clusters
    let slice = (k * worker / state.workers)..<(k * (worker + 1) / state.workers)
    for c in slice {
      var weight = 0.0
      for w in 0..<state.workers { weight += state.counts[w][c] }
      state.totals[c] = weight
      for j in 0..<d {
        var sum = 0.0
        for w in 0..<state.workers { sum += state.sums[w][c * d + j] }
        state.combined[c * d + j] = sum
      }
    }
    if !acrossProcesses { move(slice) }
  }

  /// The next centres `c′ = S_c / W_c` of `centres` from the summed
  /// `combined` and `totals` (an empty centre stays put until the caller
  /// re-seeds it), and `‖c′ − c‖²`.
  func move(_ centres: Range<Int>) {
    let state = state
    let d = state.columns
    for c in centres {
      let weight = state.totals[c]
      var shift = 0.0
      // Mini-batch: c′ = (v_c c + S_c) / (v_c + W_c), v_c ← v_c + W_c.
      let seen = runningMean ? state.seen[c] : 0
      if runningMean { state.seen[c] = seen + weight }
      for j in 0..<d {
        let sum = state.combined[c * d + j]
        let old = state.centres[c * d + j]
        let value = weight > 0 ? Float((seen * Double(old) + sum) / (seen + weight)) : old
        state.next[c * d + j] = value
        shift += (Double(value) - Double(old)) * (Double(value) - Double(old))
      }
      state.shifts[c] = shift
    }
  }
}

/// One worker's assignment step over chunks of its rows: first the nearest
/// centre of every row in a chunk (dense rows in groups of
/// ``Distances/group`` for the blocked kernel), then, in row order, each row
/// added to its centre's sums. Its scratch is allocated once per pass.
private struct ChunkAssigner {
  let pass: LloydPass
  let state: ClusterState
  let block: RowBlock
  let view: CentreView
  /// No bounds yet: every row is searched in full.
  let first: Bool
  let sums: UnsafeMutablePointer<Double>
  let counts: UnsafeMutablePointer<Double>
  /// Dense rows' sums since the last ``flushWindow()``, in Float (k × d):
  /// half the stores of Double sums a row (1M × 64, k = 8: 15.8–17.4 →
  /// 14.9–15.7 ms an iteration on two threads), and a Float's rounding over
  /// at most ``windowLength`` rows before each window joins the Double sums.
  private let window: UnsafeMutablePointer<Float>
  private var windowRows = 0
  /// The waiting dense rows, their positions, and the kernel's answers for them.
  private let group: UnsafeMutablePointer<UnsafePointer<Float>>
  private let waitingPositions: UnsafeMutablePointer<Int>
  private let found: UnsafeMutablePointer<NearestCentre>
  /// The chunk's rows' new labels, before they are written back.
  private let chosen: UnsafeMutablePointer<Int32>
  /// A sparse row's scores.
  private let scores: UnsafeMutablePointer<Float>
  private var waiting = 0
  /// Tallies: `Σ ρ ‖x − c‖²`, rows whose label changed, distance computations.
  var inertia = 0.0
  var changed = 0
  var computed = 0

  init(pass: LloydPass, worker: Int, block: RowBlock, view: CentreView, first: Bool) {
    self.pass = pass
    state = pass.state
    self.block = block
    self.view = view
    self.first = first
    sums = pass.state.sums[worker]
    counts = pass.state.counts[worker]
    group = .allocate(capacity: Distances.group)
    waitingPositions = .allocate(capacity: Distances.group)
    found = .allocate(capacity: Distances.group)
    chosen = .allocate(capacity: LloydPass.chunk)
    scores = .allocate(capacity: view.panel.width)
    let windowSize = block.layout == .dense ? state.clusters * state.columns : 0
    window = .allocate(capacity: windowSize)
    window.initialize(repeating: 0, count: windowSize)
    windowLength = 64 * min(64, max(4, state.clusters / 2))
  }

  func deallocate() {
    group.deallocate()
    waitingPositions.deallocate()
    found.deallocate()
    chosen.deallocate()
    scores.deallocate()
    window.deallocate()
  }

  /// Dense rows summed in Float before the window joins the Double sums:
  /// about 32 rows a centre, from 256 to 4,096 rows (adding k × d values at
  /// every 256 rows made k = 256 8% slower). A multiple of 64, so Lloyd and
  /// the bounded iteration, whose chunks are 8 and 64 rows, flush at the
  /// same rows and stay bitwise alike.
  private let windowLength: Int

  /// `S ← S + window`, then an empty window.
  mutating func flushWindow() {
    guard windowRows > 0 else { return }
    for i in 0..<(state.clusters * state.columns) {
      sums[i] += Double(window[i])
      window[i] = 0
    }
    windowRows = 0
  }

  /// The nearest centre of the rows at `positions` (at most a chunk), into `chosen`.
  mutating func assign(_ rows: UnsafeBufferPointer<Int32>, _ positions: Range<Int>) {
    let base = positions.lowerBound
    // Rows every one of which is searched in full are requested a group ahead:
    // the hardware prefetcher alone left the search waiting on memory (1M × 64,
    // k = 8: 19.0 → 16.3 ms an iteration on two threads, 35.9 → 31.9 on one).
    let prefetching = block.layout == .dense && (!pass.bounded || first)
    for position in positions {
      if prefetching, position &+ Distances.group < rows.count {
        Dense.prefetch(
          block.features + Int(rows[position &+ Distances.group]) &* block.columns, count: block.columns)
      }
      let row = Int(rows[position])
      if pass.bounded && !first {
        // Hamerly: u ≥ ‖x − c(x)‖ and l ≤ ‖x − c′‖ for every other c′, moved with the centres.
        let label = Int(state.labels[row])
        var upper = state.upper[row] + state.movement[label]
        let lower =
          state.lower[row] - (Int32(label) == state.largestMover ? state.secondMove : state.largestMove)
        let bound = max(state.separation[label], lower)
        if upper > bound {
          upper = state.squaredDistance(row, of: block, to: label).squareRoot().nextUp
          computed += 1
        }
        state.lower[row] = lower
        if upper <= bound {
          chosen[position - base] = Int32(label)
          continue
        }
      }
      switch block.layout {
      case .dense:
        group[waiting] = block.features + row &* block.columns
        waitingPositions[waiting] = position
        waiting += 1
        if waiting == Distances.group { flush(rows, base: base) }
      case .csr:
        let x = block.sparseRow(row)
        let nearest = Distances.nearest(
          sparse: x.indices, values: x.values, panel: view.panel, scratch: scores)
        settle(rows, position, base: base, nearest)
        computed += state.clusters
      }
    }
    flush(rows, base: base)
  }

  /// The full nearest-centre search for the waiting dense rows.
  private mutating func flush(_ rows: UnsafeBufferPointer<Int32>, base: Int) {
    guard waiting > 0 else { return }
    Distances.nearest(
      dense: group, count: waiting, panel: view.panel, into: found, second: pass.bounded)
    for slot in 0..<waiting { settle(rows, waitingPositions[slot], base: base, found[slot]) }
    computed += waiting * state.clusters
    waiting = 0
  }

  /// A full search's answer: the label, and the lower bound from its second score
  /// (the upper bound is the exact distance, set when the row is aggregated).
  private func settle(
    _ rows: UnsafeBufferPointer<Int32>, _ position: Int, base: Int, _ nearest: NearestCentre
  ) {
    chosen[position - base] = nearest.centre
    if pass.bounded {
      let row = Int(rows[position])
      state.lower[row] = max(squaredNorm(row) + nearest.secondScore, 0).squareRoot().nextDown
    }
  }

  /// In row order: `S_c ← S_c + ρ x` (dense rows through the Float window),
  /// `W_c ← W_c + ρ`, `inertia += ρ ‖x − c‖²`, and the labels, bounds and
  /// distances the pass keeps.
  mutating func aggregate(_ rows: UnsafeBufferPointer<Int32>, _ positions: Range<Int>) {
    let d = state.columns
    let labels = state.labels
    let weights = block.weights
    let distances = pass.distances?.value
    // The tallies in registers for the chunk: as fields they were a load and a store per row.
    var inertia = 0.0
    var changed = 0
    for position in positions {
      let row = Int(rows[position])
      let label = Int(chosen[position - positions.lowerBound])
      if labels[row] != Int32(label) { changed += 1 }
      labels[row] = Int32(label)
      let weight = weights?[row] ?? 1
      let centre = UnsafePointer(view.values + label &* d)
      let distance: Float
      switch block.layout {
      case .dense:
        distance = Distances.accumulate(
          dense: block.features + row &* block.columns, centre: centre, columns: d, weight: weight,
          into: window + label &* d)
      case .csr:
        let x = block.sparseRow(row)
        distance = Distances.accumulate(
          sparse: x.indices, values: x.values, centre: centre, centreNorm: view.norms[label],
          weight: weight, into: sums + label &* d)
      }
      counts[label] += Double(weight)
      inertia += Double(weight) * Double(distance)
      if pass.bounded { state.upper[row] = distance.squareRoot().nextUp }
      distances?[row] = distance
    }
    self.inertia += inertia
    self.changed += changed
    if block.layout == .dense {
      windowRows += positions.count
      if windowRows >= windowLength { flushWindow() }
    }
  }

  private func squaredNorm(_ row: Int) -> Float {
    switch block.layout {
    case .dense: Dense.squaredNorm(block.denseRow(row))
    case .csr: Dense.squaredNorm(block.sparseRow(row).values)
    }
  }

}
