import Foundation
import Testing

@Suite("data without labels on the command line")
struct NoLabelsCommandTests {
  @Test("convert --no-labels: every column a feature; info shows labels none; CSV comes back without labels")
  func convertInfoBack() throws {
    let folder = try dataFolder()
    let input = folder + "/points.csv"
    try "x,y\n1,2\n3.5,-4\n".write(toFile: input, atomically: false, encoding: .utf8)
    let convert = try runSounder(["convert", input, "-o", folder + "/points.sds", "--no-labels"])
    #expect(convert.status == 0, "stderr: \(convert.stderr)")
    #expect(
      convert.stdout.hasPrefix("wrote \(folder)/points.sds: 2 rows × 2 columns, 4 values (dense), no labels"),
      "got \(convert.stdout)")
    let info = try runSounder(["info", folder + "/points.sds", "--verify"])
    #expect(info.status == 0, "stderr: \(info.stderr)")
    for text in ["columns     2", "labels      none\n", "Verified"] {
      #expect(info.stdout.contains(text), "missing \(text) in:\n\(info.stdout)")
    }
    let sections = try #require(info.stdout.components(separatedBy: "Sections").last)
    #expect(
      sections.contains("features") && !sections.contains("labels"), "no labels section in:\n\(sections)")
    let back = try runSounder(["convert", folder + "/points.sds", "-o", folder + "/back.csv"])
    #expect(back.status == 0, "stderr: \(back.stderr)")
    #expect(try String(contentsOfFile: folder + "/back.csv", encoding: .utf8) == "x0,x1\n1,2\n3.5,-4\n")
    let same = try runSounder(["convert", input, "-o", folder + "/same.sds", "--label-kind", "none"])
    #expect(same.status == 0, "stderr: \(same.stderr)")
    #expect(
      try Data(contentsOf: URL(fileURLWithPath: folder + "/same.sds"))
        == Data(contentsOf: URL(fileURLWithPath: folder + "/points.sds")))
  }

  @Test(
    "train and profile refuse data without labels with one line, and write nothing",
    arguments: [
      (["train"], "train", "read it without --no-labels"),
      (["profile", "--epochs", "1", "--threads", "1"], "profile", "read it without --no-labels"),
    ])
  func refuse(command: [String], name: String, hint: String) throws {
    let folder = try dataFolder()
    let input = folder + "/points.csv"
    try "1,2\n3,4\n5,6\n".write(toFile: input, atomically: false, encoding: .utf8)
    let result = try runSounder(
      [command[0], input, "--no-labels", "-o", folder + "/out"] + command.dropFirst())
    #expect(result.status == 1)
    #expect(
      result.stderr
        == "Error: \(input) has no labels (label kind none): \(name) needs labelled rows; \(hint)\n",
      "got \(result.stderr)")
    #expect(!FileManager.default.fileExists(atPath: folder + "/out"))
  }

  @Test("train refuses a .sds file without labels, and a --test file without them")
  func refuseSDS() throws {
    let folder = try dataFolder()
    let input = folder + "/points.csv"
    try "1,0\n3,1\n5,0\n7,1\n".write(toFile: input, atomically: false, encoding: .utf8)
    #expect(try runSounder(["convert", input, "-o", folder + "/u.sds", "--no-labels"]).status == 0)
    let model = folder + "/m.model"
    let train = try runSounder(["train", folder + "/u.sds", "-o", model])
    #expect(train.status == 1)
    #expect(
      train.stderr
        == "Error: \(folder)/u.sds has no labels (label kind none): train needs labelled rows; "
        + "convert the source data with its labels\n", "got \(train.stderr)")
    let test = try runSounder(["train", input, "--test", folder + "/u.sds", "-o", model])
    #expect(test.status == 1)
    #expect(
      test.stderr.hasPrefix("Error: \(folder)/u.sds has no labels (label kind none): train --test needs"),
      "got \(test.stderr)")
    #expect(!FileManager.default.fileExists(atPath: model))
  }

  @Test(
    "contradicting options are refused as usage errors",
    arguments: [
      (
        ["--label-kind", "real"], "--no-labels says there are no labels, and --label-kind real that there are"
      ),
      (["--label-column", "0"], "--label-column 0 names a label column, and --no-labels says there is none"),
      (["--labels", "y.npy"], "--labels y.npy gives labels, and --no-labels says there are none"),
    ])
  func contradictions(options: [String], message: String) throws {
    let folder = try dataFolder()
    let result = try runSounder(
      ["convert", folder + "/a.csv", "-o", folder + "/a.sds", "--no-labels"] + options)
    #expect(result.status == 64)
    #expect(result.stderr.hasPrefix("Error: \(message)\n"), "got \(result.stderr)")
  }

  @Test("LIBSVM --no-labels: a line that starts with a label is one clear line")
  func libsvmLabel() throws {
    let folder = try dataFolder()
    let input = folder + "/a.svm"
    try "1:0.5 3:2\n-1 2:1\n".write(toFile: input, atomically: false, encoding: .utf8)
    let result = try runSounder(["convert", input, "-o", folder + "/a.sds", "--no-labels"])
    #expect(result.status == 1)
    #expect(
      result.stderr
        == "Error: \(input):2: expected index:value (--no-labels: a line has no label, only index:value pairs), "
        + "found '-1'\n", "got \(result.stderr)")
    #expect(!FileManager.default.fileExists(atPath: folder + "/a.sds"))
  }
}
