import Dispatch

#if canImport(Glibc)
  import Glibc
#endif

/// A file being written that has no name until it is complete.
///
/// The file is created unnamed in the destination's folder (`O_TMPFILE`), so
/// a failed or interrupted write, even a killed process, leaves nothing behind.
/// ``commit()`` flushes, fsyncs and then gives it its name with one `rename`,
/// so readers see either the old file or the whole new one, never a part.
/// Where the file system has no `O_TMPFILE`, a hidden temporary name is used
/// and removed on failure.
///
/// A spool (``init(spoolBeside:)``) is the same kind of file that is never
/// named: scratch space that ``append(contentsOf:)`` copies into another file.
///
/// What is already at the path decides how it is written:
/// - nothing, or a regular file: as above; a replaced file keeps its mode;
/// - a symbolic link: the file it points to is replaced, atomically beside
///   it, and the link stays;
/// - a device or a FIFO (`/dev/null`, a pipe): written as a stream, never
///   replaced (such outputs cannot be taken back: a failed write may leave
///   part of the bytes, and formats whose header is written last refuse them);
/// - a folder: refused.
public final class OutputFile {
  /// The path the file gets on ``commit()`` (for a spool, the file it is beside).
  public let path: String
  /// Bytes written so far: the file's length once flushed.
  public private(set) var length = 0

  private let descriptor: Int32
  /// Writing straight into an existing device or FIFO (no name to give).
  private let isStream: Bool
  private var temporaryName: String?
  private var buffer: UnsafeMutableRawBufferPointer
  private var buffered = 0
  private var finished = false
  private let isSpool: Bool
  /// Background `fdatasync`s started while writing, so that the disk writes
  /// overlap the work that produces the data and ``commit()`` waits less.
  private let backgroundSyncs = DispatchGroup()
  private var syncRequestedAt = 0

  /// Starts a file that ``commit()`` will name `path`.
  public convenience init(creating path: String) throws(DatasetError) {
    try self.init(path: path, spool: false)
  }

  /// Starts an unnamed scratch file in the folder of `path`.
  public convenience init(spoolBeside path: String) throws(DatasetError) {
    try self.init(path: path, spool: true)
  }

  private init(path requested: String, spool: Bool) throws(DatasetError) {
    isSpool = spool
    var path = requested
    var mode: mode_t = 0o644
    var existing = stat()
    if !spool, lstat(requested, &existing) == 0 {
      let type = existing.st_mode & S_IFMT
      if type == S_IFLNK {
        // Write the file the link points to; the link stays as it is.
        guard let target = realpath(requested, nil) else {
          throw .unsafeOutput(path: requested, reason: "it is a symbolic link to a file that does not exist")
        }
        path = String(cString: target)
        free(target)
        guard stat(path, &existing) == 0 else { throw .system(function: "stat", path: path, errno: errno) }
      }
      switch existing.st_mode & S_IFMT {
      case S_IFREG: mode = existing.st_mode & 0o7777
      case S_IFDIR: throw .unsafeOutput(path: requested, reason: "it is a folder; name a file to write")
      case S_IFCHR, S_IFIFO, S_IFBLK:
        let stream = open(path, O_WRONLY | O_CLOEXEC)
        guard stream >= 0 else { throw .system(function: "open", path: path, errno: errno) }
        self.path = path
        descriptor = stream
        isStream = true
        buffer = .allocate(byteCount: 1 << 20, alignment: 64)
        return
      default: throw .unsafeOutput(path: requested, reason: "it is neither a file, a device nor a FIFO")
      }
    }
    self.path = path
    isStream = false
    let folder = folderOf(path)
    // O_TMPFILE is `__O_TMPFILE | O_DIRECTORY`; Swift cannot import it
    // because it is only defined under _GNU_SOURCE.
    let tmpFile: Int32 = 0o2000_0000 | O_DIRECTORY
    var descriptor = open(folder, tmpFile | O_RDWR | O_CLOEXEC, mode_t(0o644))
    // The mode argument is filtered through the umask; an existing file's mode is kept exactly.
    if descriptor >= 0, !spool { fchmod(descriptor, mode) }
    if descriptor < 0 {
      let code = errno
      guard code == EOPNOTSUPP || code == EISDIR || code == EINVAL else {
        throw .system(function: "open", path: path, errno: code)
      }
      var template = Array("\(folder)/.\(baseName(of: path)).tmp-XXXXXX".utf8CString)
      descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
      guard descriptor >= 0 else { throw .system(function: "mkostemp", path: path, errno: errno) }
      let name = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
      if spool {
        unlink(name)
      } else {
        temporaryName = name
        fchmod(descriptor, mode)
      }
    }
    self.descriptor = descriptor
    buffer = .allocate(byteCount: 1 << 20, alignment: 64)
  }

