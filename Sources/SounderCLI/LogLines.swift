import Foundation

/// Where `train`, `cluster` and `profile` write what they do as they do it:
/// lines of text, or with `--json` one JSON object a line, each flushed when
/// it is written. Standard output is block-buffered when it is not a
/// terminal, so without the flush a log file, a pipe or `tee` received a
/// run's epochs 4 KB at a time (40 epochs of a small run), and whoever
/// watched could not tell a slow epoch from a stuck one.
struct LogLines {
  let json: Bool
  private let encoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return encoder
  }()

  init(json: Bool) { self.json = json }

  /// `text` and `terminator` on standard output, flushed.
  func say(_ text: String, terminator: String = "\n") {
    print(text, terminator: terminator)
    fflush(nil)
  }

  /// A line of its own in the text log (nothing in JSON mode).
  func note(_ text: String) {
    if !json { say(text) }
  }

  /// `line` as one JSON object on a line of its own.
  func emit<T: Encodable>(_ line: T) {
    guard let data = try? encoder.encode(line) else { return }
    say(String(decoding: data, as: UTF8.self))
  }
}
