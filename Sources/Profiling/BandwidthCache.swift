import Dataset
import Foundation
import Topology

/// Read bandwidths measured once per machine and thread count, kept in the
/// user's cache folder, so that a training run does not pay for a probe
/// (0.2–0.4 s and 256 MiB) every time it starts.
///
/// The file is `$XDG_CACHE_HOME/sounder/bandwidth.json` (or
/// `~/.cache/sounder/bandwidth.json`). A machine is its CPU model and its
/// topology (``Topology/summary``); `sounder bandwidth` re-measures and
/// replaces what it measured. The file is written atomically; a damaged or
/// unreadable one counts as empty and is rewritten.
public struct BandwidthCache: Sendable {
  /// The JSON file.
  public let path: String

  /// One measurement: GB/s of the read kernel with `threads` pinned threads.
  public struct Entry: Codable, Equatable, Sendable {
    public var machine: String
    public var threads: Int
    public var gigabytesPerSecond: Double
    /// Seconds since 1970 when it was measured.
    public var measured: Double

    public init(machine: String, threads: Int, gigabytesPerSecond: Double, measured: Double) {
      self.machine = machine
      self.threads = threads
      self.gigabytesPerSecond = gigabytesPerSecond
      self.measured = measured
    }
  }

  /// The cache at `path`.
  public init(path: String) { self.path = path }

  /// The user's cache: `$XDG_CACHE_HOME/sounder/bandwidth.json`, or under
  /// `~/.cache` when that is not set.
  public static var user: BandwidthCache {
    let environment = ProcessInfo.processInfo.environment
    let base =
      environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
      ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.cache"
    return BandwidthCache(path: base + "/sounder/bandwidth.json")
  }

  /// What identifies `topology`'s machine: its CPU model and its shape.
  public static func machineKey(_ topology: Topology) -> String {
    let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
    let model =
      cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
      .flatMap { $0.split(separator: ":", maxSplits: 1).last }
      .map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown CPU"
    #if DEBUG
      // An unoptimised probe reads far slower than the memory can: keep its figures apart.
      return "\(model); \(topology.summary); debug build"
    #else
      return "\(model); \(topology.summary)"
    #endif
  }

  /// Every entry (none when the file is missing or damaged).
  public func entries() -> [Entry] {
    guard let data = FileManager.default.contents(atPath: path) else { return [] }
    return (try? JSONDecoder().decode([Entry].self, from: data)) ?? []
  }

  /// The measurement for `machine` with `threads` threads, if any.
  public func lookup(machine: String, threads: Int) -> Entry? {
    entries().first { $0.machine == machine && $0.threads == threads }
  }

  /// Records `entries`, replacing those of the same machine and thread
  /// count. Failing to write (a read-only home) is not an error: the next
  /// run measures again.
  public func store(_ new: [Entry]) {
    var all = entries().filter { old in
      !new.contains { $0.machine == old.machine && $0.threads == old.threads }
    }
    all += new
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    guard let data = try? encoder.encode(all) else { return }
    let folder = (path as NSString).deletingLastPathComponent
    try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    guard let file = try? OutputFile(creating: path) else { return }
    try? data.withUnsafeBytes { try file.write($0) }
    try? file.commit()
  }

  /// The read bandwidth of `threads` threads on `topology`, in bytes per
  /// second: from the cache when measured before, otherwise measured now
  /// with `probe` (and recorded). Returns the figure and whether it came
  /// from the cache.
  public func readBandwidth(
    threads: Int, topology: Topology, probe: BandwidthProbe
  ) throws -> (bytesPerSecond: Double, cached: Bool) {
    let machine = Self.machineKey(topology)
    if let entry = lookup(machine: machine, threads: threads) {
      return (entry.gigabytesPerSecond * 1e9, true)
    }
    let measured = try probe.measure(.read, threads: threads).gigabytesPerSecond
    store([
      Entry(
        machine: machine, threads: threads, gigabytesPerSecond: measured,
        measured: Date().timeIntervalSince1970)
    ])
    return (measured * 1e9, false)
  }
}
