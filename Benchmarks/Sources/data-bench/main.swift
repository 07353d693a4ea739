// Data (issue 3) measurements that need to run inside one process:
//
//   data-bench open FILE [--runs N] [--cold]
//     opens a .sds dataset and reads its first row, best and median of N runs,
//     page cache warm or (--cold) dropped before each run;
//   data-bench parse FILE.svm|FILE.csv [--runs N] [--threads T] [--zero-based]
//     parses text into memory and throws the rows away: parsing alone, as
//     scikit-learn's load_svmlight_file and pandas.read_csv measure it.
import Foundation
import Sounder

#if canImport(Glibc)
  import Glibc
#endif

/// Asks the kernel to drop the file's cached pages, so the next read goes to
/// disk. The corresponding C function is `posix_fadvise` with `POSIX_FADV_DONTNEED`.
func dropFromPageCache(_ path: String) {
  let descriptor = open(path, O_RDONLY)
  guard descriptor >= 0 else { return }
  _ = posix_fadvise(descriptor, 0, 0, POSIX_FADV_DONTNEED)
  close(descriptor)
}

/// Seconds on the monotonic clock.
func now() -> Double {
  var time = timespec()
  clock_gettime(CLOCK_MONOTONIC, &time)
  return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
}

/// A sink that counts rows and keeps nothing.
final class DiscardingSink: RowSink {
  var rows = 0
  func append(_ batch: RowBatch) throws(DatasetError) { rows += batch.rowCount }
  func finish(columns: Int, labelKind: LabelKind) throws(DatasetError) {}
}

func option(_ name: String) -> Int? {
  CommandLine.arguments.firstIndex(of: name).flatMap { Int(CommandLine.arguments[$0 + 1]) }
}

let arguments = CommandLine.arguments
guard arguments.count >= 3, ["open", "parse"].contains(arguments[1]) else {
  FileHandle.standardError.write(
    Data(
      "usage: data-bench open FILE [--runs N] [--cold] | parse FILE [--runs N] [--threads T] [--zero-based]\n"
        .utf8))
  exit(2)
}
let path = arguments[2]
let cold = arguments.contains("--cold")
let runs = option("--runs") ?? 20

if arguments[1] == "parse" {
  let settings = IngestSettings(threads: option("--threads") ?? ProcessInfoCores.count)
  var best = Double.infinity
  var bytes = 0
  for _ in 0..<runs {
    let sink = DiscardingSink()
    let start = now()
    let summary =
      path.hasSuffix(".csv")
      ? try Importer.readCSV(path, into: sink, settings: settings)
      : try Importer.readLIBSVM(
        path, into: sink, options: LIBSVMOptions(zeroBased: arguments.contains("--zero-based")),
        settings: settings)
    best = min(best, now() - start)
    bytes = summary.inputBytes
  }
  print(
    String(
      format: "parse %@ in memory, %d threads: best %.3f s (%.1f MB/s) over %d runs", path, settings.threads,
      best,
      Double(bytes) / 1e6 / best, runs))
  exit(0)
}
var times: [Double] = []
var checksum: Float = 0
var size = 0
for _ in 0..<runs {
  if cold { dropFromPageCache(path) }
  let start = now()
  let data = try Dataset(path: path)
  let rows = data.rows
  if rows.layout == .dense {
    checksum += rows.denseRow(0).reduce(0, +)
  } else {
    checksum += rows.sparseRow(0).values.reduce(0, +)
  }
  checksum += rows.label(0)
  times.append(now() - start)
  size = data.file.bytes.count
}
times.sort()
print(
  String(
    format:
      "open + first row of %@ (%.2f GB, %@ cache): best %.3f ms, median %.3f ms over %d runs (checksum %g)",
    path, Double(size) / 1e9, cold ? "cold" : "warm", times[0] * 1e3, times[runs / 2] * 1e3, runs, checksum))
