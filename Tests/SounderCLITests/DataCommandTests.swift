import Foundation
import Testing

/// A fresh empty folder for one test's files.
func dataFolder() throws -> String {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent("sounder-cli-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url.path
}

@Suite("sounder convert and sounder info")
struct DataCommandTests {

  @Test("convert LIBSVM to .sds, show it, verify it, and write it back")
  func convertAndInfo() throws {
    let folder = try dataFolder()
    let input = folder + "/a.svm"
    try "+1 1:0.5 3:2\n-1 2:1\n".write(toFile: input, atomically: false, encoding: .utf8)
    let convert = try runSounder(["convert", input, "-o", folder + "/a.sds"])
    #expect(convert.status == 0, "stderr: \(convert.stderr)")
    #expect(
      convert.stdout.hasPrefix("wrote \(folder)/a.sds: 2 rows × 3 columns, 3 values (csr), binary labels"))
    #expect(convert.stderr.isEmpty, "no progress bar in a pipe")
    let info = try runSounder(["info", folder + "/a.sds", "--verify"])
    #expect(info.status == 0, "stderr: \(info.stderr)")
    for text in [
      "sparse (CSR)", "rows        2", "columns     3", "binary: -1 → 1 (50.0%), 1 → 1 (50.0%)", "Verified",
    ] {
      #expect(info.stdout.contains(text), "missing \(text) in:\n\(info.stdout)")
    }
    let back = try runSounder(["convert", folder + "/a.sds", "-o", folder + "/b.svm"])
    #expect(back.status == 0)
    #expect(try String(contentsOfFile: folder + "/b.svm", encoding: .utf8) == "1 1:0.5 3:2\n-1 2:1\n")
  }

  @Test("bad input: one clear line, non-zero exit, no output, an existing output untouched")
  func badInput() throws {
    let folder = try dataFolder()
    let input = folder + "/bad.svm"
    try "1 1:1\n1 2:oops\n".write(toFile: input, atomically: false, encoding: .utf8)
    let existing = folder + "/old.sds"
    try "old".write(toFile: existing, atomically: false, encoding: .utf8)
    for output in [folder + "/new.sds", existing] {
      let result = try runSounder(["convert", input, "-o", output])
      #expect(result.status == 1)
      #expect(
        result.stderr == "Error: \(input):2: expected a feature value (a number) after 2:, found 'oops'\n",
        "got \(result.stderr)")
      #expect(result.stdout.isEmpty)
    }
    #expect(!FileManager.default.fileExists(atPath: folder + "/new.sds"))
    #expect(try String(contentsOfFile: existing, encoding: .utf8) == "old")
  }

  @Test(
    "info refuses foreign, truncated and damaged files",
    arguments: [
      ("foreign", "not a Sounder dataset"), ("truncated", "truncated: expected at least"),
      ("damaged", "section is corrupt: CRC32C expected"),
    ])
  func infoRefuses(kind: String, message: String) throws {
    let folder = try dataFolder()
    let input = folder + "/a.csv"
    try "x,label\n1,2\n3,4\n".write(toFile: input, atomically: false, encoding: .utf8)
    #expect(try runSounder(["convert", input, "-o", folder + "/a.sds"]).status == 0)
    var bytes = try Data(contentsOf: URL(fileURLWithPath: folder + "/a.sds"))
    switch kind {
    case "foreign": bytes = Data("hello".utf8)
    case "truncated": bytes = bytes.prefix(300)
    default: bytes[bytes.count - 1] ^= 1
    }
    try bytes.write(to: URL(fileURLWithPath: folder + "/a.sds"))
    let result = try runSounder(["info", folder + "/a.sds", "--verify"])
    #expect(result.status == 1)
    #expect(
      result.stderr.hasPrefix("Error: \(folder)/a.sds: ") && result.stderr.contains(message),
      "got \(result.stderr)")
  }

  @Test("class names: convert keeps them, info lists them with counts, CSV gets them back")
  func classNames() throws {
    let folder = try dataFolder()
    let input = folder + "/mail.csv"
    try "words,links,kind\n3,0,spam\n1,1,ham\n4,2,spam\n".write(
      toFile: input, atomically: false, encoding: .utf8)
    for threads in ["1", "2"] {
      let convert = try runSounder([
        "convert", input, "-o", folder + "/mail\(threads).sds", "--threads", threads,
      ])
      #expect(convert.status == 0, "stderr: \(convert.stderr)")
      #expect(convert.stdout.contains("3 rows × 2 columns, 6 values (dense), class labels (2 named classes)"))
    }
    #expect(
      try Data(contentsOf: URL(fileURLWithPath: folder + "/mail1.sds"))
        == Data(contentsOf: URL(fileURLWithPath: folder + "/mail2.sds")))
    let info = try runSounder(["info", folder + "/mail1.sds", "--verify"])
    #expect(info.status == 0, "stderr: \(info.stderr)")
    for text in [
      "format version 2", "labels      class, 2 named: 0 ham → 1 (33.3%), 1 spam → 2 (66.7%)", "class names",
      "Verified",
    ] {
      #expect(info.stdout.contains(text), "missing \(text) in:\n\(info.stdout)")
    }
    #expect(try runSounder(["convert", folder + "/mail1.sds", "-o", folder + "/back.csv"]).status == 0)
    #expect(
      try String(contentsOfFile: folder + "/back.csv", encoding: .utf8)
        == "x0,x1,label\n3,0,spam\n1,1,ham\n4,2,spam\n")
    let real = try runSounder(["convert", input, "-o", folder + "/r.sds", "--label-kind", "real"])
    #expect(real.status == 1)
    #expect(
      real.stderr
        == "Error: \(input):2: expected a number as the label in column 2 (kind) for --label-kind real, "
        + "found the class name 'spam'; labels that are names are class labels (--label-kind class)\n",
      "got \(real.stderr)")
  }

  @Test("an unknown extension asks for --format")
  func unknownFormat() throws {
    let result = try runSounder(["convert", "data.parquet", "-o", "x.sds"])
    #expect(result.status == 1)
    #expect(result.stderr.contains("cannot tell the format of data.parquet"), "got \(result.stderr)")
  }
}

