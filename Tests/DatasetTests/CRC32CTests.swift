import Dataset
import Testing

@Suite("CRC-32C")
struct CRC32CTests {
  @Test("matches the published check values")
  func checkValues() {
    #expect(CRC32C.checksum("123456789") == 0xE306_9283)
    #expect(CRC32C.checksum("") == 0)
    // RFC 3720 B.4: 32 bytes of zeros.
    let zeros = [UInt8](repeating: 0, count: 32)
    #expect(zeros.withUnsafeBytes { CRC32C.checksum($0) } == 0x8A91_36AA)
  }

  @Test("feeding bytes in pieces gives the same checksum as one call")
  func pieces() {
    let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
    let whole = bytes.withUnsafeBytes { CRC32C.checksum($0) }
    for split in [0, 1, 7, 8, 9, 500, 999, 1000] {
      var crc = CRC32C()
      bytes.withUnsafeBytes {
        crc.update(UnsafeRawBufferPointer(rebasing: $0[0..<split]))
        crc.update(UnsafeRawBufferPointer(rebasing: $0[split...]))
      }
      #expect(crc.value == whole, "split at \(split)")
    }
  }

  @Test("slicing-by-8 agrees with the bit-at-a-time reference")
  func reference() {
    let bytes = (0..<257).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 3) }
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
      crc ^= UInt32(byte)
      for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
    }
    #expect(bytes.withUnsafeBytes { CRC32C.checksum($0) } == ~crc)
  }
}
