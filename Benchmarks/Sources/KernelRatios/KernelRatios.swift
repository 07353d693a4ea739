import CReference
import Foundation
import KernelWorkloads
import Sounder

/// Prints the kernel ratio table of BENCHMARKS.md: Swift kernels against C
/// references in one run, then the all-core DRAM dot against a read probe.
@main
struct KernelRatios {
  /// Swift must reach this fraction of C.
  static let ratioTarget = 0.9
  /// The all-core dot must reach this fraction of the read probe.
  static let bandwidthTarget = 0.85

  static func main() throws {
    let samples = Int(ProcessInfo.processInfo.environment["SAMPLES"] ?? "") ?? 15
    let team = try PinnedTeam()
    print("Sounder kernels: Swift against C (-O3 -march=native), best of \(samples), 1 thread unless noted")
    print(
      "machine: \(cpuName()), \(team.topology.cores.count) cores, \(team.topology.nodes.count) NUMA node(s)")
    print("")

    let gigabyte = 1 << 30
    let region = Region(floats: gigabyte / 4 + 1024)
    var rows: [[String]] = []
    var misses = 0
    func measure(_ workload: Workload, dram: Bool) {
      let best = bestOfInterleaved(workload, samples: samples, minimum: dram ? 0 : 0.005)
      let swift = Double(workload.bytes) / best.swift / 1e9
      let c = Double(workload.bytes) / best.c / 1e9
      let ratio = swift / c
      if ratio < ratioTarget { misses += 1 }
      rows.append([
        workload.kernel, workload.size, fmt(swift), fmt(c), fmt(ratio, 2),
        ratio >= ratioTarget ? "yes" : "NO",
      ])
    }
    for (bytes, size) in [(4 << 10, "4 KB"), (256 << 10, "256 KB"), (gigabyte, "1 GB")] {
      for workload in denseWorkloads(region: region, bytes: bytes, size: size) {
        measure(workload, dram: bytes == gigabyte)
      }
    }
    for (bytes, size) in [(256 << 10, "256 KB"), (gigabyte, "1 GB")] {
      for workload in blockWorkloads(region: region, bytes: bytes, size: size) {
        measure(workload, dram: bytes == gigabyte)
      }
    }
    let sparseRows = SparseRows(rows: 16384, nnz: 64, features: 16 << 20)
    for features in [32 << 10, 16 << 20] {
      let model = Region(floats: features)
      let size = "model \(sizeLabel(bytes: features * 4))"
      let fitted = features == 32 << 10 ? SparseRows(rows: 16384, nnz: 64, features: features) : sparseRows
      for workload in sparseWorkloads(rows: fitted, model: model, size: size) {
        measure(workload, dram: false)
      }
    }
    printTable(["kernel", "size", "Swift GB/s", "C GB/s", "Swift/C", "≥ 0.9?"], rows)

    print("")
    print("Lock-free access (Swift only): relaxed atomics against the plain kernel")
    var shared: [[String]] = []
    let smallModel = Region(floats: 32 << 10)
    let smallRows = SparseRows(rows: 16384, nnz: 64, features: 32 << 10)
    for (bytes, size) in [(4 << 10, "4 KB"), (256 << 10, "256 KB")] {
      for workload in sharedWorkloads(
        region: region, bytes: bytes, size: size, rows: smallRows, model: smallModel)
      where bytes == 4 << 10 || !workload.kernel.hasPrefix("sparse") {
        let best = bestOfInterleaved(workload, samples: samples, minimum: 0.005)
        let relaxed = Double(workload.bytes) / best.swift / 1e9
        let plain = Double(workload.bytes) / best.c / 1e9
        shared.append([workload.kernel, workload.size, fmt(relaxed), fmt(plain), fmt(relaxed / plain, 2)])
      }
    }
    printTable(["kernel", "size", "relaxed GB/s", "plain GB/s", "relaxed/plain"], shared)

    print("")
    let threads = team.count
    print("All cores (\(threads) threads pinned, spread): DRAM-resident dot against a read probe")
    let half = gigabyte / 8
    let share = half / threads
    // Worker w reads x[w·share ..< (w+1)·share] and the same slice of y = x + half;
    // the one-stream probe reads the same bytes as one run per worker.
    let x: @Sendable (Int) -> UnsafeBufferPointer<Float> = { w in region.slice(w * share, share) }
    let y: @Sendable (Int) -> UnsafeBufferPointer<Float> = { w in region.slice(half + w * share, share) }
    var best = (swift: Double.infinity, c: Double.infinity, probe1: Double.infinity, probe2: Double.infinity)
    for _ in 0..<samples {
      best.swift = min(best.swift, team.run { w in sink += Dense.dot(x(w), y(w)) })
      best.c = min(best.c, team.run { w in sink += cref_dot(x(w).baseAddress!, y(w).baseAddress!, share) })
      best.probe1 = min(
        best.probe1,
        team.run { w in sink += cref_read_sum(region.slice(w * 2 * share, 2 * share).baseAddress!, 2 * share)
        })
      best.probe2 = min(
        best.probe2, team.run { w in sink += cref_read_sum2(x(w).baseAddress!, y(w).baseAddress!, share) })
    }
    let bytes = Double(2 * half * 4)
    let probe = bytes / min(best.probe1, best.probe2) / 1e9
    let swiftGBs = bytes / best.swift / 1e9
    let fraction = swiftGBs / probe
    if fraction < bandwidthTarget { misses += 1 }
    printTable(
      ["kernel", "size", "GB/s", "of probe", "≥ 0.85?"],
      [
        [
          "read probe, 1 stream", "1 GB", fmt(bytes / best.probe1 / 1e9),
          fmt(bytes / best.probe1 / 1e9 / probe, 2), "",
        ],
        [
          "read probe, 2 streams", "1 GB", fmt(bytes / best.probe2 / 1e9),
          fmt(bytes / best.probe2 / 1e9 / probe, 2), "",
        ],
        ["dot, C", "1 GB", fmt(bytes / best.c / 1e9), fmt(bytes / best.c / 1e9 / probe, 2), ""],
        ["dot, Swift", "1 GB", fmt(swiftGBs), fmt(fraction, 2), fraction >= bandwidthTarget ? "yes" : "NO"],
      ])
    print("(\"of probe\": against the faster of the two probes)")
    print("")
    print(misses == 0 ? "all targets met" : "\(misses) target(s) missed")
    if sink == .infinity { print("") }
  }

  /// The CPU model from /proc/cpuinfo, or "unknown CPU".
  static func cpuName() -> String {
    guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
      let line = info.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
      let name = line.split(separator: ":", maxSplits: 1).last
    else { return "unknown CPU" }
    return name.trimmingCharacters(in: .whitespaces)
  }

  static func fmt(_ value: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", value) }

  /// Prints rows under a header as a Markdown table with padded columns.
  static func printTable(_ header: [String], _ rows: [[String]]) {
    let all = [header] + rows
    let widths = header.indices.map { c in all.map { $0[c].count }.max()! }
    func line(_ cells: [String]) -> String {
      "| "
        + cells.indices.map { c in cells[c].padding(toLength: widths[c], withPad: " ", startingAt: 0) }
        .joined(separator: " | ") + " |"
    }
    print(line(header))
    print("| " + widths.map { String(repeating: "-", count: $0) }.joined(separator: " | ") + " |")
    for row in rows { print(line(row)) }
  }
}
