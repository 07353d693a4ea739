import CReference
import Sounder

/// One kernel measured two ways, Swift and C, on the same memory.
public struct Workload: @unchecked Sendable {
  /// The kernel's name in the table.
  public let kernel: String
  /// The working set, e.g. "4 KB".
  public let size: String
  /// Bytes the kernel moves per call (counted as in BENCHMARKS.md).
  public let bytes: Int
  /// Calls the Swift kernel `n` times.
  public let swift: (Int) -> Void
  /// Calls the C reference kernel `n` times.
  public let c: (Int) -> Void
  /// The memory the kernels run on, kept alive as long as the workload.
  let storage: [AnyObject]
}

/// The step coefficient both the Swift and the C fused step use: a tiny
/// gradient step on ½ m², so repeated steps stay bounded.
let coefficient: @convention(c) (Float) -> Float = { m in -1e-9 * m }

/// Two vectors of `count` floats in `region`: `x` at its start, `y` at the
/// next 4 KB boundary after `x` plus 2 KB, so that `y − x` is 2 KB modulo 4 KB
/// and loads of one never falsely depend on stores to the other (4K aliasing).
func operands(region: Region, count n: Int) -> (UnsafeBufferPointer<Float>, UnsafeMutableBufferPointer<Float>)
{
  let yStart = (n + 1023) / 1024 * 1024 + 512
  precondition(yStart + n <= region.floats.count, "region too small for two vectors of \(n)")
  return (region.slice(0, n), region.mutableSlice(yStart, n))
}

/// Dense `dot`, `axpy` and fused `step` on two vectors of `bytes / 8` floats
/// each (see ``operands(region:count:)`` for their placement).
public func denseWorkloads(region: Region, bytes: Int, size: String) -> [Workload] {
  let n = bytes / 8
  let (x, y) = operands(region: region, count: n)
  let xs = x.baseAddress!
  let ys = y.baseAddress!
  return [
    Workload(
      kernel: "dot", size: size, bytes: 8 * n,
      swift: { reps in for _ in 0..<reps { sink += Dense.dot(x, UnsafeBufferPointer(y)) } },
      c: { reps in for _ in 0..<reps { sink += cref_dot(xs, ys, n) } }, storage: [region]),
    Workload(
      kernel: "axpy", size: size, bytes: 12 * n,
      swift: { reps in for _ in 0..<reps { Dense.axpy(1e-9, x, y) } },
      c: { reps in for _ in 0..<reps { cref_axpy(1e-9, xs, ys, n) } }, storage: [region]),
    Workload(
      kernel: "step (dot+axpy)", size: size, bytes: 20 * n,
      swift: { reps in for _ in 0..<reps { sink += Dense.step(x, y) { m in -1e-9 * m } } },
      c: { reps in for _ in 0..<reps { sink += cref_step(xs, ys, n, coefficient) } }, storage: [region]),
  ]
}

/// The block kernels on a row-major block of `bytes` bytes, rows of 1024
/// floats: margins `m = X w` and the transpose product `g += Xᵀ c`, against C
/// doing one dot or one axpy per row. Bytes: the block, read once per call.
public func blockWorkloads(region: Region, bytes: Int, size: String) -> [Workload] {
  let columns = 1024
  let rows = bytes / 4 / columns
  let block = RowMajorBlock(
    base: region.slice(0, rows * columns).baseAddress!, rows: rows, columns: columns, rowStride: columns)
  let w = Region(floats: columns)
  let g = Region(floats: columns)
  let perRow = Region(floats: rows)
  let margins = Region(floats: rows)
  let x = block.base
  return [
    Workload(
      kernel: "margins X w", size: size, bytes: bytes,
      swift: { reps in
        for _ in 0..<reps {
          Dense.margins(of: block, model: UnsafeBufferPointer(w.floats), into: margins.floats)
        }
      },
      c: { reps in
        for _ in 0..<reps {
          cref_margins(x, rows, columns, columns, w.floats.baseAddress!, margins.floats.baseAddress!)
        }
      }, storage: [region, w, margins]),
    Workload(
      kernel: "g += Xᵀ c", size: size, bytes: bytes,
      swift: { reps in
        for _ in 0..<reps {
          Dense.accumulateTransposed(
            of: block, coefficients: UnsafeBufferPointer(perRow.floats), into: g.floats)
        }
      },
      c: { reps in
        for _ in 0..<reps {
          cref_accumulate_transposed(
            x, rows, columns, columns, perRow.floats.baseAddress!, g.floats.baseAddress!)
        }
      }, storage: [region, g, perRow]),
  ]
}

/// CSR rows for the sparse kernels: `rows` rows of `nnz` sorted random
/// column indices into a model of `features`.
public final class SparseRows: @unchecked Sendable {
  /// The column indices, row after row.
  public let indices: UnsafeMutableBufferPointer<Int32>
  /// The values, row after row.
  public let values: UnsafeMutableBufferPointer<Float>
  /// Non-zeros per row.
  public let nnz: Int
  /// Number of rows.
  public let rows: Int

