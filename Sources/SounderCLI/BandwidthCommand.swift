import ArgumentParser
import Foundation
import Sounder

/// `sounder bandwidth`: the memory bandwidth pinned threads get, the floor
/// training epochs are measured against.
struct BandwidthCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bandwidth",
    abstract: "Measure memory read and triad bandwidth (STREAM-style) with pinned threads.",
    discussion: """
      Each thread reads (or triads) its own slice of the working set, allocated on its \
      NUMA node; the best of --repetitions runs counts. On machines with several NUMA \
      nodes, also prints read bandwidth from every node's cores to every node's memory. \
      With the spread policy and a working set of 256MiB or more, the read figures replace those kept in \
      $XDG_CACHE_HOME/sounder/bandwidth.json (~/.cache/sounder), which `train` \
      compares its epochs against instead of measuring at every start.
      """
  )

  @Option(
    help: ArgumentHelp(
      "Thread counts to measure, comma-separated (default: 1 up to one per core, doubling).",
      valueName: "n,n,..."))
  var threads: String?

  @Option(help: "Working set, e.g. 512MiB or 2GiB (at least 4× the last-level caches).")
  var size: String = "1GiB"

  @Option(help: "Timed repetitions per measurement; the best counts.")
  var repetitions: Int = 5

  @Option(help: "Placement policy: spread or close.")
  var policy: PlacementPolicy = .spread

  @Flag(help: "Print JSON instead of text.")
  var json = false

  func validate() throws {
    guard repetitions >= 1 else {
      throw ValidationError("--repetitions must be at least 1 (got \(repetitions))")
    }
  }

  func run() throws {
    let topology = try Topology.current()
    let counts = try parseThreadCounts(
      threads, maximum: topology.processingUnits.count, default: topology.cores.count)
    let bytes = try parseByteCount(size, option: "--size")
    let probe = BandwidthProbe(topology: topology, bytes: bytes, repetitions: repetitions, policy: policy)
    let measurements = try probe.sweep(threadCounts: counts)
    let matrix = topology.nodes.count > 1 ? try probe.nodeMatrix() : nil
    // What training compares its epochs against from now on (read, spread placement,
    // a working set at least as large as the one train measures with).
    if policy == .spread, bytes >= 256 << 20 {
      let machine = BandwidthCache.machineKey(topology)
      let now = Date().timeIntervalSince1970
      BandwidthCache.user.store(
        measurements.filter { $0.kernel == .read }.map {
          BandwidthCache.Entry(
            machine: machine, threads: $0.threads, gigabytesPerSecond: $0.gigabytesPerSecond, measured: now)
        })
    }

    if json {
      struct Report: Encodable {
        var measurements: [BandwidthMeasurement]
        var nodeReadMatrixGBps: [[Double]]?
      }
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      print(
        String(
          decoding: try encoder.encode(Report(measurements: measurements, nodeReadMatrixGBps: matrix)),
          as: UTF8.self))
      return
    }
    print(
      "Memory bandwidth, \(formatBytes(UInt64(bytes))) working set, best of \(repetitions), policy \(policy.rawValue)"
    )
    var rows = [["threads", "read GB/s", "per thread", "triad GB/s", "per thread"]]
    for threads in counts {
      let read = measurements.first { $0.threads == threads && $0.kernel == .read }!
      let triad = measurements.first { $0.threads == threads && $0.kernel == .triad }!
      rows.append([
        "\(threads)", decimal(read.gigabytesPerSecond), decimal(read.gigabytesPerSecond / Double(threads)),
        decimal(triad.gigabytesPerSecond), decimal(triad.gigabytesPerSecond / Double(threads)),
      ])
    }
    print(table(rows), terminator: "")
    if let matrix {
      print("\nRead GB/s, all cores of one node (row) reading memory of another (column)")
      var matrixRows = [["cpu\\mem"] + topology.nodes.map { "\($0.index)" }]
      for (node, row) in matrix.enumerated() { matrixRows.append(["\(node)"] + row.map(decimal)) }
      print(table(matrixRows), terminator: "")
    }
  }
}

/// "1,2,4" → [1, 2, 4]; nil → 1, 2, 4, ... up to `default`, then `default`.
func parseThreadCounts(_ text: String?, maximum: Int, default defaultMaximum: Int) throws -> [Int] {
  guard let text else {
    var counts: [Int] = []
    var threads = 1
    while threads < defaultMaximum {
      counts.append(threads)
      threads *= 2
    }
    return counts + [defaultMaximum]
  }
  return try text.split(separator: ",", omittingEmptySubsequences: false).map { item in
    let trimmed = item.trimmingCharacters(in: .whitespaces)
    guard let value = Int(trimmed) else {
      throw CLIError(
        "--threads: expected whole numbers separated by commas, found \"\(trimmed)\" in \"\(text)\"")
    }
    guard value >= 1 else { throw CLIError("--threads must be at least 1 (got \(value))") }
    guard value <= maximum else {
      throw CLIError(
        "--threads \(value) is more than the \(maximum) processing units of this machine; use at most \(maximum)"
      )
    }
    return value
  }
}

/// "512MiB", "2GiB", "1e9", "100MB" → bytes.
func parseByteCount(_ text: String, option: String) throws -> Int {
  let units: [(String, Double)] = [
    ("KiB", 0x1p10), ("MiB", 0x1p20), ("GiB", 0x1p30), ("TiB", 0x1p40),
    ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12), ("K", 0x1p10), ("M", 0x1p20), ("G", 0x1p30),
    ("B", 1),
  ]
  let trimmed = text.trimmingCharacters(in: .whitespaces)
  let (number, scale) =
    units.first { trimmed.hasSuffix($0.0) }.map { (String(trimmed.dropLast($0.0.count)), $0.1) } ?? (
      trimmed, 1
    )
  guard let value = Double(number.trimmingCharacters(in: .whitespaces)), value.isFinite, value * scale >= 1,
    value * scale < 1e18
  else {
    throw CLIError("\(option): expected a size such as 512MiB or 2GiB, found \"\(text)\"")
  }
  return Int(value * scale)
}

/// Two decimals.
func decimal(_ value: Double) -> String { String(format: "%.2f", value) }
