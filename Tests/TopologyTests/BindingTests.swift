import CAtomics
import Foundation
import Synchronization
import Testing

@testable import Topology

/// Runs `body` on a new OS thread and returns its result, so that binding
/// that thread never moves the test runner's own threads.
func onNewThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws -> T {
  let result = Mutex<Result<T, any Error>?>(nil)
  let done = DispatchSemaphore(value: 0)
  let thread = Thread {
    let outcome = Result { try body() }
    result.withLock { $0 = outcome }
    done.signal()
  }
  thread.start()
  done.wait()
  return try result.withLock { $0! }.get()
}

@Suite("Thread binding and NUMA memory")
struct BindingTests {
  @Test("a thread pinned to each processing unit runs there")
  func pinning() throws {
    let topology = try Topology.current()
    for unit in topology.processingUnits {
      let (binding, cpus) = try onNewThread {
        try topology.bindCurrentThread(to: unit.index)
        // Binding migrates the thread before returning; sample a few times,
        // yielding in between, to see that it stays.
        var seen: [Int] = []
        for _ in 0..<20 {
          seen.append(Topology.currentCPU())
          sched_yield()
        }
        return (try topology.currentThreadBinding(), seen)
      }
      #expect(binding == [unit.osIndex], "binding should be exactly CPU \(unit.osIndex), got \(binding)")
      #expect(cpus.allSatisfy { $0 == unit.osIndex }, "pinned to CPU \(unit.osIndex) but ran on \(cpus)")
    }
  }

  @Test("binding to a PU that does not exist is refused")
  func pinningOutOfRange() throws {
    let topology = try Topology.current()
    let count = topology.processingUnits.count
    #expect(throws: TopologyError.noSuchProcessingUnit(count, available: count)) {
      try topology.bindCurrentThread(to: count)
    }
  }

  @Test("memory bound to node 0 reports node 0")
  func bindMappedMemory() throws {
    try #require(NUMAMemory.isAvailable, "libnuma reports no NUMA support on this machine")
    let node = try #require(Topology.current().nodes.first).osIndex
    let bytes = 16 * NUMAMemory.pageSize
    let start = try #require(
      mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
    #expect(start != MAP_FAILED)
    defer { munmap(start, bytes) }
    let range = UnsafeMutableRawBufferPointer(start: start, count: bytes)

    #expect(
      try NUMAMemory.nodes(ofPagesIn: UnsafeRawBufferPointer(range)).allSatisfy { $0 == nil },
      "untouched anonymous pages should not be resident")
    try NUMAMemory.bind(UnsafeRawBufferPointer(range), toNode: node)
    for page in stride(from: 0, to: bytes, by: NUMAMemory.pageSize) { range[page] = 1 }
    let nodes = try NUMAMemory.nodes(ofPagesIn: UnsafeRawBufferPointer(range))
    #expect(nodes.count == 16)
    #expect(nodes.allSatisfy { $0 == node }, "every page should be on node \(node): \(nodes)")
    #expect(try NUMAMemory.localShare(of: UnsafeRawBufferPointer(range), node: node) == 1)
  }

  @Test("memory allocated on node 0 lives on node 0")
  func allocateOnNode() throws {
    try #require(NUMAMemory.isAvailable)
    let node = try #require(Topology.current().nodes.first).osIndex
    let memory = try NUMAMemory.allocate(bytes: 1 << 20, onNode: node)
    #expect(memory.node == node && memory.bytes.count == 1 << 20)
    memory.bytes.initializeMemory(as: UInt8.self, repeating: 7)
    let nodes = try NUMAMemory.nodes(ofPagesIn: UnsafeRawBufferPointer(memory.bytes))
    #expect(nodes.allSatisfy { $0 == node })
  }

  @Test("a node that does not exist is refused")
  func noSuchNode() throws {
    try #require(NUMAMemory.isAvailable)
    let error = #expect(throws: TopologyError.self) { try NUMAMemory.allocate(bytes: 4096, onNode: 4096) }
    #expect(
      error?.description.hasPrefix("no NUMA node 4096: this machine has") == true,
      "got \(String(describing: error))")
  }
}

@Suite("Relaxed atomic floats")
struct RelaxedAtomicTests {
  @Test("load, store and add round-trip exact values")
  func roundTrip() {
    var values: [Float] = [0, -0.0, 1.5, .greatestFiniteMagnitude, .leastNonzeroMagnitude, .infinity]
    values.withUnsafeMutableBufferPointer { buffer in
      for index in buffer.indices {
        let value = catomics_load_relaxed(buffer.baseAddress! + index)
        #expect(value.bitPattern == buffer[index].bitPattern)
        catomics_store_relaxed(buffer.baseAddress! + index, -value)
        #expect(buffer[index].bitPattern == (-value).bitPattern)
      }
      catomics_add_relaxed(buffer.baseAddress! + 2, 0.25)
      #expect(buffer[2] == -1.25)
    }
  }
}
