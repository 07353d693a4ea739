import Dataset
import Dispatch

#if canImport(Glibc)
  import Glibc
#endif

/// How a conversion runs: threads, chunk size, progress reports.
public struct IngestSettings: Sendable {
  /// Threads that parse at once (default: every core).
  public var threads: Int
  /// Bytes each thread parses per step. Memory use is about
  /// `threads × chunkBytes × 2`, whatever the input size.
  public var chunkBytes: Int
  /// Called after each step, on the converting thread.
  public var progress: (@Sendable (IngestProgress) -> Void)?

  /// Settings with every core and 8 MiB chunks.
  public init(
    threads: Int = ProcessInfoCores.count, chunkBytes: Int = 8 << 20,
    progress: (@Sendable (IngestProgress) -> Void)? = nil
  ) {
    self.threads = max(1, threads)
    self.chunkBytes = max(64, chunkBytes)
    self.progress = progress
  }
}

/// How far a conversion has got.
public struct IngestProgress: Sendable {
  /// Input bytes parsed.
  public var bytesDone: Int
  /// The input's size.
  public var totalBytes: Int
  /// Rows parsed.
  public var rows: Int
}

/// Parses a piece of text made of whole lines. Must be safe to call from
/// several threads at once on different pieces.
protocol LineParser: Sendable {
  /// Parses every line of `text` (whole lines; the last may lack its newline).
  func parse(_ text: UnsafeRawBufferPointer) -> ParsedPiece
}

/// What parsing a piece produced.
struct ParsedPiece: Sendable {
  /// The rows, in order.
  var batch: RowBatch
  /// Lines the piece held (including blank and comment lines).
  var lines = 0
  /// The first problem, with its line counted from the piece's first line (1-based).
  var error: (line: Int, message: String)?
  /// The largest column index seen (CSR), or -1.
  var maxIndex: Int32 = -1
  /// What the labels looked like.
  var labels = LabelSummary()
  /// Class names first seen in this piece, in the order they appear (the
  /// label pass over CSV files with name labels).
  var names = NameTable()
  /// The line of each of ``names``' first appearance, counted like ``error``.
  var nameLines: [Int] = []
}

extension ParsedPiece {
  /// Passes each line of `text` to `parseLine`, without its newline and, when
  /// `commentMarker` is given, without the marker and what follows it;
  /// counts lines. Stops at the first line `parseLine` rejects: records its
  /// message and line, and drops that row's partial values, so the piece
  /// always holds whole rows.
  @inline(__always)
  mutating func parseLines(
    of text: UnsafeRawBufferPointer, commentMarker: UInt8?,
    _ parseLine: (UnsafeRawBufferPointer, inout ParsedPiece) -> String?
  ) {
    guard let base = text.baseAddress else { return }
    var lineStart = 0
    let count = text.count
    // Precondition: lineStart ≤ count, so every memchr stays inside `text`.
    while lineStart < count {
      let newline = memchr(base + lineStart, 0x0A, count - lineStart)
      let lineEnd = newline.map { UnsafeRawPointer($0) - base } ?? count
      lines += 1
      var end = lineEnd
      if let commentMarker, let found = memchr(base + lineStart, Int32(commentMarker), end - lineStart) {
        end = UnsafeRawPointer(found) - base
      }
      let valueStart = batch.values.count
      let indexStart = batch.indices.count
      if let message = parseLine(UnsafeRawBufferPointer(rebasing: text[lineStart..<end]), &self) {
        batch.values.removeSubrange(valueStart...)
        batch.indices.removeSubrange(indexStart...)
        error = (lines, message)
        return
      }
      lineStart = lineEnd + 1
    }
  }
}

/// Carries a value across threads whose accesses the caller keeps apart.
struct UncheckedSendable<Value>: @unchecked Sendable {
  var value: Value
}

