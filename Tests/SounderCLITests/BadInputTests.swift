import Foundation
import Testing

/// The rest of the bad-input matrix: each case one line on standard error,
/// exit status 1, and no output file.
@Suite("bad input, the rest of the matrix", .serialized)
struct BadInputTests {
  @Test("a dataset truncated under a running train ends it with one line and exit 1, not SIGBUS")
  func truncatedWhileTraining() throws {
    let folder = try scratchWithBundledData()
    defer { try? FileManager.default.removeItem(at: folder) }
    let data = try generateRunningSizeData(in: folder, named: "shrinking.sds")
    let model = folder.appendingPathComponent("m.model").path
    let log = folder.appendingPathComponent("log.txt").path
    _ = FileManager.default.createFile(atPath: log, contents: nil)

    let process = try sounderProcess(["train", data, "-o", model, "--epochs", "1000000", "--threads", "1"])
    process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
    let errors = Pipe()
    process.standardError = errors
    try process.run()
    // Training has started once the log names the data; then cut the file short.
    let deadline = Date().addingTimeInterval(60)
    while Date() < deadline, !(try String(contentsOfFile: log, encoding: .utf8)).contains("Training") {
      usleep(20_000)
    }
    usleep(300_000)
    try #require(truncate(data, 4096) == 0)
    let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    #expect(
      process.terminationReason == .exit && process.terminationStatus == 1, "\(process.terminationStatus)")
    #expect(
      stderr
        == "Error: \(data): the file shrank while it was being read (another program truncated or rewrote it in place); stopped, no output was written\n",
      "\(stderr)")
    #expect(!FileManager.default.fileExists(atPath: model))
  }

  @Test("LIBSVM index 2147483648 makes a 2³¹-column dataset that converts back to the same text")
  func widestColumn() throws {
    let folder = try scratchWithBundledData()
    defer { try? FileManager.default.removeItem(at: folder) }
    let text = folder.appendingPathComponent("wide.svm").path
    let data = folder.appendingPathComponent("wide.sds").path
    let back = folder.appendingPathComponent("back.svm").path
    try "1 2147483648:0.5\n0 1:1\n".write(toFile: text, atomically: true, encoding: .utf8)
    #expect(try runSounder(["convert", text, "-o", data]).status == 0)
    let converted = try runSounder(["convert", data, "-o", back])
    #expect(converted.status == 0, "\(converted.stderr)")
    #expect(try String(contentsOfFile: back, encoding: .utf8) == "1 2147483648:0.5\n0 1:1\n")
  }

  @Test("input quoted in an error is one line with its control characters escaped")
  func controlCharacters() throws {
    let folder = try scratchWithBundledData()
    defer { try? FileManager.default.removeItem(at: folder) }
    let data = folder.appendingPathComponent("escape.csv").path
    try Data("a,b,label\n1,2,0\n3,\u{1b}[2J\u{85}x,1\n".utf8).write(to: URL(fileURLWithPath: data))
    let result = try runSounder(["convert", data, "-o", folder.appendingPathComponent("out.sds").path])
    #expect(result.status == 1)
    #expect(result.stderr.hasPrefix("Error: \(data):3: "), "\(result.stderr)")
    #expect(result.stderr.contains("'\\u{1b}[2J\\u{85}x'"), "\(result.stderr)")
    #expect(
      result.stderr.dropLast().unicodeScalars.allSatisfy {
        $0.value >= 0x20 && !(0x7F...0x9F).contains($0.value)
      },
      "\(result.stderr.debugDescription)")
  }

  @Test(
    "negative stopping figures and noise, and data of one class, are refused",
    arguments: [
      (
        ["train", "iris.csv", "--tol=-1"],
        "Error: the tolerance must be a finite number of 0 or more (got -1.0)"
      ),
      (
        ["train", "iris.csv", "--target-loss=-1"],
        "Error: the target loss must be a finite number of 0 or more (got -1.0)"
      ),
      (
        ["generate", "--kind", "dense-regression", "--rows", "9", "--features", "2", "--noise=-1"],
        "Error: --noise must be a finite number of 0 or more (got -1.0)"
      ),
      (
        ["train", "one-class.csv"],
        "Error: a classifier needs at least two classes, but every training label is 1"
      ),
    ])
  func refused(arguments: [String], message: String) throws {
    let folder = try scratchWithBundledData()
    defer { try? FileManager.default.removeItem(at: folder) }
    try "1,2,1\n3,4,1\n5,6,1\n7,8,1\n9,1,1\n2,2,1\n".write(
      to: folder.appendingPathComponent("one-class.csv"), atomically: true, encoding: .utf8)
    let output = folder.appendingPathComponent("out.sds").path
    let paths = arguments.map { $0.hasSuffix(".csv") ? folder.appendingPathComponent($0).path : $0 }
    let result = try runSounder(paths + ["-o", output])
    #expect(result.status == 1)
    #expect(result.stderr == message + "\n", "\(result.stderr)")
    #expect(!FileManager.default.fileExists(atPath: output))
  }
}
