import Dataset
import Foundation

/// Opens data for training or prediction: a `.sds` file as it is, and any
/// other format converted once into a hidden `.sds` cache beside it, reused
/// while the source is unchanged.
///
/// The cache for `data/train.svm` is `data/.train.svm.sounder.sds`, with
/// `data/.train.svm.sounder.key` beside it recording what it was made from:
/// the source's size, modification and status-change times, device and
/// inode, CRC-32C of its first 64 KiB, and the
/// parsing options. When any of those differ, or the cache does not open, the
/// source is converted again (atomically, so a reader never sees half a
/// cache). Where the source's folder is not writable, the cache goes to the
/// temporary folder instead.
///
/// ```swift
/// let (data, converted) = try DatasetCache.open(source: "train.svm")   // converts the first time only
/// ```
public enum DatasetCache {
  /// Bytes at the start of the source that are checksummed for the key.
  static let keyedPrefix = 64 << 10

  /// The cache path for `source` (its key file adds `.key` in place of `.sds`).
  public static func cachePath(for source: String) -> String { stem(for: source) + ".sds" }

  static func keyPath(for source: String) -> String { stem(for: source) + ".key" }

  /// Opens `source`: a `.sds` file directly, anything else through its cache,
  /// converting the source first when the cache is missing or stale. Returns
  /// the dataset and whether it was converted now.
  public static func open(
    source: String, format: DataFormat? = nil, libsvm: LIBSVMOptions = LIBSVMOptions(),
    csv: CSVOptions = CSVOptions(), npyLabels: String? = nil, settings: IngestSettings = IngestSettings()
  ) throws(IngestError) -> (dataset: Dataset, converted: Bool) {
    if (format ?? DataFormat(path: source)) == .sds {
      do { return (try Dataset(path: source), false) } catch { throw .dataset(error) }
    }
    let cache = cachePath(for: source)
    let keyPath = keyPath(for: source)
    let key = try self.key(
      source: source, options: "\(format.map(\.rawValue) ?? "auto") \(libsvm) \(csv) \(npyLabels ?? "")")
    if let stored = try? readSmallFile(keyPath), stored == key, let dataset = try? Dataset(path: cache) {
      return (dataset, false)
    }
    _ = try Importer.convert(
      input: source, output: cache, format: format, libsvm: libsvm, csv: csv, npyLabels: npyLabels,
      settings: settings)
    do {
      let output = try OutputFile(creating: keyPath)
      try output.write(key)
      try output.commit()
      return (try Dataset(path: cache), true)
    } catch { throw .dataset(error) }
  }

  /// The cache's path without its extension: beside the source when its
  /// folder is writable; in the temporary folder otherwise, named also by
  /// the source's folder so that two sources of one name do not share it.
  static func stem(for source: String) -> String {
    let url = URL(fileURLWithPath: source)
    let folder = url.deletingLastPathComponent().path
    let name = "." + url.lastPathComponent
    if FileManager.default.isWritableFile(atPath: folder) { return folder + "/" + name + ".sounder" }
    let folderHash = CRC32C.checksum(folder)
    return NSTemporaryDirectory() + "/" + name + ".\(String(folderHash, radix: 16)).sounder"
  }

  /// What identifies the source's current contents and the options.
  static func key(source: String, options: String) throws(IngestError) -> String {
    let file = try Importer.openInput(source)
    let prefix = UnsafeMutableRawBufferPointer.allocate(byteCount: keyedPrefix, alignment: 64)
    defer { prefix.deallocate() }
    let count: Int
    do { count = try file.read(into: prefix) } catch { throw .dataset(error) }
    let checksum = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: prefix[0..<count]))
    // ctime and the inode catch what size, mtime and the first 64 KiB miss: an edit past the
    // prefix with size and mtime restored (cp -p, rsync -t, touch -r) changes one of them.
    return
      "sounder-cache 2\nsize \(file.size)\nmtime \(file.modificationTime)\nctime \(file.changeTime)\n"
      + "file \(file.identity.device):\(file.identity.inode)\ncrc32c \(checksum)\noptions \(options)\n"
  }

  private static func readSmallFile(_ path: String) throws(DatasetError) -> String {
    let file = try ReadableFile(path: path)
    guard file.size <= 1 << 16 else { return "" }
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(file.size, 1), alignment: 8)
    defer { buffer.deallocate() }
    let count = try file.read(into: buffer)
    return String(decoding: UnsafeRawBufferPointer(rebasing: buffer[0..<count]), as: UTF8.self)
  }
}
