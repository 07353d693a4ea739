import Dataset
import Testing

/// CSR rows in arrays, damaged on purpose, and a plain scalar twin of the
/// check that `CheckedRows` does with threads and SIMD.
private struct Rows {
  var columns = 12
  var offsets: [Int64] = [0]
  var indices: [Int32] = []
  var values: [Float] = []
  var labels: [Float] = []
  var weights: [Float]?

  init(rows: Int, seed: UInt64, dense: Bool = false) {
    var state = seed
    func next() -> UInt64 {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return state >> 33
    }
    for _ in 0..<rows {
      if dense {
        for _ in 0..<columns { values.append(Float(next() % 100) / 10) }
      } else {
        for column in 0..<columns where next() % 3 == 0 {
          indices.append(Int32(column))
          values.append(Float(next() % 100) / 10 - 5)
        }
        offsets.append(Int64(indices.count))
      }
      labels.append(next() % 2 == 0 ? 1 : 0)
    }
    self.dense = dense
  }

  let dense: Bool

  /// The rows as a block over these arrays, checked.
  func check(threads: Int) -> DatasetError? {
    offsets.withUnsafeBufferPointer { o in
      indices.withUnsafeBufferPointer { i in
        values.withUnsafeBufferPointer { v in
          labels.withUnsafeBufferPointer { l in
            let checked = { (w: UnsafePointer<Float>?) -> DatasetError? in
              let block = RowBlock(
                count: labels.count, columns: columns, layout: dense ? .dense : .csr,
                features: v.baseAddress!,
                offsets: o.baseAddress!, indices: i.baseAddress ?? UnsafePointer(bitPattern: 4)!,
                labels: l.baseAddress!, weights: w)
              do throws(DatasetError) {
                _ = try CheckedRows(block, source: "rows", threads: threads)
                return nil
              } catch { return error }
            }
            guard let weights else { return checked(nil) }
            return weights.withUnsafeBufferPointer { checked($0.baseAddress!) }
          }
        }
      }
    }
  }

  /// The scalar twin: the first row (from 0) that breaks a rule, row by row.
  func firstBadRow() -> Int? {
    for row in 0..<labels.count {
      if !dense {
        guard offsets[row] <= offsets[row + 1] else { return row }
      }
    }
    for row in 0..<labels.count {
      let span = dense ? (row * columns)..<((row + 1) * columns) : Int(offsets[row])..<Int(offsets[row + 1])
      if values[span].contains(where: { !$0.isFinite }) { return row }
      if !dense {
        var previous: Int32 = -1
        for index in indices[span] {
          if index <= previous || index >= Int32(columns) { return row }
          previous = index
        }
      }
      if !labels[row].isFinite { return row }
      if let weights, !(weights[row].isFinite && weights[row] >= 0) { return row }
    }
    return nil
  }
}

@Suite("Checked rows")
struct CheckedRowsTests {
  @Test("good rows pass, dense and CSR, with and without weights")
  func goodRows() {
    for dense in [false, true] {
      var rows = Rows(rows: 300, seed: 1, dense: dense)
      #expect(rows.check(threads: 3) == nil)
      rows.weights = Array(repeating: 0.5, count: 300)
      #expect(rows.check(threads: 1) == nil)
    }
  }

  @Test(
    "each kind of damage is found at the row the scalar twin finds, for any thread count",
    arguments: 0..<7)
  func damage(kind: Int) {
    for seed in 1...25 as ClosedRange<UInt64> {
      var rows = Rows(rows: 97, seed: seed, dense: kind == 6)
      var pick = seed &* 2_654_435_761
      func position(_ count: Int) -> Int {
        pick = pick &* 6_364_136_223_846_793_005 &+ 1
        return Int((pick >> 33) % UInt64(count))
      }
      switch kind {
      case 0: rows.values[position(rows.values.count)] = .nan
      case 1: rows.indices[position(rows.indices.count)] = Int32(rows.columns + position(3))
      case 2:
        // A repeated or decreasing index (where the row has two or more).
        let from = position(60)
        let candidates = (from..<97).filter { rows.offsets[$0 + 1] - rows.offsets[$0] >= 2 }
        let row: Int = candidates.first ?? 0
        rows.indices[Int(rows.offsets[row]) + 1] = rows.indices[Int(rows.offsets[row])]
      case 3: rows.offsets[1 + position(96)] = rows.offsets[97] + 1
      case 4: rows.labels[position(97)] = -.infinity
      case 5:
        rows.weights = Array(repeating: 1, count: 97)
        rows.weights![position(97)] = -1
      default: rows.values[position(rows.values.count)] = .infinity
      }
      let expected = rows.firstBadRow()
      #expect(expected != nil, "the damage of kind \(kind) broke no rule")
      for threads in [1, 2, 5] {
        guard case .invalidRow(_, let row, _) = rows.check(threads: threads) else {
          Issue.record("kind \(kind), seed \(seed), \(threads) threads: not refused")
          continue
        }
        #expect(row == expected, "kind \(kind), seed \(seed), \(threads) threads")
      }
    }
  }

  @Test("the error names the source, the row from 1 and the rule")
  func message() {
    var rows = Rows(rows: 10, seed: 3)
    rows.indices[Int(rows.offsets[4])] = 40
    #expect(
      rows.check(threads: 2)?.description == "rows: row 5: column index 40 must be below 12, the column count"
    )
  }

  @Test("finite scan: a bad value anywhere in a block of sixteen, or in the tail, is the one found")
  func finiteScan() {
    for count in [0, 1, 15, 16, 17, 33, 100] {
      for bad in 0..<count {
        var values = [Float](repeating: 1, count: count)
        values[bad] = .nan
        if bad + 3 < count { values[bad + 3] = .infinity }
        let labels = [Float](repeating: 0, count: count)
        let error = values.withUnsafeBufferPointer { v in
          labels.withUnsafeBufferPointer { l in
            let rows = RowBlock(
              count: count, columns: 1, layout: .dense, features: v.baseAddress!,
              offsets: UnsafePointer(bitPattern: 8)!, indices: UnsafePointer(bitPattern: 4)!,
              labels: l.baseAddress!, weights: nil)
            do throws(DatasetError) {
              _ = try CheckedRows(rows, source: "v")
              return DatasetError?.none
            } catch { return error }
          }
        }
        #expect(
          error == .invalidRow(source: "v", row: bad, problem: "feature value NaN is not a finite number"))
      }
    }
  }
}