@Suite("sounder generate")
struct GenerateCommandTests {
  @Test("writes seeded data as .sds or LIBSVM; the same seed gives the same bytes")
  func generate() throws {
    let folder = try dataFolder()
    for name in ["a.sds", "b.sds", "c.svm"] {
      let result = try runSounder([
        "generate", "--kind", "sparse-classification", "--rows", "500", "--features", "100", "--nnz-per-row",
        "5",
        "--seed", "3", "-o", folder + "/" + name,
      ])
      #expect(result.status == 0, "stderr: \(result.stderr)")
      #expect(result.stdout.hasPrefix("wrote \(folder)/\(name): 500 rows × 100 columns, 2500 values"))
    }
    #expect(
      try Data(contentsOf: URL(fileURLWithPath: folder + "/a.sds"))
        == Data(contentsOf: URL(fileURLWithPath: folder + "/b.sds")))
    #expect(try runSounder(["convert", folder + "/c.svm", "-o", folder + "/c.sds"]).status == 0)
    #expect(
      try Data(contentsOf: URL(fileURLWithPath: folder + "/a.sds"))
        == Data(contentsOf: URL(fileURLWithPath: folder + "/c.sds")))
  }

  @Test("bad options are refused with one line")
  func badOptions() throws {
    let result = try runSounder([
      "generate", "--kind", "sparse-classification", "--rows", "5", "--features", "10", "--nnz-per-row", "11",
      "-o", "/tmp/never.sds",
    ])
    #expect(result.status == 1)
    #expect(
      result.stderr.hasPrefix("Error: --nnz-per-row must be from 1 to the number of features, 10 (got 11)"))
    #expect(!FileManager.default.fileExists(atPath: "/tmp/never.sds"))
  }
}

