import Foundation
import Testing

@testable import Profiling

@Suite("Bandwidth cache")
struct BandwidthCacheTests {
  @Test("measured once, then read back; new figures replace old ones; a damaged file counts as empty")
  func roundTrip() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bw-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let cache = BandwidthCache(path: folder + "/sounder/bandwidth.json")
    #expect(cache.entries().isEmpty)
    let a = BandwidthCache.Entry(
      machine: "cpu A; 1 NUMA node", threads: 1, gigabytesPerSecond: 10, measured: 1)
    let b = BandwidthCache.Entry(
      machine: "cpu A; 1 NUMA node", threads: 2, gigabytesPerSecond: 18, measured: 1)
    cache.store([a, b])
    #expect(cache.lookup(machine: a.machine, threads: 2) == b)
    var newer = a
    newer.gigabytesPerSecond = 11
    cache.store([newer])
    #expect(cache.entries().count == 2)
    #expect(cache.lookup(machine: a.machine, threads: 1)?.gigabytesPerSecond == 11)
    #expect(cache.lookup(machine: "cpu B; 1 NUMA node", threads: 1) == nil)
    try Data("{not json".utf8).write(to: URL(fileURLWithPath: cache.path))
    #expect(cache.entries().isEmpty)
    cache.store([a])
    #expect(cache.entries() == [a])
  }
}
