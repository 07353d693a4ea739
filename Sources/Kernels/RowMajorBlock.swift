/// A block of dense rows laid out row-major in memory, with a stride between
/// rows that may exceed the row length (padding, or a sub-block of a wider
/// matrix). Rows start at any alignment.
public struct RowMajorBlock {
  /// The first element of the first row.
  public let base: UnsafePointer<Float>
  /// Number of rows.
  public let rows: Int
  /// Elements per row.
  public let columns: Int
  /// Elements from the start of one row to the start of the next; at least `columns`.
  public let rowStride: Int

  /// A view of `rows` rows of `columns` floats each, the rows `rowStride`
  /// floats apart, starting at `base`. The caller keeps the memory alive.
  public init(base: UnsafePointer<Float>, rows: Int, columns: Int, rowStride: Int) {
    precondition(rows >= 0 && columns >= 0, "a block of \(rows) × \(columns)")
    precondition(rowStride >= columns, "row stride \(rowStride) is shorter than a row of \(columns)")
    self.base = base
    self.rows = rows
    self.columns = columns
    self.rowStride = rowStride
  }

  /// The block over a buffer whose rows are packed (`rowStride == columns`).
  public init(packed buffer: UnsafeBufferPointer<Float>, columns: Int) {
    precondition(
      columns > 0 && buffer.count % columns == 0, "\(buffer.count) floats are not rows of \(columns)")
    self.init(
      base: buffer.baseAddress ?? UnsafePointer(bitPattern: MemoryLayout<Float>.alignment)!,
      rows: buffer.count / columns, columns: columns, rowStride: columns)
  }

  /// The first elements of rows `r`, `r + 1`, `r + 2` and `r + 3`, for the
  /// kernels that go through four rows together.
  @inline(__always)
  func fourRows(from r: Int) -> (
    UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>
  ) {
    let x0 = base + r &* rowStride
    return (x0, x0 + rowStride, x0 + 2 &* rowStride, x0 + 3 &* rowStride)
  }

  /// Row `r` as a buffer of `columns` floats.
  public subscript(row r: Int) -> UnsafeBufferPointer<Float> {
    precondition(r >= 0 && r < rows, "row \(r) of \(rows)")
    return UnsafeBufferPointer(start: base + r * rowStride, count: columns)
  }
}

extension Dense {
  /// The margins of every row of a block against one model, `mᵣ = xᵣ·w`
  /// (a matrix-vector product `m = X w`), written to `margins`.
  ///
  /// Four rows go through together, so each eight-lane slice of the model is
  /// loaded once for four rows.
  public static func margins(
    of block: RowMajorBlock, model w: UnsafeBufferPointer<Float>,
    into margins: UnsafeMutableBufferPointer<Float>
  ) {
    precondition(w.count == block.columns, "a model of \(w.count) for rows of \(block.columns)")
    precondition(margins.count == block.rows, "\(margins.count) margins for \(block.rows) rows")
    guard let ws = w.baseAddress, let ms = margins.baseAddress else { return }
    let n = block.columns
    let stride = block.rowStride
    var r = 0
    while r &+ 4 <= block.rows {
      let (x0, x1, x2, x3) = block.fourRows(from: r)
      // Two accumulators per row, eight in all, keep eight FMAs in flight.
      var a0 = SIMD8<Float>()
      var a1 = SIMD8<Float>()
      var a2 = SIMD8<Float>()
      var a3 = SIMD8<Float>()
      var b0 = SIMD8<Float>()
      var b1 = SIMD8<Float>()
      var b2 = SIMD8<Float>()
      var b3 = SIMD8<Float>()
      // Preconditions: rows x0…x3 and ws each hold n floats, any alignment.
      assert(n <= stride, "rows overlap")
      var j = 0
      while j &+ 16 <= n {
        // aₖ ← aₖ + x_{r+k}[j..<j+8] ⊙ w[j..<j+8];  bₖ likewise for j+8..<j+16
        let wj = load8(ws, j)
        let wk = load8(ws, j &+ 8)
        a0.addProduct(load8(x0, j), wj)
        a1.addProduct(load8(x1, j), wj)
        a2.addProduct(load8(x2, j), wj)
        a3.addProduct(load8(x3, j), wj)
        b0.addProduct(load8(x0, j &+ 8), wk)
        b1.addProduct(load8(x1, j &+ 8), wk)
        b2.addProduct(load8(x2, j &+ 8), wk)
        b3.addProduct(load8(x3, j &+ 8), wk)
        j &+= 16
      }
      if j &+ 8 <= n {
        let wj = load8(ws, j)
        a0.addProduct(load8(x0, j), wj)
        a1.addProduct(load8(x1, j), wj)
        a2.addProduct(load8(x2, j), wj)
        a3.addProduct(load8(x3, j), wj)
        j &+= 8
      }
      var m = SIMD4<Float>(
        horizontalSum(a0 + b0), horizontalSum(a1 + b1), horizontalSum(a2 + b2), horizontalSum(a3 + b3))
      while j < n {
        m.addProduct(SIMD4(x0[j], x1[j], x2[j], x3[j]), SIMD4(repeating: ws[j]))
        j &+= 1
      }
      ms[r] = m[0]
      ms[r &+ 1] = m[1]
      ms[r &+ 2] = m[2]
      ms[r &+ 3] = m[3]
      r &+= 4
    }
    while r < block.rows {
      ms[r] = dot(block.base + r &* stride, ws, count: n)
      r &+= 1
    }
  }

