import Engine

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// Any key of a JSON object.
private struct AnyKey: CodingKey {
  var stringValue: String
  var intValue: Int? { nil }
  init(stringValue: String) { self.stringValue = stringValue }
  init?(intValue: Int) { nil }
}

/// The keys of a JSON object, to compare with the settings a type knows.
private struct Keys: Decodable {
  var names: [String]
  init(from decoder: any Decoder) throws {
    names = try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue)
  }
}

/// The settings in `text`, a JSON object whose keys are all among `known`
/// (`nil` text: `fallback`, the defaults). A key the type does not know is an
/// error, not ignored: a misspelt setting would otherwise train with its
/// default and say nothing.
func settings<T: Decodable>(
  _ text: UnsafePointer<CChar>?, as type: T.Type, known: [String], fallback: T?
) throws(CallError) -> T {
  guard let text else {
    if let fallback { return fallback }
    throw .argument("the settings are NULL; they must name at least \"clusters\"")
  }
  let bytes = Data(bytes: text, count: strlen(text))
  let decoder = JSONDecoder()
  do {
    let keys = try decoder.decode(Keys.self, from: bytes).names
    if let unknown = keys.sorted().first(where: { !known.contains($0) }) {
      throw CallError.argument(
        "settings: unknown key \"\(unknown)\"; the keys are "
          + known.map { "\"\($0)\"" }.joined(separator: ", "))
    }
    return try decoder.decode(T.self, from: bytes)
  } catch let error as CallError {
    throw error
  } catch let error as DecodingError {
    throw .argument("settings: " + describe(error))
  } catch {
    throw .argument("settings: \(error)")
  }
}

/// One line for a JSON decoding error: which key, what was wrong.
private func describe(_ error: DecodingError) -> String {
  func key(_ context: DecodingError.Context) -> String {
    context.codingPath.isEmpty
      ? "" : "\"" + context.codingPath.map(\.stringValue).joined(separator: ".") + "\": "
  }
  switch error {
  case .typeMismatch(let type, let context): return key(context) + "expected \(type)"
  case .valueNotFound(let type, let context): return key(context) + "expected \(type), found null"
  case .keyNotFound(let missing, _): return "the key \"\(missing.stringValue)\" is required"
  case .dataCorrupted(let context):
    return context.codingPath.isEmpty
      ? "not a JSON object (\(context.debugDescription))" : key(context) + context.debugDescription
  @unknown default: return "\(error)"
  }
}

#if canImport(Glibc)
  import Glibc
#endif
