import Foundation
import Testing

@testable import SounderCLI

/// Runs the built `sounder` executable and returns its exit status and output.
func runSounder(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
  let binary = try #require(
    Bundle.main.executableURL?.deletingLastPathComponent().appendingPathComponent("sounder"),
    "cannot locate the test bundle")
  try #require(
    FileManager.default.isExecutableFile(atPath: binary.path), "no sounder binary at \(binary.path)")
  let process = Process()
  process.executableURL = binary
  process.arguments = arguments
  let out = Pipe()
  let err = Pipe()
  process.standardOutput = out
  process.standardError = err
  try process.run()
  let stdout = out.fileHandleForReading.readDataToEndOfFile()
  let stderr = err.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return (
    process.terminationStatus, String(decoding: stdout, as: UTF8.self),
    String(decoding: stderr, as: UTF8.self)
  )
}

/// A 200,000 × 16 dense classification set written to `name` in `folder`:
/// large enough that an epoch takes a while, for tests that act on a running job.
func generateRunningSizeData(in folder: URL, named name: String) throws -> String {
  let path = folder.appendingPathComponent(name).path
  let generated = try runSounder([
    "generate", "--kind", "dense-classification", "--rows", "200000", "--features", "16", "-o", path,
  ])
  try #require(generated.status == 0, "generate failed: \(generated.stderr)")
  return path
}

/// The built `sounder` executable as a process with `arguments`, not started.
func sounderProcess(_ arguments: [String]) throws -> Process {
  let process = Process()
  process.executableURL = try #require(
    Bundle.main.executableURL?.deletingLastPathComponent().appendingPathComponent("sounder"))
  process.arguments = arguments
  return process
}

@Suite("sounder topology")
struct TopologyCommandTests {
  @Test("prints this machine and a plan with one worker per core")
  func printsMachine() throws {
    let result = try runSounder(["topology"])
    #expect(result.status == 0, "stderr: \(result.stderr)")
    #expect(result.stdout.hasPrefix("This machine: "))
    for heading in ["NUMA nodes", "Caches", "NUMA distances", "Placement: "] {
      #expect(result.stdout.contains(heading), "missing section \(heading)")
    }
  }

  @Test("JSON output parses and carries the plan")
  func json() throws {
    let result = try runSounder([
      "topology", "--json", "--synthetic", "pack:2 numa:2 core:8 pu:2", "--threads", "5",
    ])
    #expect(result.status == 0, "stderr: \(result.stderr)")
    let object = try #require(
      try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    #expect(object["synthetic"] as? Bool == true)
    #expect((object["nodes"] as? [Any])?.count == 4)
    let plan = try #require(object["plan"] as? [String: Any])
    #expect(plan["policy"] as? String == "spread")
    #expect((plan["workers"] as? [Any])?.count == 5)
  }

  @Test("close policy on a simulated machine keeps workers on node 0")
  func closePolicy() throws {
    let result = try runSounder([
      "topology", "--synthetic", "numa:2 core:4 pu:1", "--threads", "3", "--policy", "close",
    ])
    #expect(result.status == 0)
    #expect(
      result.stdout.contains("Placement: 3 workers, policy close (per node: 3, 0)"), "got:\n\(result.stdout)")
  }

  @Test(
    "bad input gives a clear message and a non-zero exit",
    arguments: [
      (["topology", "--threads", "0"], "Error: --threads must be at least 1 (got 0)"),
      (["topology", "--threads=-3"], "Error: --threads must be at least 1 (got -3)"),
      (
        ["topology", "--synthetic", "numa:1 core:2 pu:1", "--threads", "3"],
        "Error: --threads 3 is more than the 2 processing units of numa:1 core:2 pu:1; use at most 2"
      ),
      (
        ["topology", "--synthetic", "pack:two"],
        "Error: invalid synthetic topology \"pack:two\": expected hwloc's synthetic syntax"
      ),
      (
        ["topology", "--policy", "sideways"], "Error: The value 'sideways' is invalid for '--policy <policy>'"
      ),
      (
        ["topology", "--synthetic", "pack:1000 numa:1000 core:1000 pu:8"],
        "Error: synthetic topology \"pack:1000 numa:1000 core:1000 pu:8\" has 8000000000 processing units; at most 65536"
      ),
    ])
  func badInput(arguments: [String], message: String) throws {
    let result = try runSounder(arguments)
    #expect(result.status != 0, "should fail: sounder \(arguments.joined(separator: " "))")
    #expect(result.stderr.hasPrefix(message), "expected \"\(message)…\", got \"\(result.stderr)\"")
    #expect(result.stdout.isEmpty, "nothing should reach stdout on failure")
  }

  @Test("more threads than this machine's PUs is refused")
  func tooManyThreadsHere() throws {
    let result = try runSounder(["topology", "--threads", "100000"])
    #expect(result.status == 1)
    #expect(result.stderr.contains("--threads 100000 is more than the "), "got \(result.stderr)")
    #expect(result.stderr.contains(" processing units of this machine; use at most "))
  }
}
