import Foundation
import Ingest

/// A one-line progress bar on stderr: bytes, rows per second and time left.
/// Silent unless stderr is a terminal, so pipes and logs stay clean.
final class ProgressBar: @unchecked Sendable {
  private let enabled: Bool
  private let start = Date()
  private var lastDraw = Date.distantPast
  private var drawn = false
  private let lock = NSLock()

  /// A bar that draws only when stderr is a terminal and `quiet` is false.
  init(quiet: Bool) {
    enabled = !quiet && isatty(STDERR_FILENO) == 1
  }

  /// Redraws the bar (at most ten times a second).
  func update(_ progress: IngestProgress) {
    guard enabled else { return }
    lock.lock()
    defer { lock.unlock() }
    let now = Date()
    guard now.timeIntervalSince(lastDraw) >= 0.1 || progress.bytesDone >= progress.totalBytes else { return }
    lastDraw = now
    let elapsed = max(now.timeIntervalSince(start), 1e-6)
    let fraction = progress.totalBytes > 0 ? Double(progress.bytesDone) / Double(progress.totalBytes) : 1
    let width = 30
    let filled = Int(fraction * Double(width))
    let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
    let remaining = fraction > 0 ? elapsed * (1 - fraction) / fraction : 0
    let line = String(
      format: "\r[%@] %3.0f%%  %@ / %@  %.0f rows/s  ETA %.0fs ", bar, fraction * 100,
      formatBytes(UInt64(progress.bytesDone)), formatBytes(UInt64(progress.totalBytes)),
      Double(progress.rows) / elapsed, remaining)
    FileHandle.standardError.write(Data(line.utf8))
    drawn = true
  }

  /// Ends the bar's line, if one was drawn.
  func finish() {
    lock.lock()
    defer { lock.unlock() }
    if drawn { FileHandle.standardError.write(Data("\n".utf8)) }
    drawn = false
  }
}
