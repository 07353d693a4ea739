import Dataset

/// Why a conversion failed.
public enum IngestError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The input text is malformed at `line` (1-based): prints as
  /// `path:line: what was expected, what was found`.
  case malformed(path: String, line: Int, message: String)
  /// The options do not make sense together or for this input.
  case invalidOptions(String)
  /// Reading the input or writing the output failed.
  case dataset(DatasetError)

  public var description: String {
    switch self {
    // Messages quote input: control characters are escaped so the text stays one line.
    case .malformed(let path, let line, let message): escapingControlCharacters("\(path):\(line): \(message)")
    case .invalidOptions(let text): escapingControlCharacters(text)
    case .dataset(let error): error.description
    }
  }
}

/// `"abc"` → `'abc'`, shortened and with control characters escaped, for
/// quoting input in error messages.
func quoted(_ bytes: UnsafeRawBufferPointer) -> String {
  let limit = 40
  let text = escapingControlCharacters(String(decoding: bytes.prefix(limit), as: UTF8.self))
  return "'\(text)\(bytes.count > limit ? "…" : "")'"
}