  /// Appends `bytes` (buffered).
  public func write(_ bytes: UnsafeRawBufferPointer) throws(DatasetError) {
    guard var source = bytes.baseAddress else { return }
    var remaining = bytes.count
    length += remaining
    if remaining >= buffer.count {
      try flush()
      try writeAll(source, remaining)
      return
    }
    while remaining > 0 {
      let room = buffer.count - buffered
      if room == 0 {
        try flush()
        continue
      }
      let step = min(room, remaining)
      (buffer.baseAddress! + buffered).copyMemory(from: source, byteCount: step)
      buffered += step
      source += step
      remaining -= step
    }
  }

  /// Appends the bytes of `values`.
  public func write<T>(_ values: UnsafeBufferPointer<T>) throws(DatasetError) {
    try write(UnsafeRawBufferPointer(values))
  }

  /// Appends the bytes of `values`.
  public func write<T>(_ values: [T]) throws(DatasetError) {
    try values.withUnsafeBufferPointer { (buffer) throws(DatasetError) in try write(buffer) }
  }

  /// Appends a string's UTF-8 bytes.
  public func write(_ text: String) throws(DatasetError) {
    try write(Array(text.utf8))
  }

  /// Appends zero bytes until the length is a multiple of `alignment`.
  public func pad(toMultipleOf alignment: Int) throws(DatasetError) {
    let padding = (alignment - length % alignment) % alignment
    guard padding > 0 else { return }
    let zeros = [UInt8](repeating: 0, count: padding)
    try write(zeros)
  }

  /// Overwrites bytes already written at `offset` (for headers written last).
  /// The corresponding C function is `pwrite`.
  public func overwrite(_ bytes: [UInt8], at offset: Int) throws(DatasetError) {
    precondition(offset + bytes.count <= length, "overwrite past the end of \(path)")
    guard !isStream else {
      throw .unsafeOutput(
        path: path,
        reason: "this format writes its header last, which a device or FIFO cannot take; write to a file")
    }
    try flush()
    var done = 0
    while done < bytes.count {
      let count = bytes.withUnsafeBytes {
        pwrite(descriptor, $0.baseAddress! + done, bytes.count - done, off_t(offset + done))
      }
      if count < 0 {
        if errno == EINTR { continue }
        throw .system(function: "pwrite", path: path, errno: errno)
      }
      done += count
    }
  }