  /// Rows drawn from a fixed seed, so every run measures the same data.
  public init(rows: Int, nnz: Int, features: Int) {
    self.rows = rows
    self.nnz = nnz
    indices = .allocate(capacity: rows * nnz)
    values = .allocate(capacity: rows * nnz)
    var state: UInt64 = 0x5EED
    for r in 0..<rows {
      var row = (0..<nnz).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Int32(truncatingIfNeeded: (state >> 33) % UInt64(features))
      }
      row.sort()
      for k in 0..<nnz {
        indices[r * nnz + k] = row[k]
        values[r * nnz + k] = 0.5 + Float(k) / Float(nnz)
      }
    }
  }

  deinit {
    indices.deallocate()
    values.deallocate()
  }

  /// Calls `body` with each row's indices and values, `reps` times over.
  @inline(__always)
  public func forEachRow(
    repeating reps: Int, _ body: (UnsafeBufferPointer<Int32>, UnsafeBufferPointer<Float>) -> Void
  ) {
    for _ in 0..<reps {
      for r in 0..<rows {
        body(
          UnsafeBufferPointer(rebasing: indices[(r * nnz)..<((r + 1) * nnz)]),
          UnsafeBufferPointer(rebasing: values[(r * nnz)..<((r + 1) * nnz)]))
      }
    }
  }
}

/// Sparse `dot` (gather) and `axpy` (scatter) over every row, against a
/// model of `model.floats.count` features. Bytes: index + value + model
/// float per non-zero (12 B) for dot, plus the model write (16 B) for axpy.
public func sparseWorkloads(rows: SparseRows, model: Region, size: String) -> [Workload] {
  let w = model.floats
  let total = rows.rows * rows.nnz
  return [
    Workload(
      kernel: "sparse dot", size: size, bytes: 12 * total,
      swift: { reps in
        rows.forEachRow(repeating: reps) { k, v in
          sink += Sparse.dot(indices: k, values: v, model: UnsafeBufferPointer(w))
        }
      },
      c: { reps in
        rows.forEachRow(repeating: reps) { k, v in
          sink += cref_sparse_dot(k.baseAddress!, v.baseAddress!, rows.nnz, w.baseAddress!)
        }
      }, storage: [rows, model]),
    Workload(
      kernel: "sparse axpy", size: size, bytes: 16 * total,
      swift: { reps in
        rows.forEachRow(repeating: reps) { k, v in
          Sparse.axpy(1e-9, indices: k, values: v, into: w)
        }
      },
      c: { reps in
        rows.forEachRow(repeating: reps) { k, v in
          cref_sparse_axpy(1e-9, k.baseAddress!, v.baseAddress!, rows.nnz, w.baseAddress!)
        }
      }, storage: [rows, model]),
  ]
}

/// The lock-free (relaxed atomic) kernels against their plain twins, both
/// in Swift: what Hogwild!'s defined-behaviour access costs. "c" here is the
/// plain (racy) kernel.
public func sharedWorkloads(region: Region, bytes: Int, size: String, rows: SparseRows, model: Region)
  -> [Workload]
{
  let n = bytes / 8
  let (x, y) = operands(region: region, count: n)
  let w = model.floats
  return [
    Workload(
      kernel: "step relaxed/racy", size: size, bytes: 20 * n,
      swift: { reps in for _ in 0..<reps { sink += Shared.step(x, model: y) { m in -1e-9 * m } } },
      c: { reps in for _ in 0..<reps { sink += Shared.racyStep(x, model: y) { m in -1e-9 * m } } },
      storage: [region]),
    Workload(
      kernel: "dot relaxed/plain", size: size, bytes: 8 * n,
      swift: { reps in for _ in 0..<reps { sink += Shared.dot(x, model: y) } },
      c: { reps in for _ in 0..<reps { sink += Dense.dot(x, UnsafeBufferPointer(y)) } }, storage: [region]),
    Workload(
      kernel: "sparse dot+axpy relaxed/plain", size: "model \(sizeLabel(bytes: model.floats.count * 4))",
      bytes: 28 * rows.rows * rows.nnz,
      swift: { reps in
        rows.forEachRow(repeating: reps) { k, v in
          let m = Shared.sparseDot(indices: k, values: v, model: w)
          Shared.sparseAxpy(-1e-9 * m, indices: k, values: v, model: w)
        }
      },
      c: { reps in
        rows.forEachRow(repeating: reps) { k, v in
          let m = Sparse.dot(indices: k, values: v, model: UnsafeBufferPointer(w))
          Sparse.axpy(-1e-9 * m, indices: k, values: v, into: w)
        }
      }, storage: [rows, model]),
  ]
}

/// "128 KB", "64 MB": a byte count in the larger unit that divides it.
public func sizeLabel(bytes: Int) -> String {
  bytes >= 1 << 20 && bytes % (1 << 20) == 0 ? "\(bytes >> 20) MB" : "\(bytes >> 10) KB"
}
