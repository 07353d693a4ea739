import Dataset
import Testing

/// Rows in a caller's memory (what the C library hands the engine): float32
/// values and int32 indices read where they are, float64 and int64 converted
/// once and checked, and every problem refused with the row.
@Suite("Rows from a caller's memory")
struct CallerRowsTests {
  let values: [Float] = [1, 2, 3, 4, 5, 6]
  let labels: [Float] = [0, 1, 0]

  @Test("float32 dense rows are read where they are; float64 ones are converted once")
  func dense() throws {
    try values.withUnsafeBufferPointer { x in
      try labels.withUnsafeBufferPointer { y in
        let borrowed = try ReadableRows.borrowing(
          dense: .float32(x.baseAddress!), rows: 3, columns: 2, labels: y.baseAddress!, weights: nil,
          source: "test")
        #expect(borrowed.block.features == x.baseAddress!)
        #expect(Array(borrowed.block.denseRow(2)) == [5, 6])
        #expect(borrowed.block.label(1) == 1)
        let doubles = values.map(Double.init)
        let converted = try doubles.withUnsafeBufferPointer { d in
          try ReadableRows.borrowing(
            dense: .float64(d.baseAddress!), rows: 3, columns: 2, labels: nil, weights: nil, source: "test")
        }
        // The doubles are gone; the conversion lives with the rows.
        #expect((0..<3).flatMap { Array(converted.block.denseRow($0)) } == values)
        #expect((0..<3).map(converted.block.label) == [0, 0, 0])
      }
    }
  }

  @Test("CSR rows: int32 indices and float32 values borrowed, int64 and float64 converted, the same rows")
  func csr() throws {
    let offsets: [Int64] = [0, 2, 2, 3]
    let narrow: [Int32] = [0, 3, 1]
    let wide: [Int64] = [0, 3, 1]
    let singles: [Float] = [1.5, -2, 4]
    let doubles: [Double] = [1.5, -2, 4]
    try offsets.withUnsafeBufferPointer { o in
      try narrow.withUnsafeBufferPointer { i in
        try singles.withUnsafeBufferPointer { v in
          let borrowed = try ReadableRows.borrowing(
            csr: o.baseAddress!, indices: .int32(i.baseAddress!), values: .float32(v.baseAddress!), rows: 3,
            columns: 4, labels: nil, weights: nil, source: "test")
          #expect(borrowed.block.indices == i.baseAddress! && borrowed.block.features == v.baseAddress!)
        }
      }
      let converted = try wide.withUnsafeBufferPointer { i in
        try doubles.withUnsafeBufferPointer { v in
          try ReadableRows.borrowing(
            csr: o.baseAddress!, indices: .int64(i.baseAddress!), values: .float64(v.baseAddress!), rows: 3,
            columns: 4, labels: nil, weights: nil, source: "test")
        }
      }
      #expect(Array(converted.block.sparseRow(0).indices) == [0, 3])
      #expect(Array(converted.block.sparseRow(0).values) == [1.5, -2])
      #expect(converted.block.sparseRow(1).indices.isEmpty)
      #expect(Array(converted.block.sparseRow(2).indices) == [1])
    }
  }

  @Test("what cannot be rows gets one line naming the row")
  func refused() {
    func csr(_ offsets: [Int64], _ indices: [Int64], columns: Int = 4) -> String? {
      let x = [Double](repeating: 1, count: max(indices.count, 1))
      do {
        _ = try offsets.withUnsafeBufferPointer { o in
          try indices.withUnsafeBufferPointer { i in
            try x.withUnsafeBufferPointer { v in
              try ReadableRows.borrowing(
                csr: o.baseAddress!, indices: .int64(i.baseAddress ?? UnsafePointer(bitPattern: 8)!),
                values: .float64(v.baseAddress!), rows: offsets.count - 1, columns: columns, labels: nil,
                weights: nil, source: "rows")
            }
          }
        }
        return nil
      } catch { return "\(error)" }
    }
    #expect(csr([1, 2], [0, 1]) == "rows: the row offsets must start at 0, not 1")
    #expect(
      csr([0, 1, 2], [0, 9]) == "rows: row 2: column index 9 must be ≥ 0 and below 4, the column count")
    #expect(
      csr([0, 1, 2], [0, -1]) == "rows: row 2: column index -1 must be ≥ 0 and below 4, the column count")
    #expect(csr([0, 2, 1], [0, 1]) == "rows: row 2: row offset 1 is below the previous one, 2")
    #expect(csr([0, 0], [], columns: 0) == "rows: 1 rows × 0 columns: rows must be ≥ 0 and columns ≥ 1")
    // Values are checked where they are first read: by checked(), or a row at a time.
    let bad: [Double] = [1, .nan, 2, .infinity]
    let nan = DatasetError.invalidRow(
      source: "rows", row: 1, problem: "feature value NaN is not a finite number")
    #expect(throws: nan) {
      try bad.withUnsafeBufferPointer { d in
        try ReadableRows.borrowing(
          dense: .float64(d.baseAddress!), rows: 4, columns: 1, labels: nil, weights: nil, source: "rows"
        ).checked(threads: 2)
      }
    }
    let readable = try? bad.withUnsafeBufferPointer { d in
      try ReadableRows.borrowing(
        dense: .float64(d.baseAddress!), rows: 4, columns: 1, labels: nil, weights: nil, source: "rows")
    }
    #expect(readable?.firstProblem(inRow: 0) == nil)
    #expect(readable?.firstProblem(inRow: 1) == nan)
    #expect(
      readable?.firstProblem(inRow: 3)
        == .invalidRow(source: "rows", row: 3, problem: "feature value infinity is not a finite number"))
    // A label is checked at once.
    let labels: [Float] = [0, .nan]
    #expect(
      throws: DatasetError.invalidRow(source: "rows", row: 1, problem: "label NaN is not a finite number")
    ) {
      try bad.withUnsafeBufferPointer { d in
        try labels.withUnsafeBufferPointer { y in
          try ReadableRows.borrowing(
            dense: .float64(d.baseAddress!), rows: 2, columns: 1, labels: y.baseAddress!, weights: nil,
            source: "rows")
        }
      }
    }
  }
}
