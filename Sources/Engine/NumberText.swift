#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `value` as C's printf writes it with `format`, one conversion of a
/// double such as `"%.3g"`: what Foundation's `String(format:)` did here,
/// without linking Foundation's internationalisation data into the library.
func printed(_ value: Double, _ format: String) -> String {
  var buffer = [CChar](repeating: 0, count: 64)
  let written = withVaList([value]) { vsnprintf(&buffer, buffer.count, format, $0) }
  let bytes = buffer.prefix(max(0, min(Int(written), buffer.count - 1))).map { UInt8(bitPattern: $0) }
  return String(decoding: bytes, as: UTF8.self)
}
