#if canImport(Glibc)
  import Glibc
#endif

/// Why opening, checking, writing or placing a dataset failed.
///
/// Every case prints as one sentence that names the file and says what was
/// expected and what was found.
public enum DatasetError: Error, Equatable, Sendable, CustomStringConvertible {
  /// A system call on `path` failed with `errno`.
  case system(function: String, path: String, errno: Int32)
  /// The file is shorter than its header or one of its sections says.
  case truncated(path: String, expectedBytes: UInt64, foundBytes: UInt64)
  /// The file does not start with the `.sds` magic bytes.
  case notADataset(path: String)
  /// The file was written by a newer Sounder with a format this one cannot read.
  case unsupportedVersion(path: String, found: UInt32, supported: UInt32)
  /// A header field holds a value the format does not allow.
  case invalidHeader(path: String, field: String, expected: String, found: String)
  /// A section's checksum does not match its bytes.
  case checksumMismatch(path: String, section: String, expected: UInt32, found: UInt32)
  /// The rows handed to a writer do not fit the dataset being written.
  case invalidRows(String)
  /// Row `row` (from 0) of `source` breaks a rule the kernels rely on
  /// (see ``CheckedRows``).
  case invalidRow(source: String, row: Int, problem: String)
  /// An output that cannot be written safely (a folder, an input, a dangling link).
  case unsafeOutput(path: String, reason: String)

  public var description: String {
    switch self {
    case .system(let function, let path, let code):
      let text = strerror(code).map { String(cString: $0) } ?? "errno \(code)"
      return "\(path): \(function) failed: \(text) (errno \(code))"
    case .truncated(let path, let expected, let found):
      return "\(path): truncated: expected at least \(expected) bytes, found \(found)"
    case .notADataset(let path):
      return "\(path): not a Sounder dataset: expected the magic bytes \"SOUNDSDS\" at the start"
    case .unsupportedVersion(let path, let found, let supported):
      return
        "\(path): format version \(found) is newer than this Sounder reads "
        + "(up to \(supported)); upgrade Sounder"
    case .invalidHeader(let path, let field, let expected, let found):
      return "\(path): corrupt header: \(field): expected \(expected), found \(found)"
    case .checksumMismatch(let path, let section, let expected, let found):
      return
        "\(path): \(section) section is corrupt: CRC32C expected \(hex(expected)), "
        + "found \(hex(found))"
    case .invalidRows(let text):
      return text
    case .invalidRow(let source, let row, let problem):
      return "\(source): row \(row + 1): \(problem)"
    case .unsafeOutput(let path, let reason):
      return "\(path): cannot write here: \(reason)"
    }
  }
}

private func hex(_ value: UInt32) -> String {
  let digits = String(value, radix: 16)
  return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
}

/// `text` with every control character written as an escape (`\n`, `\u{1b}`,
/// …), so that a message quoting input stays one line and prints no raw
/// bytes to a terminal: C0 controls, DEL and the C1 range U+0080–U+009F.
public func escapingControlCharacters(_ text: String) -> String {
  var result = ""
  for scalar in text.unicodeScalars {
    switch scalar.value {
    case 0x0A: result += "\\n"
    case 0x09: result += "\\t"
    case 0x0D: result += "\\r"
    case 0..<0x20, 0x7F...0x9F: result += "\\u{\(String(scalar.value, radix: 16))}"
    default: result.unicodeScalars.append(scalar)
    }
  }
  return result
}
