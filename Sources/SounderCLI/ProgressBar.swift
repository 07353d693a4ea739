import Foundation
import Sounder

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

  /// Shows a one-line status in place of a bar (at most ten times a second).
  func status(_ text: String) {
    guard enabled else { return }
    lock.lock()
    defer { lock.unlock() }
    let now = Date()
    guard now.timeIntervalSince(lastDraw) >= 0.1 else { return }
    lastDraw = now
    let line = "\r" + text.prefix(100) + String(repeating: " ", count: max(0, 100 - text.count))
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

/// A progress bar inside long epochs of `sounder train`: examples done of
/// the epoch's total, read from the workers' counters by a thread of its own
/// five times a second. It appears only on a terminal and only once an epoch
/// has run for a second, so short epochs and piped output stay clean.
final class EpochProgressBar: @unchecked Sendable {
  private let counters: WorkerCounters
  private let lock = NSLock()
  private var running: Bool
  private var drawn = false

  init(counters: WorkerCounters, enabled: Bool) {
    self.counters = counters
    running = enabled && isatty(STDERR_FILENO) == 1
    guard running else { return }
    Thread.detachNewThread { [self] in watch() }
  }

  private func watch() {
    var epoch = 0
    var started = Date()
    while true {
      usleep(200_000)
      lock.lock()
      defer { lock.unlock() }
      guard running else { return }
      guard let progress = counters.epochProgress else { continue }
      if progress.epoch != epoch { (epoch, started) = (progress.epoch, Date()) }
      let elapsed = Date().timeIntervalSince(started)
      guard elapsed >= 1, progress.total > 0, progress.done < progress.total else { continue }
      let fraction = Double(progress.done) / Double(progress.total)
      let filled = Int(fraction * 30)
      let line = String(
        format: "\r  epoch %d [%@%@] %3.0f%%  %.3g rows/s  ETA %.0fs ", epoch,
        String(repeating: "#", count: filled), String(repeating: "-", count: 30 - filled), fraction * 100,
        Double(progress.done) / elapsed, elapsed * (1 - fraction) / max(fraction, 1e-9))
      FileHandle.standardError.write(Data(line.utf8))
      drawn = true
    }
  }

  /// Erases the bar, if drawn, then runs `body` (which prints a line) before
  /// the bar can be drawn again.
  func clear(_ body: () -> Void) {
    lock.lock()
    defer { lock.unlock() }
    erase()
    body()
  }

  /// Erases the bar and stops its thread.
  func stop() {
    lock.lock()
    defer { lock.unlock() }
    running = false
    erase()
  }

  private func erase() {
    if drawn { FileHandle.standardError.write(Data(("\r" + String(repeating: " ", count: 79) + "\r").utf8)) }
    drawn = false
  }
}
