import Foundation
import Testing

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// Every element of an XML document, in order, with its attributes.
final class SVGElements: NSObject, XMLParserDelegate {
  var elements: [(name: String, attributes: [String: String])] = []

  func parser(
    _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
    attributes: [String: String] = [:]
  ) {
    elements.append((name, attributes))
  }
}

@Suite("sounder profile")
struct ProfileCommandTests {
  /// A small generated dense dataset in a fresh folder.
  func scratch() throws -> (folder: URL, data: String) {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sounder-profile-\(UUID())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let data = folder.appendingPathComponent("d.sds").path
    let generate = try runSounder([
      "generate", "--kind", "dense-classification", "--rows", "4000", "--features", "8", "-o", data,
    ])
    #expect(generate.status == 0, "stderr: \(generate.stderr)")
    return (folder, data)
  }

  @Test("a sweep writes JSON and CSV with every combination and an SVG with one series per strategy")
  func sweep() throws {
    let (folder, data) = try scratch()
    defer { try? FileManager.default.removeItem(at: folder) }
    let out = folder.appendingPathComponent("report").path
    let strategies = ["hogwild", "per-node", "per-core", "sync"]
    let result = try runSounder([
      "profile", data, "--threads", "1,2", "--strategy", strategies.joined(separator: ","), "--placement",
      "local,single-node", "--epochs", "2", "--simulate-nodes", "2", "--lr", "0.05", "-o", out, "--quiet",
    ])
    #expect(result.status == 0, "stderr: \(result.stderr)")
    #expect(result.stdout.contains("Simulated: 2 NUMA nodes"))
    #expect(result.stdout.contains("Hardware counters: "))

    let json =
      try JSONSerialization.jsonObject(
        with: Data(contentsOf: URL(fileURLWithPath: out + "/profile.json"))) as? [String: Any]
    let runs = try #require(json?["runs"] as? [[String: Any]])
    #expect(runs.count == 2 * 4 * 2)
    let combinations = Set(
      runs.compactMap { run -> String? in
        guard let c = run["combination"] as? [String: Any] else { return nil }
        return "\(c["threads"]!) \(c["strategy"]!) \(c["placement"]!) \(c["replication"]!)"
      })
    #expect(combinations.count == 16)
    #expect(json?["simulatedNodes"] as? Int == 2)
    for run in runs {
      let workers = try #require(run["workers"] as? [[String: Any]])
      let examples = workers.compactMap { ($0["counts"] as? [String: Any])?["examples"] as? Int }.reduce(0, +)
      #expect(examples == 2 * 4000, "every worker's examples add up to epochs × rows")
    }

    let csv = try String(contentsOfFile: out + "/profile.csv", encoding: .utf8).split(separator: "\n")
    #expect(csv.count == 1 + 16)
    #expect(csv[0].hasPrefix("threads,strategy,placement,replication,"))

    let svg = SVGElements()
    let parser = try #require(XMLParser(contentsOf: URL(fileURLWithPath: out + "/profile.svg")))
    parser.delegate = svg
    #expect(parser.parse(), "the SVG must be well-formed XML: \(String(describing: parser.parserError))")
    #expect(svg.elements.first?.name == "svg")
    let names = Set(
      svg.elements.filter { $0.name == "polyline" && $0.attributes["class"] == "series" }.compactMap {
        $0.attributes["data-series"]
      })
    // One series per strategy and placement, in each of the two charts.
    #expect(names.count == 8)
    for strategy in strategies { #expect(names.contains { $0.hasPrefix(strategy + " ") }) }
  }

  @Test("a k-means sweep has a run per algorithm and thread count and charts inertia per algorithm")
  func clusterSweep() throws {
    let (folder, data) = try scratch()
    defer { try? FileManager.default.removeItem(at: folder) }
    let out = folder.appendingPathComponent("report").path
    let result = try runSounder([
      "profile", data, "--cluster", "4", "--threads", "1,2", "--algorithms", "lloyd,bounded,minibatch",
      "--epochs", "5", "--tol", "0", "-o", out, "--quiet",
    ])
    #expect(result.status == 0, "stderr: \(result.stderr)")
    #expect(result.stdout.contains("Profiling k-means (k = 4) on \(data)"))
    let json =
      try JSONSerialization.jsonObject(
        with: Data(contentsOf: URL(fileURLWithPath: out + "/profile.json"))) as? [String: Any]
    #expect(json?["loss"] as? String == "k-means")
    let runs = try #require(json?["runs"] as? [[String: Any]])
    #expect(runs.count == 3 * 2)
    let algorithms = runs.compactMap { ($0["combination"] as? [String: Any])?["kMeansAlgorithm"] as? String }
    #expect(Set(algorithms) == ["lloyd", "bounded", "minibatch"])
    for run in runs {
      let curve = try #require(run["curve"] as? [[String: Any]])
      #expect(!curve.isEmpty && curve.count <= 5)
      let inertia = curve.compactMap { $0["loss"] as? Double }
      #expect(inertia.allSatisfy { $0 > 0 })
    }
    let svg = try String(contentsOfFile: out + "/profile.svg", encoding: .utf8)
    #expect(svg.contains("Inertia, 2 threads"))
    for algorithm in ["lloyd", "bounded", "minibatch"] {
      #expect(svg.contains("data-series=\"\(algorithm) local\""))
    }
  }

  @Test("a target loss that is never reached stops at the epoch limit and says so")
  func unreachedTarget() throws {
    let (folder, data) = try scratch()
    defer { try? FileManager.default.removeItem(at: folder) }
    let result = try runSounder([
      "profile", data, "--threads", "1", "--strategy", "per-core", "--epochs", "2", "--target-loss", "0.0001",
      "-o", folder.path, "--quiet",
    ])
    #expect(result.status == 0, "stderr: \(result.stderr)")
    #expect(
      result.stdout.contains("Not reached: per-core, 1 thread, local, shard stopped at the 2-epoch limit"))
    let csv = try String(contentsOfFile: folder.path + "/profile.csv", encoding: .utf8)
    #expect(csv.split(separator: "\n")[1].split(separator: ",")[5] == "2", "2 epochs run")
  }

