import CAtomics
import Dataset
import Kernels
import Parallel

/// Centres as an assignment reads them: the values (k × d, centre-major),
/// the kernel's panel of them and their squared norms (Double, for sparse
/// distances). Plain pointers; whoever made the view owns the memory.
struct CentreView: @unchecked Sendable {
  let values: UnsafeMutablePointer<Float>
  let panel: CentrePanel
  let norms: UnsafeMutablePointer<Double>
  let clusters: Int
  let columns: Int

  /// Makes `source` (k × d) these centres: copies them (unless they are
  /// these), loads the panel and computes the norms.
  func load(_ source: UnsafePointer<Float>) {
    if source != UnsafePointer(values) { values.update(from: source, count: clusters * columns) }
    panel.load(values)
    for c in 0..<clusters {
      var norm = 0.0
      for j in 0..<columns { norm += Double(values[c * columns + j]) * Double(values[c * columns + j]) }
      norms[c] = norm
    }
  }
}

/// The memory a k-means fit shares between its workers, allocated once per
/// fit and freed with it.
///
/// Sharing: during an assignment pass each worker writes only its own rows'
/// entries of ``labels``, ``upper`` and ``lower``, and its own ``sums`` and
/// ``counts`` and ``tallies`` slot; during the reduce each writes only its
/// slice of centres in ``next``, ``combined``, ``totals`` and ``shifts``; the
/// centres, panel, norms and bounds' per-centre terms change only between
/// passes, on the calling thread. Barriers and `WorkerTeam.run`'s return
/// order those phases, which is why the type may be `@unchecked Sendable`.
/// The one exception is mini-batch Hogwild!: during its epoch every worker
/// reads and writes ``seen`` and ``runningSums`` at once, only through
/// relaxed atomics (``addToRunningSums(_:weights:)``, ``runningMeans(into:)``).
final class ClusterState: @unchecked Sendable {
  let rows: Int
  let columns: Int
  let clusters: Int
  let workers: Int
  /// Per row: its nearest centre (−1 before the first assignment).
  let labels: UnsafeMutablePointer<Int32>
  /// Per row, for the bounded iteration: an upper bound on the distance to
  /// its centre and a lower bound on the distance to every other centre.
  let upper: UnsafeMutablePointer<Float>
  let lower: UnsafeMutablePointer<Float>
  /// The centres (k × d, centre-major) and the next ones.
  let centres: UnsafeMutablePointer<Float>
  let next: UnsafeMutablePointer<Float>
  /// The centres as the distance kernel reads them.
  let panel: CentrePanel
  /// ‖c‖² per centre, in Double (sparse distances).
  let centreNorms: UnsafeMutablePointer<Double>
  /// Per worker: weighted sums of its rows per centre (k × d) and their weights (k).
  let sums: [UnsafeMutablePointer<Double>]
  let counts: [UnsafeMutablePointer<Double>]
  /// Per worker, a cache line of figures: inertia, rows changed, distance computations.
  let tallies: UnsafeMutablePointer<Double>
  /// The reduced sums and weights, and per centre `‖c′ − c‖²`.
  let combined: UnsafeMutablePointer<Double>
  let totals: UnsafeMutablePointer<Double>
  let shifts: UnsafeMutablePointer<Double>
  /// Bounded iteration, per centre: how far it moved in the last update
  /// (rounded up), and half the distance to its nearest other centre.
  let movement: UnsafeMutablePointer<Float>
  let separation: UnsafeMutablePointer<Float>
  /// Bounded iteration: the largest movement, its centre, and the second largest.
  var largestMove: Float = 0
  var largestMover: Int32 = -1
  var secondMove: Float = 0
  /// Mini-batch: the weight of the rows each centre has been given so far,
  /// and (per-core replicas) their sums, k × d.
  let seen: UnsafeMutablePointer<Double>
  let runningSums: UnsafeMutablePointer<Double>
  /// Mini-batch, per-core replicas: each worker's centres, and the sums and
  /// weights it has added since the replicas last met.
  let replicas: [CentreView]
  let pending: [UnsafeMutablePointer<Double>]
  let pendingWeights: [UnsafeMutablePointer<Double>]
  /// Per row: `ρ · min distance²` while seeding (k-means++), and `‖x‖²`.
  let potential: UnsafeMutablePointer<Float>
  let norms: UnsafeMutablePointer<Float>
  private var allocations: [UnsafeMutableRawPointer] = []

