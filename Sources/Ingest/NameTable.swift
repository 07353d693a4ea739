#if canImport(Glibc)
  import Glibc
#endif

/// Byte strings numbered 0, 1, 2, … in the order they are added, found again
/// from raw bytes without building a `String` (an open-addressing hash table
/// over one byte array). Names compare as bytes, so two spellings of one
/// accented letter are two names, as they are in the file.
struct NameTable: Sendable, Equatable {
  /// Every name's bytes, one after another.
  private var storage: [UInt8] = []
  /// Where each name ends in ``storage``; name `i` starts where `i - 1` ends.
  private var ends: [Int] = []
  /// Per slot, the id of the name hashed there, or -1. Empty until the first
  /// insertion; its count is a power of two at least twice ``count``.
  private var slots: [Int32] = []

  /// Names held.
  var count: Int { ends.count }

  /// The bytes of name `id`.
  func bytes(of id: Int) -> ArraySlice<UInt8> {
    storage[(id == 0 ? 0 : ends[id - 1])..<ends[id]]
  }

  /// Name `id` as a string (names are checked to be valid UTF-8 when added).
  func name(_ id: Int) -> String { String(decoding: bytes(of: id), as: UTF8.self) }

  /// Every name, in id order.
  var names: [String] { (0..<count).map(name) }

  /// The id of `key`, if it was added.
  @inline(__always)
  func id(of key: UnsafeRawBufferPointer) -> Int32? {
    guard !slots.isEmpty else { return nil }
    let mask = slots.count - 1
    var slot = Int(truncatingIfNeeded: Self.hash(key)) & mask
    while true {
      let id = slots[slot]
      if id < 0 { return nil }
      if matches(Int(id), key) { return id }
      slot = (slot + 1) & mask
    }
  }

  /// Adds `key` unless it is there; returns its id and whether it is new.
  @discardableResult
  mutating func insert(_ key: UnsafeRawBufferPointer) -> (id: Int32, inserted: Bool) {
    if let id = id(of: key) { return (id, false) }
    let id = Int32(count)
    storage.append(contentsOf: key)
    ends.append(storage.count)
    if slots.count < 2 * count { rehash(capacity: max(16, 4 * count)) } else { place(Int(id)) }
    return (id, true)
  }

  /// The same names, numbered in byte-wise sorted order.
  func sorted() -> NameTable {
    let order = (0..<count).sorted { bytes(of: $0).lexicographicallyPrecedes(bytes(of: $1)) }
    var table = NameTable()
    for id in order { bytes(of: id).withUnsafeBytes { _ = table.insert($0) } }
    return table
  }

  static func == (left: NameTable, right: NameTable) -> Bool {
    left.storage == right.storage && left.ends == right.ends
  }

  private func matches(_ id: Int, _ key: UnsafeRawBufferPointer) -> Bool {
    let start = id == 0 ? 0 : ends[id - 1]
    guard ends[id] - start == key.count else { return false }
    guard let keyBase = key.baseAddress else { return true }
    return storage.withUnsafeBytes { memcmp($0.baseAddress! + start, keyBase, key.count) == 0 }
  }

  private mutating func rehash(capacity: Int) {
    var size = 16
    while size < capacity { size <<= 1 }
    slots = Array(repeating: -1, count: size)
    for id in 0..<count { place(id) }
  }

  /// Puts name `id` into the first free slot from its hash.
  private mutating func place(_ id: Int) {
    let mask = slots.count - 1
    var slot = bytes(of: id).withUnsafeBytes { Int(truncatingIfNeeded: Self.hash($0)) } & mask
    while slots[slot] >= 0 { slot = (slot + 1) & mask }
    slots[slot] = Int32(id)
  }

  /// FNV-1a over the bytes, then a final mix so the low bits depend on all of them.
  @inline(__always)
  private static func hash(_ key: UnsafeRawBufferPointer) -> UInt64 {
    var value: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in key { value = (value ^ UInt64(byte)) &* 0x0100_0000_01B3 }
    value ^= value >> 33
    value = value &* 0xFF51_AFD7_ED55_8CCD
    return value ^ (value >> 33)
  }
}
