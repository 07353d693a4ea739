#if canImport(Glibc)
  import Glibc
#endif

/// A whole file mapped read-only into memory, unmapped when the last
/// reference goes.
///
/// Mapping costs the same for any file size: pages are read from the page
/// cache (or disk) when first touched. The mapping is never written, so any
/// number of threads may read it at once; that is why the class is
/// `Sendable`.
public final class MappedFile: @unchecked Sendable {
  /// The mapped bytes (empty for an empty file).
  public let bytes: UnsafeRawBufferPointer
  /// The path the file was opened with.
  public let path: String
  /// This mapping's slot in ``TruncationGuard``, if it has one.
  private let guardSlot: Int?

  /// Maps the file at `path` read-only and shared.
  /// The corresponding C functions are `open`, `fstat` and `mmap`.
  public init(path: String) throws(DatasetError) {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { throw .system(function: "open", path: path, errno: errno) }
    defer { close(descriptor) }
    var info = stat()
    guard fstat(descriptor, &info) == 0 else {
      throw .system(function: "fstat", path: path, errno: errno)
    }
    guard info.st_mode & S_IFMT == S_IFREG else {
      throw .system(function: "open", path: path, errno: EISDIR)
    }
    self.path = path
    let size = Int(info.st_size)
    guard size > 0 else {
      bytes = UnsafeRawBufferPointer(start: nil, count: 0)
      guardSlot = nil
      return
    }
    let start = mmap(nil, size, PROT_READ, MAP_SHARED, descriptor, 0)
    guard let start, start != MAP_FAILED else {
      throw .system(function: "mmap", path: path, errno: errno)
    }
    bytes = UnsafeRawBufferPointer(start: start, count: size)
    guardSlot = TruncationGuard.register(bytes, path: path)
  }

  /// Tells the kernel the range will be read front to back, so it reads ahead
  /// more. Advice only: failures are ignored.
  /// The corresponding C function is `madvise` with `MADV_SEQUENTIAL`.
  public func adviseSequential(_ range: Range<Int>? = nil) {
    advise(range, MADV_SEQUENTIAL)
  }

  /// Tells the kernel the range will be needed soon, so it starts reading it.
  /// The corresponding C function is `madvise` with `MADV_WILLNEED`.
  public func adviseWillNeed(_ range: Range<Int>? = nil) {
    advise(range, MADV_WILLNEED)
  }

  private func advise(_ range: Range<Int>?, _ advice: Int32) {
    guard let base = bytes.baseAddress else { return }
    let range = range ?? 0..<bytes.count
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    let start = range.lowerBound / page * page
    guard range.upperBound > start else { return }
    _ = madvise(UnsafeMutableRawPointer(mutating: base + start), range.upperBound - start, advice)
  }

  deinit {
    if let guardSlot { TruncationGuard.unregister(guardSlot) }
    // The corresponding C function is `munmap`.
    if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
  }
}
