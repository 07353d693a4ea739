import Foundation

/// The SVG report of a sweep: throughput against threads and loss against
/// training time, one series per strategy (with placement and replication
/// when those were swept too), and a table of every run. Plain SVG 1.1 with
/// no scripts or external files, so any browser shows it.
public enum ProfileChart {
  static let palette = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
  ]

  /// The whole report as an SVG document.
  public static func svg(_ report: ProfileReport) -> String {
    let series = seriesNames(report)
    let clusters = report.loss == ProfileReport.kMeans
    let lossName = clusters ? "inertia" : "loss"
    let width = 1000.0
    let chartHeight = 340.0
    let tableTop = 120 + chartHeight + 84
    let height = tableTop + 24 * Double(report.runs.count + 1) + 40
    var svg = SVG(width: width, height: height)
    svg.text(
      "Sounder profile: \(report.loss)\(clusters ? "" : " loss"), \(report.algorithm), \(report.rows) × \(report.columns) \(report.layout)",
      x: 20, y: 32, size: 20, weight: "bold")
    var subtitle = "Machine: \(report.machine)"
    if let nodes = report.simulatedNodes {
      subtitle += "; SIMULATED as \(nodes) NUMA nodes (all memory is local)"
    }
    subtitle +=
      "; read bandwidth "
      + report.readBandwidth.map { "\($0.threads)T \(String(format: "%.1f", $0.gigabytesPerSecond)) GB/s" }
      .joined(separator: ", ")
    svg.text(subtitle, x: 20, y: 56, size: 13)
    let target =
      report.targetLoss.map { "target \(lossName) \(format($0))" }
      ?? "\(report.epochs) \(clusters ? "iterations" : "epochs") per run"
    svg.text(
      "\(target); hardware counters: \(report.hardwareCounters)", x: 20, y: 76, size: 13)

    // Left: throughput against threads.
    let threadCounts = Array(Set(report.runs.map(\.combination.threads))).sorted()
    var threadAxis = axis(threadCounts.map(Double.init), fromZero: false)
    if threadCounts.count > 1 {  // ticks at the measured thread counts only
      threadAxis = Axis(
        low: Double(threadCounts.first!), high: Double(threadCounts.last!),
        ticks: threadCounts.map(Double.init))
    }
    let throughput = Plot(
      left: 80, top: 110, width: 380, height: chartHeight, x: threadAxis,
      y: axis(report.runs.map { $0.examplesPerSecond / 1e6 }, fromZero: true))
    throughput.frame(
      into: &svg, title: "Throughput (best epoch)", xLabel: "threads", yLabel: "million examples / s")
    for (index, name) in series.enumerated() {
      let points = report.runs.filter { $0.combination.series == name }.sorted {
        $0.combination.threads < $1.combination.threads
      }.map { (Double($0.combination.threads), $0.examplesPerSecond / 1e6) }
      throughput.series(points, color: palette[index % palette.count], into: &svg, label: name)
    }

    // Right: loss against training time, at the largest thread count.
    let most = threadCounts.last ?? 1
    let curves = report.runs.filter { $0.combination.threads == most }
    let allPoints = curves.flatMap(\.curve)
    let convergence = Plot(
      left: 580, top: 110, width: 380, height: chartHeight,
      x: axis(allPoints.map(\.seconds), fromZero: true),
      y: axis(allPoints.map(\.loss).filter(\.isFinite), fromZero: false))
    convergence.frame(
      into: &svg, title: "\(clusters ? "Inertia" : "Training loss"), \(most) thread\(most == 1 ? "" : "s")",
      xLabel: "\(clusters ? "clustering" : "training") seconds", yLabel: lossName)
    if let targetLoss = report.targetLoss, convergence.y.contains(targetLoss) {
      convergence.horizontalLine(at: targetLoss, label: "target", into: &svg)
    }
    for run in curves {
      let index = series.firstIndex(of: run.combination.series) ?? 0
      convergence.series(
        run.curve.map { ($0.seconds, $0.loss) }, color: palette[index % palette.count], into: &svg,
        label: run.combination.series)
    }

    // Legend under the charts.
    for (index, name) in series.enumerated() {
      let x = 80 + Double(index % 4) * 230
      let y = 110 + chartHeight + 62 + Double(index / 4) * 18
      svg.element(
        "<rect x=\"\(x)\" y=\"\(y - 10)\" width=\"14\" height=\"10\" fill=\"\(palette[index % palette.count])\"/>"
      )
      svg.text(name, x: x + 20, y: y, size: 13)
    }

    // The table of runs.
    let columns: [(String, Double)] = [
      ("run", 20), ("ran as", 270), ("epoch ms", 400), ("floor share", 480), ("speed-up", 570),
      ("epochs to target", 650), ("s to target", 780), ("final loss", 880),
    ]
    var y = tableTop + Double(series.count / 4) * 18
    for (name, x) in columns { svg.text(name, x: x, y: y, size: 13, weight: "bold") }
    for run in report.runs {
      y += 24
      let cells = [
        run.combination.label, run.strategyRun, String(format: "%.1f", run.bestEpochSeconds * 1000),
        String(format: "%.0f%%", run.floorShare * 100),
        run.speedup.map { String(format: "%.2f×", $0) } ?? "-",
        run.epochsToTarget.map(String.init) ?? (report.targetLoss == nil ? "-" : "not reached"),
        run.secondsToTarget.map { String(format: "%.3f", $0) } ?? "-", format(run.finalLoss),
      ]
      for ((_, x), cell) in zip(columns, cells) { svg.text(cell, x: x, y: y, size: 13) }
    }
    return svg.document
  }

  /// Series names in the order they first appear.
  static func seriesNames(_ report: ProfileReport) -> [String] {
    var names: [String] = []
    for run in report.runs where !names.contains(run.combination.series) {
      names.append(run.combination.series)
    }
    return names
  }

  /// A number in five significant digits, as the report shows it.
  public static func format(_ value: Double) -> String { String(format: "%.5g", value) }

  /// An axis range with round tick values covering `values`.
  static func axis(_ values: [Double], fromZero: Bool) -> Axis {
    var low = values.min() ?? 0
    var high = values.max() ?? 1
    if fromZero { low = min(low, 0) }
    if high - low < 1e-12 { (low, high) = (low - 0.5 * max(abs(low), 1), high + 0.5 * max(abs(high), 1)) }
    let rough = (high - low) / 5
    let magnitude = pow(10, floor(log10(rough)))
    let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= rough } ?? 10 * magnitude
    let first = floor(low / step) * step
    let last = ceil(high / step) * step
    let ticks = stride(from: first, through: last + step / 2, by: step).map { $0 }
    return Axis(low: first, high: last, ticks: ticks)
  }

  struct Axis {
    var low: Double
    var high: Double
    var ticks: [Double]

    func contains(_ value: Double) -> Bool { value >= low && value <= high }
  }

  /// A rectangle of the canvas that maps data coordinates onto it.
  struct Plot {
    var left: Double
    var top: Double
    var width: Double
    var height: Double
    var x: Axis
    var y: Axis

    func px(_ value: Double) -> Double { left + (value - x.low) / (x.high - x.low) * width }
    func py(_ value: Double) -> Double { top + height - (value - y.low) / (y.high - y.low) * height }

    func frame(into svg: inout SVG, title: String, xLabel: String, yLabel: String) {
      svg.text(title, x: left, y: top - 14, size: 15, weight: "bold")
      svg.element(
        "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(width)\" height=\"\(height)\" fill=\"none\" stroke=\"#444\"/>"
      )
      for tick in x.ticks {
        let position = px(tick)
        svg.element(
          "<line x1=\"\(position)\" y1=\"\(top)\" x2=\"\(position)\" y2=\"\(top + height)\" stroke=\"#ddd\"/>"
        )
        svg.text(format(tick), x: position, y: top + height + 18, size: 12, anchor: "middle")
      }
      for tick in y.ticks {
        let position = py(tick)
        svg.element(
          "<line x1=\"\(left)\" y1=\"\(position)\" x2=\"\(left + width)\" y2=\"\(position)\" stroke=\"#ddd\"/>"
        )
        svg.text(format(tick), x: left - 6, y: position + 4, size: 12, anchor: "end")
      }
      svg.text(xLabel, x: left + width / 2, y: top + height + 38, size: 13, anchor: "middle")
      let middle = top + height / 2
      svg.element(
        "<text x=\"\(left - 58)\" y=\"\(middle)\" font-size=\"13\" text-anchor=\"middle\" "
          + "transform=\"rotate(-90 \(left - 58) \(middle))\">\(SVG.escape(yLabel))</text>")
    }

    func series(_ points: [(Double, Double)], color: String, into svg: inout SVG, label: String) {
      let finite = points.filter { $0.0.isFinite && $0.1.isFinite }
      guard !finite.isEmpty else { return }
      let path = finite.map { "\(px($0.0)),\(py($0.1))" }.joined(separator: " ")
      svg.element(
        "<polyline class=\"series\" data-series=\"\(SVG.escape(label))\" points=\"\(path)\" fill=\"none\" "
          + "stroke=\"\(color)\" stroke-width=\"2\"/>")
      for point in finite {
        svg.element("<circle cx=\"\(px(point.0))\" cy=\"\(py(point.1))\" r=\"3.5\" fill=\"\(color)\"/>")
      }
    }

    func horizontalLine(at value: Double, label: String, into svg: inout SVG) {
      let position = py(value)
      svg.element(
        "<line x1=\"\(left)\" y1=\"\(position)\" x2=\"\(left + width)\" y2=\"\(position)\" stroke=\"#888\" "
          + "stroke-dasharray=\"6 4\"/>")
      svg.text(label, x: left + width - 4, y: position - 4, size: 12, anchor: "end")
    }
  }

  /// A growing SVG document.
  struct SVG {
    var body = ""
    let width: Double
    let height: Double

    init(width: Double, height: Double) {
      self.width = width
      self.height = height
    }

    mutating func element(_ text: String) { body += text + "\n" }

    mutating func text(
      _ content: String, x: Double, y: Double, size: Int, weight: String = "normal", anchor: String = "start"
    ) {
      element(
        "<text x=\"\(x)\" y=\"\(y)\" font-size=\"\(size)\" font-weight=\"\(weight)\" text-anchor=\"\(anchor)\">"
          + "\(SVG.escape(content))</text>")
    }

    var document: String {
      """
      <?xml version="1.0" encoding="UTF-8"?>
      <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
      viewBox="0 0 \(Int(width)) \(Int(height))" font-family="Helvetica, Arial, sans-serif">
      <rect width="100%" height="100%" fill="white"/>
      \(body)</svg>

      """
    }

    static func escape(_ text: String) -> String {
      text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
  }
}
