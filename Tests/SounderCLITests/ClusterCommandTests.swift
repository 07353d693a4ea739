import Foundation
import Testing

@Suite("sounder cluster, predict and evaluate on a k-means model")
struct ClusterCommandTests {
  @Test("cluster writes a model whose clusters predict and evaluate read back")
  func clusterPredictEvaluate() throws {
    let folder = try scratchWithBundledData()
    defer { try? FileManager.default.removeItem(at: folder) }
    let data = folder.appendingPathComponent("iris.csv").path
    let model = folder.appendingPathComponent("iris.model").path
    for algorithm in ["lloyd", "bounded"] {
      let run = try runSounder([
        "cluster", data, "-k", "3", "--n-init", "10", "--algorithm", algorithm, "-o", model,
      ])
      #expect(run.status == 0, "\(run.stderr)")
      // scikit-learn's KMeans(n_clusters=3, n_init=10) reaches 78.8514 on iris.
      #expect(run.stdout.contains("Inertia 78.8514 over 150 rows"), "\(run.stdout)")
      #expect(run.stdout.contains("into 3 clusters: \(algorithm), k-means++ start, 10 runs"))
    }
    let predicted = try runSounder(["predict", model, data])
    let clusters = predicted.stdout.split(separator: "\n")
    #expect(clusters.count == 150 && Set(clusters) == ["0", "1", "2"])
    let distances = try runSounder(["predict", model, data, "--distance"]).stdout.split(separator: "\n")
    #expect(distances.count == 150)
    #expect(
      zip(clusters, distances).allSatisfy {
        $1.hasPrefix($0 + ",") && Double($1.split(separator: ",")[1])! >= 0
      })
    let evaluated = try runSounder(["evaluate", model, data])
    #expect(
      evaluated.stdout
        == "\(data): 150 rows; inertia 78.8514, adjusted Rand index 0.7302 against the labels\n",
      "\(evaluated.stdout)")
    let json = try runSounder(["evaluate", model, data, "--json"])
    let figures = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as! [String: Any]
    #expect(abs((figures["inertia"] as! Double) - 78.8514) < 1e-3)
  }

  @Test("unlabelled data clusters and evaluates without a Rand index; a linear model will not evaluate it")
  func unlabelled() throws {
    let folder = try scratchWithBundledData()
    defer { try? FileManager.default.removeItem(at: folder) }
    let data = folder.appendingPathComponent("points.csv").path
    try "0,0\n0,1\n1,0\n10,10\n10,11\n11,10\n".write(toFile: data, atomically: true, encoding: .utf8)
    let model = folder.appendingPathComponent("k.model").path
    let run = try runSounder(["cluster", data, "--no-labels", "-k", "2", "-o", model])
    #expect(run.status == 0, "\(run.stderr)")
    #expect(run.stdout.contains("6 rows × 2 features"), "\(run.stdout)")
    let evaluated = try runSounder(["evaluate", model, data, "--no-labels"])
    // Two clusters of three points around (⅓, ⅓) and (10⅓, 10⅓): 2/9 + 5/9 + 5/9 each, 8/3 in all.
    #expect(
      evaluated.stdout == "\(data): 6 rows; inertia 2.66667\n", "\(evaluated.stdout) \(evaluated.stderr)")
    let predicted = try runSounder(["predict", model, data, "--no-labels"]).stdout.split(separator: "\n")
    #expect(predicted.count == 6 && predicted[0] == predicted[2] && predicted[0] != predicted[3])

    let linear = folder.appendingPathComponent("l.model").path
    let labelled = folder.appendingPathComponent("labelled.csv").path
    try "a,b,label\n0,0,0\n0,1,0\n10,10,1\n11,10,1\n".write(
      toFile: labelled, atomically: true, encoding: .utf8)
    #expect(try runSounder(["train", labelled, "-o", linear, "--epochs", "1"]).status == 0)
    let refused = try runSounder(["evaluate", linear, data, "--no-labels"])
    #expect(refused.status == 1)
    #expect(refused.stderr.hasPrefix("Error: \(data) has no labels"), "\(refused.stderr)")
  }

  @Test(
    "bad requests are one line and exit 1, with no model left behind",
    arguments: [
      (["-k", "0"], "Error: k must be at least 1 (got 0)"),
      (["-k", "151"], "Error: k = 151 is more than the 150 rows to cluster"),
      (["-k", "2", "--n-init", "0"], "Error: --n-init must be at least 1 (got 0)"),
      (["-k", "2", "--max-iter", "0"], "Error: --max-iter must be at least 1 (got 0)"),
      (["-k", "2", "--tol=-1"], "Error: the tolerance must be a finite number of at least 0 (got -1.0)"),
    ])
  func refused(options: [String], message: String) throws {
    let folder = try scratchWithBundledData()
    defer { try? FileManager.default.removeItem(at: folder) }
    let output = folder.appendingPathComponent("out.model").path
    let result = try runSounder(
      ["cluster", folder.appendingPathComponent("iris.csv").path] + options + ["-o", output])
    #expect(result.status == 1)
    #expect(result.stderr == message + "\n", "\(result.stderr)")
    #expect(!FileManager.default.fileExists(atPath: output))
  }

  @Test("bad data, too few distinct rows and models of the other kind are refused with one line")
  func refusedData() throws {
    let folder = try scratchWithBundledData()
    defer { try? FileManager.default.removeItem(at: folder) }
    let output = folder.appendingPathComponent("out.model").path
    func refuses(_ arguments: [String], _ expected: (String) -> Bool) throws {
      let result = try runSounder(arguments)
      #expect(result.status == 1, "\(arguments)")
      #expect(
        result.stderr.hasPrefix("Error: ") && result.stderr.filter { $0 == "\n" }.count == 1,
        "\(result.stderr)")
      #expect(expected(result.stderr), "\(result.stderr)")
      #expect(!FileManager.default.fileExists(atPath: output))
    }
    let repeated = folder.appendingPathComponent("repeated.csv").path
    try "a,b,label\n1,2,0\n1,2,0\n3,4,1\n3,4,1\n".write(toFile: repeated, atomically: true, encoding: .utf8)
    try refuses(["cluster", repeated, "-k", "3", "-o", output]) {
      $0 == "Error: k = 3 is more than the 2 distinct rows in the data; use k ≤ 2\n"
    }
    let infinite = folder.appendingPathComponent("infinite.csv").path
    try "a,b,label\n1,2,0\n1,inf,0\n".write(toFile: infinite, atomically: true, encoding: .utf8)
    try refuses(["cluster", infinite, "-k", "1", "-o", output]) { $0.contains(infinite) }
    let empty = folder.appendingPathComponent("empty.csv").path
    try "".write(toFile: empty, atomically: true, encoding: .utf8)
    try refuses(["cluster", empty, "-k", "1", "-o", output]) { $0.contains(empty) }

    let iris = folder.appendingPathComponent("iris.csv").path
    let clusters = folder.appendingPathComponent("k.model").path
    let linear = folder.appendingPathComponent("l.model").path
    #expect(try runSounder(["cluster", iris, "-k", "3", "-o", clusters]).status == 0)
    #expect(try runSounder(["train", iris, "-o", linear, "--epochs", "2"]).status == 0)
    try refuses(["predict", linear, iris, "--distance", "-o", output]) {
      $0 == "Error: --distance is for k-means models (from sounder cluster); \(linear) is a linear model\n"
    }
    try refuses(["predict", clusters, iris, "--proba", "-o", output]) {
      $0 == "Error: --proba is for classifiers; \(clusters) is a k-means model (use --distance)\n"
    }
    try refuses(["predict", clusters, folder.appendingPathComponent("digits.csv").path, "-o", output]) {
      $0.contains("the data has 64 features but the model 4")
    }
  }
}
