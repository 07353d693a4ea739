/// The names of a dataset's classes as a `.sds` file keeps them: class `i`
/// (the label `Float(i)`) is called `names[i]`.
///
/// In the file (section ``Section/classNames``, format version 2) the names
/// are UTF-8, each followed by a newline (0x0A), in class order. A name is
/// non-empty, valid UTF-8, and holds no NUL, carriage return or newline; the
/// names are distinct byte strings; there are at most ``maximumCount``.
public enum ClassNames {
  /// The most classes a dataset may name (class ids fit in 16 bits).
  public static let maximumCount = 65_535

  /// Why `name` cannot be a class name ("is empty", "holds a NUL byte", …),
  /// or nil when it can.
  public static func problem(with name: UnsafeRawBufferPointer) -> String? {
    if name.isEmpty { return "is empty" }
    if name.contains(0) { return "holds a NUL byte" }
    if name.contains(0x0A) || name.contains(0x0D) { return "holds a line break" }
    if String(validating: name, as: UTF8.self) == nil { return "is not valid UTF-8" }
    return nil
  }

  /// Why `names` cannot be a dataset's class names, or nil when they can.
  public static func problem(with names: [String]) -> String? {
    guard !names.isEmpty, names.count <= maximumCount else {
      return "expected from 1 to \(maximumCount) class names, found \(names.count)"
    }
    var seen = Set<[UInt8]>()
    for (id, name) in names.enumerated() {
      let bytes = Array(name.utf8)
      if let problem = bytes.withUnsafeBytes({ problem(with: $0) }) {
        return "class name \(id) (\(quotedName(bytes))) \(problem)"
      }
      guard seen.insert(bytes).inserted else { return "class name \(id) (\(quotedName(bytes))) is repeated" }
    }
    return nil
  }

  /// The section's bytes for `names` (checked with ``problem(with:)-([String])``).
  static func encoded(_ names: [String]) -> [UInt8] {
    var bytes: [UInt8] = []
    for name in names {
      bytes.append(contentsOf: name.utf8)
      bytes.append(0x0A)
    }
    return bytes
  }

  /// What is wrong with a class-names section: what was expected, what was found.
  struct Problem: Error {
    var expected: String
    var found: String
  }

  /// The names in a section's bytes, or what is wrong with them.
  static func decode(_ bytes: UnsafeRawBufferPointer) -> Result<[String], Problem> {
    guard bytes.last == 0x0A else {
      return .failure(Problem(expected: "names each ended by a newline", found: "no newline at the end"))
    }
    var names: [String] = []
    var start = 0
    for (index, byte) in bytes.enumerated() where byte == 0x0A {
      guard names.count < maximumCount else {
        return .failure(Problem(expected: "at most \(maximumCount) names", found: "more"))
      }
      let name = UnsafeRawBufferPointer(rebasing: bytes[start..<index])
      if let problem = problem(with: name) {
        return .failure(
          Problem(
            expected: "non-empty UTF-8 names without NUL or line breaks",
            found: "class name \(names.count), which \(problem)"))
      }
      names.append(String(decoding: name, as: UTF8.self))
      start = index + 1
    }
    if let problem = problem(with: names) {
      return .failure(Problem(expected: "distinct names", found: problem))
    }
    return .success(names)
  }
}

/// `'name'`, shortened, for messages.
private func quotedName(_ bytes: [UInt8]) -> String {
  let text = String(decoding: bytes.prefix(40), as: UTF8.self)
  return "'\(text)\(bytes.count > 40 ? "…" : "")'"
}
