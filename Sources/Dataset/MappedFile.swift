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

/// Read-only memory that reads as zeros and costs no memory: an anonymous
/// private mapping never written, whose pages the kernel maps to its one
/// shared zero page when read (only page-table entries are made, 8 bytes
/// per 4 KiB read). Unmapped when the last reference goes.
///
/// What a dataset without labels points its labels at, so that a
/// ``RowBlock`` over it still has a label (0) for every row. Never written,
/// so any number of threads may read it at once.
final class ZeroPages: @unchecked Sendable {
  /// The zeros: at least one page, whatever `byteCount` asked for.
  let bytes: UnsafeRawBufferPointer

  /// Maps `byteCount` bytes of zeros; `path` names the dataset in an error.
  /// The corresponding C function is `mmap` with `MAP_ANONYMOUS`.
  init(byteCount: Int, for path: String) throws(DatasetError) {
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    let (padded, overflow) = max(byteCount, 1).addingReportingOverflow(page - 1)
    guard !overflow else { throw .system(function: "mmap", path: path, errno: ENOMEM) }
    let size = padded / page * page
    // MAP_NORESERVE: pages never written need no swap or overcommit reservation.
    let start = mmap(nil, size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
    guard let start, start != MAP_FAILED else { throw .system(function: "mmap", path: path, errno: errno) }
    bytes = UnsafeRawBufferPointer(start: start, count: size)
  }

  deinit {
    // The corresponding C function is `munmap`.
    munmap(UnsafeMutableRawPointer(mutating: bytes.baseAddress!), bytes.count)
  }
}

/// What a dataset's rows point into, kept alive by every copy of the
/// ``Dataset`` and of the ``CheckedRows`` made from it: the file's mapping
/// and, for a dataset without labels, the zeros its labels read.
final class DatasetMemory: Sendable {
  /// The file's mapping.
  let file: MappedFile
  /// The labels of a dataset without labels (label kind none); nil otherwise.
  let zeroLabels: ZeroPages?

  init(file: MappedFile, zeroLabels: ZeroPages?) {
    self.file = file
    self.zeroLabels = zeroLabels
  }
}
