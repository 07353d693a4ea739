import Foundation
import Sounder

/// What `sounder topology` prints, as text or JSON.
struct TopologyReport: Encodable {
  var machine: String
  var synthetic: Bool
  var packages: [Topology.Package]
  var nodes: [Topology.NUMANode]
  var cores: [Topology.Core]
  var processingUnits: [Topology.ProcessingUnit]
  var caches: [Topology.Cache]
  var distances: Topology.Distances
  var plan: PlacementPlan

  init(topology: Topology, plan: PlacementPlan) {
    machine = topology.name
    synthetic = !topology.isThisSystem
    packages = topology.packages
    nodes = topology.nodes
    cores = topology.cores
    processingUnits = topology.processingUnits
    caches = topology.caches
    distances = topology.distances
    self.plan = plan
  }

  func jsonString() throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    return String(decoding: try encoder.encode(self), as: UTF8.self)
  }

  func text() -> String {
    var out = ""
    let title = synthetic ? "Simulated machine \"\(machine)\"" : "This machine"
    out += "\(title): \(count(packages.count, "package")), \(count(nodes.count, "NUMA node")), "
    out += "\(count(cores.count, "core")), \(count(processingUnits.count, "processing unit"))\n"

    out += "\nNUMA nodes\n"
    var nodeRows = [["node", "os", "package", "memory", "cores", "CPUs"]]
    for node in nodes {
      nodeRows.append([
        "\(node.index)", "\(node.osIndex)", "\(node.package)",
        node.memoryBytes > 0 ? formatBytes(node.memoryBytes) : "unknown",
        ranges(node.cores), ranges(node.processingUnits.map { processingUnits[$0].osIndex }),
      ])
    }
    out += table(nodeRows)

    out += "\nCaches\n"
    if caches.isEmpty {
      out += "  none reported\n"
    } else {
      var cacheRows = [["cache", "size", "line", "instances", "PUs each"]]
      for cache in caches {
        cacheRows.append([
          cache.name, formatBytes(cache.sizeBytes), "\(cache.lineBytes) B", "\(cache.count)",
          "\(cache.processingUnitsPerInstance)",
        ])
      }
      out += table(cacheRows)
    }

    out += "\nNUMA distances (\(distanceSource))\n"
    var distanceRows = [["from\\to"] + distances.values.indices.map { "\($0)" }]
    for (from, row) in distances.values.enumerated() {
      distanceRows.append(["\(from)"] + row.map { "\($0)" })
    }
    out += table(distanceRows)

    let perNode = plan.workersPerNode(nodeCount: nodes.count).map(String.init).joined(separator: ", ")
    out += "\nPlacement: \(count(plan.workers.count, "worker")), policy \(plan.policy.rawValue)"
    out += " (per node: \(perNode))\n"
    var planRows = [["worker", "CPU", "core", "node", "package"]]
    for worker in plan.workers {
      planRows.append([
        "\(worker.worker)", "\(worker.cpu)", "\(worker.core)", "\(worker.node)", "\(worker.package)",
      ])
    }
    out += table(planRows)
    return out
  }

  private var distanceSource: String {
    switch distances.source {
    case .hwloc: "reported by the OS through hwloc"
    case .libnuma: "reported by the kernel through libnuma"
    case .assumed: "not reported; assumed 10 local, 20 remote"
    }
  }
}

/// "1 core", "2 cores".
func count(_ value: Int, _ noun: String) -> String {
  "\(value) \(noun)\(value == 1 ? "" : "s")"
}

/// 1536 → "1.5 KiB"; exact multiples print without decimals.
func formatBytes(_ bytes: UInt64) -> String {
  let units = ["B", "KiB", "MiB", "GiB", "TiB"]
  var value = Double(bytes)
  var unit = 0
  while value >= 1024, unit < units.count - 1 {
    value /= 1024
    unit += 1
  }
  if value == value.rounded() { return "\(Int(value)) \(units[unit])" }
  return String(format: "%.1f %@", value, units[unit])
}

/// [0, 1, 2, 5] → "0-2,5".
func ranges(_ values: [Int]) -> String {
  guard !values.isEmpty else { return "-" }
  var parts: [String] = []
  var start = values[0]
  var previous = values[0]
  for value in values.dropFirst() + [Int.min] {
    if value == previous + 1 {
      previous = value
      continue
    }
    parts.append(start == previous ? "\(start)" : "\(start)-\(previous)")
    start = value
    previous = value
  }
  return parts.joined(separator: ",")
}

/// Left-aligned columns, two spaces apart, indented by two.
func table(_ rows: [[String]]) -> String {
  let widths = rows.reduce(into: [Int]()) { widths, row in
    for (column, cell) in row.enumerated() {
      if column < widths.count {
        widths[column] = max(widths[column], cell.count)
      } else {
        widths.append(cell.count)
      }
    }
  }
  return rows.map { row in
    let cells = row.enumerated().map { column, cell in
      column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
    }
    return "  " + cells.joined(separator: "  ")
  }.joined(separator: "\n") + "\n"
}