/// Reads a text file in large chunks, cuts each chunk into one piece per
/// thread at line boundaries, parses the pieces at once, and hands the results
/// over in file order, so the output is the same for any thread count.
///
/// `firstLine` sees the file's first line (or nil for an empty file) before
/// anything is parsed; it returns the parser and whether that line is consumed
/// (a header) rather than data.
func readInParallel<Parser: LineParser>(
  _ file: ReadableFile, settings: IngestSettings,
  firstLine: (UnsafeRawBufferPointer?) throws(IngestError) -> (Parser, skip: Bool),
  consume: (ParsedPiece, _ firstLineNumber: Int) throws(IngestError) -> Void
) throws(IngestError) {
  var capacity = settings.threads * settings.chunkBytes
  var buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 64)
  defer { buffer.deallocate() }
  var filled = 0
  var atEnd = false
  var lineNumber = 1
  var bytesDone = 0
  var rows = 0
  var parser: Parser?

  func fill() throws(IngestError) {
    while filled < capacity, !atEnd {
      let count: Int
      do {
        count = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
      } catch { throw .dataset(error) }
      if count == 0 { atEnd = true }
      filled += count
    }
  }

  while true {
    try fill()
    var start = 0
    if parser == nil {
      let newline = filled == 0 ? nil : memchr(buffer.baseAddress!, 0x0A, filled)
      if newline == nil, !atEnd {
        try grow(&buffer, &capacity, filled)
        continue
      }
      let end = newline.map { UnsafeRawPointer($0) - UnsafeRawPointer(buffer.baseAddress!) } ?? filled
      let line = filled == 0 ? nil : UnsafeRawBufferPointer(rebasing: buffer[0..<end])
      let (made, skip) = try firstLine(line)
      parser = made
      if skip {
        start = min(end + 1, filled)
        lineNumber = 2
      }
    }
    if filled == start, atEnd { break }
    // The text to parse now: everything up to the last newline, or all of it
    // at the end of the file. The rest waits for the next chunk.
    var usable = filled
    if !atEnd {
      guard let last = lastNewline(in: UnsafeRawBufferPointer(buffer), from: start, to: filled) else {
        try grow(&buffer, &capacity, filled)
        continue
      }
      usable = last + 1
    }
    let cuts = cutPoints(
      in: UnsafeRawBufferPointer(buffer), from: start, to: usable, pieces: settings.threads)
    let pieceCount = cuts.count - 1
    let results = UnsafeMutableBufferPointer<ParsedPiece?>.allocate(capacity: pieceCount)
    results.initialize(repeating: nil)
    defer {
      results.deinitialize()
      results.deallocate()
    }
    let shared = UncheckedSendable(value: (buffer: UnsafeRawBufferPointer(buffer), results: results))
    let chosen = parser!
    // Each iteration reads its own piece of the buffer and writes its own slot.
    DispatchQueue.concurrentPerform(iterations: pieceCount) { piece in
      let text = UnsafeRawBufferPointer(rebasing: shared.value.buffer[cuts[piece]..<cuts[piece + 1]])
      shared.value.results[piece] = chosen.parse(text)
    }
    for piece in 0..<pieceCount {
      let result = results[piece]!
      if let error = result.error {
        throw .malformed(path: file.path, line: lineNumber + error.line - 1, message: error.message)
      }
      try consume(result, lineNumber)
      lineNumber += result.lines
      rows += result.batch.rowCount
    }
    bytesDone += usable
    settings.progress?(
      IngestProgress(bytesDone: min(bytesDone, file.size), totalBytes: file.size, rows: rows))
    // Move the unparsed tail to the front.
    let tail = filled - usable
    if tail > 0 { buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + usable, byteCount: tail) }
    filled = tail
    if atEnd, filled == 0 { break }
  }
}

/// Doubles the buffer when one line does not fit.
private func grow(
  _ buffer: inout UnsafeMutableRawBufferPointer, _ capacity: inout Int, _ filled: Int
) throws(IngestError) {
  guard capacity < 1 << 31 else {
    throw .invalidOptions("a line longer than \(capacity) bytes: is this a text file?")
  }
  let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity * 2, alignment: 64)
  bigger.baseAddress!.copyMemory(from: buffer.baseAddress!, byteCount: filled)
  buffer.deallocate()
  buffer = bigger
  capacity *= 2
}

/// Splits `start..<end` of `text` into up to `pieces` ranges of about equal
/// size, each ending just after a newline (or at `end`).
private func cutPoints(in text: UnsafeRawBufferPointer, from start: Int, to end: Int, pieces: Int) -> [Int] {
  var cuts = [start]
  let step = max(1, (end - start) / pieces)
  for piece in 1..<max(pieces, 1) {
    let target = max(start + piece * step, cuts.last!)
    guard target < end else { break }
    guard let newline = memchr(text.baseAddress! + target, 0x0A, end - target) else { break }
    let cut = UnsafeRawPointer(newline) - text.baseAddress! + 1
    if cut < end, cut > cuts.last! { cuts.append(cut) }
  }
  cuts.append(end)
  return cuts
}

/// The position of the last newline in `start..<end` of `text`.
private func lastNewline(in text: UnsafeRawBufferPointer, from start: Int, to end: Int) -> Int? {
  var index = end - 1
  // Precondition: start ≤ index < end ≤ text.count for every load.
  while index >= start {
    if text[index] == 0x0A { return index }
    index -= 1
  }
  return nil
}
