/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of
/// each `.sds` section, computed eight bytes at a time ("slicing-by-8").
///
/// Feed bytes in any number of pieces; the result is the same as one call
/// over all of them. `CRC32C.checksum("123456789")` is 0xE3069283.
public struct CRC32C: Sendable {
  /// The checksum of the bytes fed so far.
  public var value: UInt32 { ~state }

  private var state: UInt32 = 0xFFFF_FFFF

  /// A checksum of no bytes.
  public init() {}

  /// The checksum of `bytes` in one call.
  public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
    var crc = CRC32C()
    crc.update(bytes)
    return crc.value
  }

  /// The checksum of a string's UTF-8 bytes.
  public static func checksum(_ text: String) -> UInt32 {
    var copy = text
    return copy.withUTF8 { checksum(UnsafeRawBufferPointer($0)) }
  }

  /// Adds `bytes` to the checksum.
  public mutating func update(_ bytes: UnsafeRawBufferPointer) {
    guard let base = bytes.baseAddress else { return }
    let table = crc32cTables
    var crc = state
    var index = 0
    let count = bytes.count
    // Preconditions: `table` holds 8 × 256 entries; every load below stays
    // inside `bytes` (8-byte loads only while 8 bytes remain).
    assert(table.count == 8 * 256)
    table.withUnsafeBufferPointer { t in
      while index + 8 <= count {
        let word = base.loadUnaligned(fromByteOffset: index, as: UInt64.self).littleEndian
        let low = UInt32(truncatingIfNeeded: word) ^ crc
        let high = UInt32(truncatingIfNeeded: word >> 32)
        crc =
          t[7 * 256 + Int(low & 0xFF)] ^ t[6 * 256 + Int((low >> 8) & 0xFF)]
          ^ t[5 * 256 + Int((low >> 16) & 0xFF)] ^ t[4 * 256 + Int(low >> 24)]
          ^ t[3 * 256 + Int(high & 0xFF)] ^ t[2 * 256 + Int((high >> 8) & 0xFF)]
          ^ t[1 * 256 + Int((high >> 16) & 0xFF)] ^ t[Int(high >> 24)]
        index += 8
      }
      while index < count {
        let byte = base.load(fromByteOffset: index, as: UInt8.self)
        crc = t[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
        index += 1
      }
    }
    state = crc
  }
}

/// Table k maps a byte to its CRC contribution k bytes further on.
private let crc32cTables: [UInt32] = {
  var tables = [UInt32](repeating: 0, count: 8 * 256)
  for byte in 0..<256 {
    var crc = UInt32(byte)
    for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
    tables[byte] = crc
  }
  for slice in 1..<8 {
    for byte in 0..<256 {
      let previous = tables[(slice - 1) * 256 + byte]
      tables[slice * 256 + byte] = (previous >> 8) ^ tables[Int(previous & 0xFF)]
    }
  }
  return tables
}()
