#if canImport(Glibc)
  import Glibc
#endif

/// A file opened for reading in chunks, closed when the value goes.
///
/// Parsers read through this type so that no input is ever held whole in
/// memory.
public final class ReadableFile {
  /// The path the file was opened with.
  public let path: String
  /// The file's size in bytes when it was opened.
  public let size: Int
  /// The last modification time, in nanoseconds since 1970.
  public let modificationTime: Int64
  /// The last status change time, in nanoseconds since 1970: set by the
  /// kernel on every write or metadata change, never by `cp -p` or `touch`.
  public let changeTime: Int64
  /// The file's device and inode: which file it is, whatever its name.
  public let identity: (device: UInt64, inode: UInt64)
  private let descriptor: Int32

  /// Opens `path` for reading.
  /// The corresponding C functions are `open` and `fstat`.
  public init(path: String) throws(DatasetError) {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { throw .system(function: "open", path: path, errno: errno) }
    var info = stat()
    guard fstat(descriptor, &info) == 0 else {
      let code = errno
      close(descriptor)
      throw .system(function: "fstat", path: path, errno: code)
    }
    guard info.st_mode & S_IFMT != S_IFDIR else {
      close(descriptor)
      throw .system(function: "read", path: path, errno: EISDIR)
    }
    self.path = path
    self.descriptor = descriptor
    size = Int(info.st_size)
    modificationTime = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
    changeTime = Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec)
    identity = (UInt64(info.st_dev), UInt64(info.st_ino))
  }

  /// Reads up to `buffer.count` bytes at the current position; returns how
  /// many were read, 0 at the end of the file. Retries short reads.
  /// The corresponding C function is `read`.
  public func read(into buffer: UnsafeMutableRawBufferPointer) throws(DatasetError) -> Int {
    guard let base = buffer.baseAddress else { return 0 }
    var total = 0
    while total < buffer.count {
      let count = Glibc.read(descriptor, base + total, buffer.count - total)
      if count < 0 {
        if errno == EINTR { continue }
        throw .system(function: "read", path: path, errno: errno)
      }
      if count == 0 { break }
      total += count
    }
    return total
  }

  deinit {
    // The corresponding C function is `close`.
    close(descriptor)
  }
}