  init(rows: Int, columns: Int, clusters: Int, workers: Int, bounded: Bool, replicated: Bool = false) {
    self.rows = rows
    self.columns = columns
    self.clusters = clusters
    self.workers = workers
    var owned: [UnsafeMutableRawPointer] = []
    func allocate<T>(_ type: T.Type, _ count: Int, _ value: T) -> UnsafeMutablePointer<T> {
      let raw = UnsafeMutableRawPointer.allocate(
        byteCount: max(count, 1) * MemoryLayout<T>.stride, alignment: 64)
      owned.append(raw)
      let typed = raw.bindMemory(to: T.self, capacity: max(count, 1))
      typed.initialize(repeating: value, count: max(count, 1))
      return typed
    }
    let size = clusters * columns
    labels = allocate(Int32.self, rows, -1)
    upper = allocate(Float.self, bounded ? rows : 0, 0)
    lower = allocate(Float.self, bounded ? rows : 0, 0)
    centres = allocate(Float.self, size, 0)
    next = allocate(Float.self, size, 0)
    panel = CentrePanel(
      centres: clusters, columns: columns,
      memory: allocate(Float.self, CentrePanel.floats(centres: clusters, columns: columns), 0))
    centreNorms = allocate(Double.self, clusters, 0)
    sums = (0..<workers).map { _ in allocate(Double.self, size, 0) }
    counts = (0..<workers).map { _ in allocate(Double.self, clusters, 0) }
    tallies = allocate(Double.self, workers * 8, 0)
    combined = allocate(Double.self, size, 0)
    totals = allocate(Double.self, clusters, 0)
    shifts = allocate(Double.self, clusters, 0)
    movement = allocate(Float.self, clusters, 0)
    separation = allocate(Float.self, clusters, 0)
    potential = allocate(Float.self, rows, 0)
    norms = allocate(Float.self, rows, 0)
    seen = allocate(Double.self, clusters, 0)
    let replicaCount = replicated ? workers : 0
    runningSums = allocate(Double.self, replicated ? size : 0, 0)
    replicas = (0..<replicaCount).map { _ in
      CentreView(
        values: allocate(Float.self, size, 0),
        panel: CentrePanel(
          centres: clusters, columns: columns,
          memory: allocate(Float.self, CentrePanel.floats(centres: clusters, columns: columns), 0)),
        norms: allocate(Double.self, clusters, 0), clusters: clusters, columns: columns)
    }
    pending = (0..<replicaCount).map { _ in allocate(Double.self, size, 0) }
    pendingWeights = (0..<replicaCount).map { _ in allocate(Double.self, clusters, 0) }
    allocations = owned
  }

  deinit { for raw in allocations { raw.deallocate() } }

  /// The shared centres as an assignment reads them.
  var shared: CentreView {
    CentreView(values: centres, panel: panel, norms: centreNorms, clusters: clusters, columns: columns)
  }

  /// Makes `values` (k × d) the centres: copies them, loads the panel, and
  /// computes their norms.
  func setCentres(_ values: UnsafePointer<Float>) { shared.load(values) }

  /// Row `row` of `block`'s squared distance to centre `c`, summed from the
  /// differences (sparse rows: on the row's columns, plus the centre's norm
  /// off them).
  func squaredDistance(_ row: Int, of block: RowBlock, to c: Int) -> Float {
    let centre = UnsafePointer(centres + c * columns)
    switch block.layout {
    case .dense:
      return Distances.squaredDistance(
        dense: block.denseRow(row).baseAddress!, centre: centre, columns: columns)
    case .csr:
      let x = block.sparseRow(row)
      return Distances.squaredDistance(
        sparse: x.indices, values: x.values, centre: centre, centreNorm: centreNorms[c])
    }
  }

  /// Mini-batch, Hogwild!: `S ← S + sums`, `V ← V + weights` on the shared
  /// ``runningSums`` and ``seen`` for the centres of positive weight, each
  /// value a relaxed load and store (no lock: another worker's update in
  /// between is lost, which Hogwild! tolerates).
  func addToRunningSums(_ sums: UnsafePointer<Double>, weights: UnsafePointer<Double>) {
    for c in 0..<clusters where weights[c] > 0 {
      catomics_add_relaxed_f64(seen + c, weights[c])
      for j in c * columns..<(c + 1) * columns { catomics_add_relaxed_f64(runningSums + j, sums[j]) }
    }
  }

  /// The running means `S_c / V_c` into `centres` (k × d), from relaxed
  /// loads of the shared sums; a centre of no weight yet keeps its value.
  func runningMeans(into centres: UnsafeMutablePointer<Float>) {
    for c in 0..<clusters {
      let weight = catomics_load_relaxed_f64(seen + c)
      guard weight > 0 else { continue }
      for j in c * columns..<(c + 1) * columns {
        centres[j] = Float(catomics_load_relaxed_f64(runningSums + j) / weight)
      }
    }
  }

  /// Bounded iteration: half the distance from each centre to its nearest
  /// other centre (rounded down), from the current centres. O(k² d).
  func updateSeparation() {
    for c in 0..<clusters {
      var nearest = Double.infinity
      for other in 0..<clusters where other != c {
        let distance = Double(
          Distances.squaredDistance(
            dense: centres + c * columns, centre: centres + other * columns, columns: columns))
        nearest = min(nearest, distance)
      }
      separation[c] = nearest.isFinite ? Float(nearest.squareRoot() / 2).nextDown : .infinity
    }
  }

  /// Bounded iteration: each centre's movement `‖c′ − c‖` from ``shifts``
  /// (rounded up), and the largest two.
  func updateMovement() {
    largestMove = 0
    secondMove = 0
    largestMover = -1
    for c in 0..<clusters {
      let move = Float(shifts[c].squareRoot()).nextUp
      movement[c] = move
      if move > largestMove {
        secondMove = largestMove
        largestMove = move
        largestMover = Int32(c)
      } else if move > secondMove {
        secondMove = move
      }
    }
  }
}