  @Test("bad lists and impossible thread counts are refused before anything runs")
  func badInput() throws {
    let (folder, data) = try scratch()
    defer { try? FileManager.default.removeItem(at: folder) }
    let out = folder.appendingPathComponent("never").path
    let cases: [([String], String)] = [
      (
        ["--strategy", "hogwild,fast"], "Error: --strategy: unknown value \"fast\"; choose from auto, hogwild"
      ),
      (["--placement", "local,remote"], "Error: --placement: unknown value \"remote\""),
      (["--threads", "1,4096"], "Error: --threads 4096 is not possible here"),
      (["--threads", "one"], "Error: --threads: \"one\" is not a whole number"),
      (["--simulate-nodes", "999"], "Error: --simulate-nodes must be from 1 to the"),
    ]
    let missing = folder.appendingPathComponent("missing.svm").path
    let unreadable = try runSounder(["profile", missing, "-o", out, "--threads", "1", "--epochs", "1"])
    #expect(unreadable.status != 0 && unreadable.stderr.hasPrefix("Error: \(missing): open failed"))
    #expect(
      !FileManager.default.fileExists(atPath: out), "a data file that cannot be read leaves no output folder")
    for (arguments, message) in cases {
      let result = try runSounder(["profile", data, "-o", out] + arguments)
      #expect(result.status != 0, "should fail: \(arguments)")
      #expect(result.stderr.hasPrefix(message), "expected \"\(message)…\", got \"\(result.stderr)\"")
      #expect(!FileManager.default.fileExists(atPath: out), "nothing is written on bad input")
    }
  }
}

@Suite("sounder train --stats")
struct TrainStatsTests {
  @Test("per-worker counters add up, and a partition placed off its worker's node is flagged")
  func stats() throws {
    guard ProcessInfo.processInfo.activeProcessorCount >= 2 else { return }
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sounder-stats-\(UUID())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let data = folder.appendingPathComponent("d.sds").path
    _ = try runSounder([
      "generate", "--kind", "dense-regression", "--rows", "3000", "--features", "8", "-o", data,
    ])
    let common = [
      "train", data, "-o", folder.appendingPathComponent("m.model").path, "--loss", "squared", "--epochs",
      "3",
      "--threads", "2", "--strategy", "per-node", "--simulate-nodes", "2", "--stats",
    ]
    let local = try runSounder(common + ["--data-placement", "local"])
    #expect(local.status == 0, "stderr: \(local.stderr)")
    #expect(local.stdout.contains("Simulated: 2 NUMA nodes"))
    let total = try #require(local.stdout.split(separator: "\n").first { $0.hasPrefix("   all") })
    #expect(total.split(separator: " ").first { Int($0) != nil } == "9000", "3 epochs × 3000 rows: \(total)")
    #expect(!local.stdout.contains("Misplaced"))

    let single = try runSounder(common + ["--data-placement", "single-node"])
    #expect(single.status == 0, "stderr: \(single.stderr)")
    #expect(
      single.stdout.contains("Misplaced: worker(s) 1 read most of their data from another node's memory"))
  }
}
