import Dataset
import Foundation

/// Opens data for training or prediction: a `.sds` file as it is, and any
/// other format converted once into a hidden `.sds` file beside it
/// (`.NAME.sounder.sds`), reused while the source is unchanged.
///
/// "Unchanged" means the same size, modification time and CRC32C of its first
/// 64 KiB, and the same parsing options; these are kept in a small key file
/// (`.NAME.sounder.key`) written after the cache. Where the source's folder is
/// not writable, the cache goes to the temporary folder instead.
public enum DatasetCache {
  /// The dataset at `path`, converting it first when it is not `.sds`.
  /// `options` must describe every setting that changes the parse result.
  public static func open(
    _ path: String, format: DataFormat? = nil, libsvm: LIBSVMOptions = LIBSVMOptions(),
    csv: CSVOptions = CSVOptions(), npyLabels: String? = nil, settings: IngestSettings = IngestSettings(),
    options: String = ""
  ) throws(IngestError) -> Dataset {
    let inputFormat = format ?? DataFormat(path: path)
    if inputFormat == .sds {
      do { return try Dataset(path: path) } catch { throw .dataset(error) }
    }
    let key = try fingerprint(of: path) + "\n" + options + "\n" + (format?.rawValue ?? "") + "\n"
    let (cache, keyFile) = locations(for: path)
    if (try? String(contentsOfFile: keyFile, encoding: .utf8)) == key, let dataset = try? Dataset(path: cache)
    {
      return dataset
    }
    _ = try Importer.convert(
      input: path, output: cache, format: format, libsvm: libsvm, csv: csv, npyLabels: npyLabels,
      settings: settings)
    do {
      let file = try OutputFile(creating: keyFile)
      try file.write(key)
      try file.commit()
      return try Dataset(path: cache)
    } catch { throw .dataset(error) }
  }

  /// The cache and key file paths for `path`: beside it when its folder is
  /// writable, in the temporary folder otherwise.
  static func locations(for path: String) -> (cache: String, key: String) {
    let url = URL(fileURLWithPath: path)
    var folder = url.deletingLastPathComponent().path
    if !FileManager.default.isWritableFile(atPath: folder) { folder = NSTemporaryDirectory() }
    let stem = folder + "/." + url.lastPathComponent + ".sounder"
    return (stem + ".sds", stem + ".key")
  }

  /// Size, modification time and CRC32C of the first 64 KiB of `path`.
  /// The corresponding C functions are `stat`, `open` and `pread`.
  static func fingerprint(of path: String) throws(IngestError) -> String {
    var info = stat()
    guard stat(path, &info) == 0 else { throw .dataset(.system(function: "stat", path: path, errno: errno)) }
    let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { throw .dataset(.system(function: "open", path: path, errno: errno)) }
    defer { close(descriptor) }
    var head = [UInt8](repeating: 0, count: 64 << 10)
    let count = head.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
    guard count >= 0 else { throw .dataset(.system(function: "pread", path: path, errno: errno)) }
    let checksum = head[0..<count].withUnsafeBytes { CRC32C.checksum($0) }
    return "size \(info.st_size) modified \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec) crc32c \(checksum)"
  }
}