  /// Appends everything written to `spool`, passing each piece to `visit`
  /// (to checksum it on the way). The corresponding C function is `pread`.
  public func append(
    contentsOf spool: OutputFile, visit: (UnsafeRawBufferPointer) -> Void = { _ in }
  ) throws(DatasetError) {
    try spool.flush()
    let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 4 << 20, alignment: 64)
    defer { chunk.deallocate() }
    var offset = 0
    while offset < spool.length {
      let count = pread(
        spool.descriptor, chunk.baseAddress, min(chunk.count, spool.length - offset), off_t(offset))
      if count < 0 {
        if errno == EINTR { continue }
        throw .system(function: "pread", path: spool.path, errno: errno)
      }
      guard count > 0 else {
        throw .truncated(path: spool.path, expectedBytes: UInt64(spool.length), foundBytes: UInt64(offset))
      }
      let piece = UnsafeRawBufferPointer(rebasing: chunk[0..<count])
      visit(piece)
      try write(piece)
      offset += count
    }
  }

  /// Writes out the buffer.
  /// The corresponding C function is `write`.
  public func flush() throws(DatasetError) {
    guard buffered > 0 else { return }
    let count = buffered
    buffered = 0
    try writeAll(UnsafeRawPointer(buffer.baseAddress!), count)
  }

  /// Flushes, syncs the data to disk and gives the file its name, replacing
  /// any file of that name in one step.
  /// The corresponding C functions are `fsync`, `linkat` and `rename`.
  public func commit() throws(DatasetError) {
    precondition(!finished, "\(path) committed twice")
    try flush()
    backgroundSyncs.wait()
    if isStream {
      finished = true
      return
    }
    guard fsync(descriptor) == 0 else { throw .system(function: "fsync", path: path, errno: errno) }
    let staging: String
    if let temporaryName {
      staging = temporaryName
    } else {
      staging = "\(folderOf(path))/.\(baseName(of: path)).tmp-\(getpid())-\(descriptor)"
      unlink(staging)
      guard linkat(AT_FDCWD, "/proc/self/fd/\(descriptor)", AT_FDCWD, staging, AT_SYMLINK_FOLLOW) == 0
      else { throw .system(function: "linkat", path: path, errno: errno) }
      temporaryName = staging
    }
    guard rename(staging, path) == 0 else { throw .system(function: "rename", path: path, errno: errno) }
    temporaryName = nil
    finished = true
    let folder = open(folderOf(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if folder >= 0 {
      fsync(folder)
      close(folder)
    }
  }

  private func writeAll(_ start: UnsafeRawPointer, _ count: Int) throws(DatasetError) {
    var done = 0
    while done < count {
      let written = Glibc.write(descriptor, start + done, count - done)
      if written < 0 {
        if errno == EINTR { continue }
        throw .system(function: "write", path: path, errno: errno)
      }
      done += written
    }
    if !isSpool, !isStream, length - syncRequestedAt >= 16 << 20,
      backgroundSyncs.wait(timeout: .now()) == .success
    {
      syncRequestedAt = length
      let descriptor = descriptor
      // The corresponding C function is `fdatasync`; the descriptor stays
      // open until every background sync has finished (see deinit).
      DispatchQueue.global().async(group: backgroundSyncs) { _ = fdatasync(descriptor) }
    }
  }

  deinit {
    if let temporaryName { unlink(temporaryName) }
    backgroundSyncs.wait()
    close(descriptor)
    buffer.deallocate()
  }
}

extension OutputFile {
  /// Refuses an output that is the same file as one of `inputs` (same device
  /// and inode, whatever the names): writing it would destroy the input.
  /// Inputs that do not exist are passed over.
  public static func refuse(_ output: String, sameAsAnyOf inputs: [String]) throws(DatasetError) {
    var target = stat()
    guard stat(output, &target) == 0 else { return }
    for input in inputs {
      var source = stat()
      if stat(input, &source) == 0, source.st_dev == target.st_dev, source.st_ino == target.st_ino {
        throw .unsafeOutput(
          path: output, reason: "it is the same file as the input \(input); write the output elsewhere")
      }
    }
  }
}

/// "a/b/c.sds" → "a/b"; "c.sds" → ".".
func folderOf(_ path: String) -> String {
  guard let slash = path.lastIndex(of: "/") else { return "." }
  return slash == path.startIndex ? "/" : String(path[..<slash])
}

/// "a/b/c.sds" → "c.sds".
func baseName(of path: String) -> String {
  guard let slash = path.lastIndex(of: "/") else { return path }
  return String(path[path.index(after: slash)...])
}
