import Foundation
import Testing

@Suite("sounder bandwidth")
struct BandwidthCommandTests {
  @Test("prints a row per thread count")
  func table() throws {
    let result = try runSounder(["bandwidth", "--threads", "1,2", "--size", "8MiB", "--repetitions", "2"])
    #expect(result.status == 0, "stderr: \(result.stderr)")
    let lines = result.stdout.split(separator: "\n")
    #expect(lines.first?.hasPrefix("Memory bandwidth, 8 MiB working set, best of 2") == true)
    #expect(lines.count == 4, "a title, a header and two rows, got:\n\(result.stdout)")
  }

  @Test(
    "bad input gives a clear message and a non-zero exit",
    arguments: [
      (["bandwidth", "--threads", "0"], "Error: --threads must be at least 1 (got 0)"),
      (
        ["bandwidth", "--threads", "1,x"],
        "Error: --threads: expected whole numbers separated by commas, found \"x\" in \"1,x\""
      ),
      (["bandwidth", "--threads", "100000"], "Error: --threads 100000 is more than the "),
      (
        ["bandwidth", "--size", "lots"],
        "Error: --size: expected a size such as 512MiB or 2GiB, found \"lots\""
      ),
      (["bandwidth", "--repetitions", "0"], "Error: --repetitions must be at least 1 (got 0)"),
    ])
  func badInput(arguments: [String], message: String) throws {
    let result = try runSounder(arguments)
    #expect(result.status != 0)
    #expect(result.stderr.hasPrefix(message), "expected \"\(message)…\", got \"\(result.stderr)\"")
  }
}