@Suite("bundled data")
struct BundledDataTests {
  /// The repository's `data/` folder, found from this source file.
  var bundledFolder: String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("data").path
  }

  @Test(
    "the bundled datasets convert with the documented shapes",
    arguments: [
      ("diabetes.csv", ["--label-kind", "real"], "442 rows × 10 columns, 4420 values (dense), real labels"),
      ("breast-cancer.csv", [], "569 rows × 30 columns, 17070 values (dense), binary labels"),
      ("iris.csv", [], "150 rows × 4 columns, 600 values (dense), class labels (3 named classes)"),
      ("digits.csv", [], "1797 rows × 64 columns, 115008 values (dense), class labels, in"),
    ])
  func bundled(name: String, options: [String], summary: String) throws {
    let output = try dataFolder() + "/out.sds"
    let result = try runSounder(["convert", bundledFolder + "/" + name, "-o", output] + options)
    #expect(result.status == 0, "stderr: \(result.stderr)")
    #expect(result.stdout.contains(summary), "got \(result.stdout)")
  }

  @Test(
    "info shows iris's three named classes and digits' ten classes",
    arguments: [
      (
        "iris.csv",
        "labels      class, 3 named: 0 setosa → 50 (33.3%), 1 versicolor → 50 (33.3%), 2 virginica → 50 (33.3%)"
      ),
      (
        "digits.csv",
        "labels      class: 0 → 178 (9.9%), 1 → 182 (10.1%), 2 → 177 (9.8%), 3 → 183 (10.2%), "
          + "4 → 181 (10.1%), 5 → 182 (10.1%), 6 → 181 (10.1%), 7 → 179 (10.0%), 8 → 174 (9.7%), 9 → 180 (10.0%)"
      ),
    ])
  func bundledClasses(name: String, labels: String) throws {
    let output = try dataFolder() + "/out.sds"
    #expect(try runSounder(["convert", bundledFolder + "/" + name, "-o", output]).status == 0)
    let info = try runSounder(["info", output, "--verify"])
    #expect(info.status == 0 && info.stdout.contains(labels), "got \(info.stdout)")
  }
}

@Suite("sounder convert, NumPy")
struct ConvertNPYCommandTests {
  @Test("--labels gives the labels of a .npy matrix; without it the rows have none")
  func labels() throws {
    let folder = try dataFolder()
    try FileManager.default.copyItem(
      atPath: URL(fileURLWithPath: #filePath).deletingLastPathComponent().path + "/Fixtures/x.npy",
      toPath: folder + "/x.npy")
    try FileManager.default.copyItem(
      atPath: URL(fileURLWithPath: #filePath).deletingLastPathComponent().path + "/Fixtures/y.npy",
      toPath: folder + "/y.npy")
    let good = try runSounder([
      "convert", folder + "/x.npy", "--labels", folder + "/y.npy", "-o", folder + "/d.sds",
    ])
    #expect(good.status == 0, "stderr: \(good.stderr)")
    #expect(good.stdout.contains("3 rows × 2 columns, 6 values (dense), binary labels"), "got \(good.stdout)")
    let unlabelled = try runSounder(["convert", folder + "/x.npy", "-o", folder + "/e.sds"])
    #expect(unlabelled.status == 0, "stderr: \(unlabelled.stderr)")
    #expect(
      unlabelled.stdout.contains("3 rows × 2 columns, 6 values (dense), no labels"),
      "got \(unlabelled.stdout)")
    let train = try runSounder(["train", folder + "/x.npy", "-o", folder + "/m.model"])
    #expect(
      train.status == 1
        && train.stderr
          == "Error: \(folder)/x.npy has no labels (label kind none): train needs labelled rows; "
          + "give the labels with --labels y.npy\n",
      "got \(train.stderr)")
    #expect(!FileManager.default.fileExists(atPath: folder + "/m.model"))
  }
}