  /// Accumulates the transpose product `g ← g + Xᵀ c = g + Σᵣ cᵣ xᵣ`: the
  /// batch gradient of a linear model, given each row's coefficient
  /// `cᵣ = ℓ′(mᵣ, yᵣ)`.
  ///
  /// Four rows go through together, so each eight-lane slice of `g` is
  /// loaded and stored once for four rows.
  public static func accumulateTransposed(
    of block: RowMajorBlock, coefficients c: UnsafeBufferPointer<Float>,
    into g: UnsafeMutableBufferPointer<Float>
  ) {
    precondition(c.count == block.rows, "\(c.count) coefficients for \(block.rows) rows")
    precondition(g.count == block.columns, "a gradient of \(g.count) for rows of \(block.columns)")
    guard let cs = c.baseAddress, let gs = g.baseAddress else { return }
    let n = block.columns
    let stride = block.rowStride
    var r = 0
    while r &+ 4 <= block.rows {
      let (x0, x1, x2, x3) = block.fourRows(from: r)
      let c0 = SIMD8<Float>(repeating: cs[r])
      let c1 = SIMD8<Float>(repeating: cs[r &+ 1])
      let c2 = SIMD8<Float>(repeating: cs[r &+ 2])
      let c3 = SIMD8<Float>(repeating: cs[r &+ 3])
      // Preconditions: rows x0…x3 and gs each hold n floats, any alignment;
      // gs does not overlap the block.
      assert(n <= stride, "rows overlap")
      var j = 0
      while j &+ 8 <= n {
        // g[j..<j+8] ← g[j..<j+8] + Σₖ c_{r+k} x_{r+k}[j..<j+8]
        var sum = load8(gs, j)
        sum.addProduct(c0, load8(x0, j))
        sum.addProduct(c1, load8(x1, j))
        sum.addProduct(c2, load8(x2, j))
        sum.addProduct(c3, load8(x3, j))
        store8(sum, gs, j)
        j &+= 8
      }
      while j < n {
        let terms = SIMD4(cs[r], cs[r &+ 1], cs[r &+ 2], cs[r &+ 3]) * SIMD4(x0[j], x1[j], x2[j], x3[j])
        gs[j] += terms.sum()
        j &+= 1
      }
      r &+= 4
    }
    while r < block.rows {
      axpy(cs[r], block.base + r &* stride, gs, count: n)
      r &+= 1
    }
  }
}
