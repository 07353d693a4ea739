import Foundation
import Sounder

/// What the ranks of an MPI job say to each other outside training: that
/// they all read the same data, and, at the end, each rank's figures for
/// rank 0's log. Each rank fills its own slots of a table of zeros and a sum
/// over the ranks (``Reducer/allReduceSum(_:)-(UnsafeMutableBufferPointer<Double>)``)
/// completes it, so every rank sees every rank's row.
enum Ranks {
  /// What must be the same on every rank, in the order `agree` compares it.
  private static let described = [
    "layout", "label kind", "rows", "features", "stored values", "checksum", "class names' checksum",
  ]

  /// Throws, on every rank alike, when a rank's `dataset` differs from rank
  /// 0's in its layout, label kind, size or section checksums (a rank that
  /// mapped another file than the others under the same path): the ranks
  /// must train on one problem. With `ownRows` (each rank's file is its own
  /// share), only the layout, label kind, feature count and class names
  /// must agree.
  static func agree(on dataset: Dataset, path: String, group: any Reducer, ownRows: Bool = false) throws {
    guard group.processes > 1 else { return }
    let header = dataset.header
    // The sections' CRC-32Cs folded into 32 bits, exact in a Double.
    let checksum = header.sections.reduce(UInt32(0)) { $0 &* 0x0100_0193 ^ $1.checksum }
    let mine: [Double] = [
      Double(header.layout.rawValue), Double(header.labelKind.rawValue), Double(header.rows),
      Double(header.columns), Double(header.nonZeros), Double(checksum), Double(header[.classNames].checksum),
    ]
    let compared = ownRows ? [0, 1, 3, 6] : [0, 1, 2, 3, 4, 5]
    let table = try gather(mine, group: group)
    let width = mine.count
    for rank in 1..<group.processes {
      for field in compared where table[rank * width + field] != table[field] {
        let theirs = text(table[rank * width + field], field: field)
        let first = text(table[field], field: field)
        throw CLIError(
          "rank \(rank)'s \(path) differs from rank 0's in its \(described[field]) (\(theirs) against \(first)): \(ownRows ? "every rank's file must hold the same kind of rows" : "every rank must map the same data")"
        )
      }
    }
  }

  /// Rank 0's lines about every rank: its workers and first CPU, rows, the
  /// slowest worker's compute and wait seconds, seconds in reductions and
  /// bytes sent. Every rank calls it.
  static func report(
    rows: Int, workers: [WorkerStats], placement: [Int], group: any Reducer, note: (String) -> Void
  ) throws {
    guard group.processes > 1 else { return }
    let mine: [Double] = [
      Double(rows), workers.map(\.counts.computeSeconds).max() ?? 0,
      workers.map(\.counts.waitSeconds).max() ?? 0, group.reduceSeconds, Double(group.bytesSent),
      Double(placement.count), Double(placement.min() ?? 0),
    ]
    let table: [Double]
    do { table = try gather(mine, group: group) } catch {
      throw CLIError("gathering the ranks' figures failed: \(error)")
    }
    note("Processes: \(group.processes) MPI ranks; rank 0 writes the model")
    for rank in 0..<group.processes {
      let row = Array(table[mine.count * rank..<mine.count * (rank + 1)])
      note(
        String(
          format:
            "  rank %d: %d workers from CPU %d, %d rows, compute %.3f s, wait %.3f s, all-reduce %.3f s, %.0f bytes sent",
          rank, Int(row[5]), Int(row[6]), Int(row[0]), row[1], row[2], row[3], row[4]))
    }
  }

  /// Every rank's `mine`, side by side in rank order.
  private static func gather(_ mine: [Double], group: any Reducer) throws -> [Double] {
    var table = [Double](repeating: 0, count: mine.count * group.processes)
    table.replaceSubrange(mine.count * group.rank..<mine.count * (group.rank + 1), with: mine)
    try table.withUnsafeMutableBufferPointer { try group.allReduceSum($0) }
    return table
  }

  private static func text(_ value: Double, field: Int) -> String {
    switch field {
    case 0: Layout(rawValue: UInt8(value)).map(\.description) ?? "?"
    case 1: LabelKind(rawValue: UInt8(value)).map(\.description) ?? "?"
    case 5, 6: String(UInt32(value), radix: 16)
    default: String(Int(value))
    }
  }
}
