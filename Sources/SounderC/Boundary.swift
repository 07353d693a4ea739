import CCPUCheck
import CSounder
import Dataset
import Engine
import Learning
import Parallel
import Topology

/// A failed call: the status it returns and the line `sounder_last_error`
/// then gives.
struct CallError: Error {
  var status: sounder_status
  var message: String

  static func argument(_ message: String) -> CallError {
    CallError(status: SOUNDER_ERROR_ARGUMENT, message: message)
  }

  /// The status and message of any error the library throws.
  init(_ error: any Error) {
    switch error {
    case let error as CallError: self = error
    case let error as DatasetError:
      if case .system = error {
        self.init(status: SOUNDER_ERROR_IO, message: error.description)
      } else {
        self.init(status: SOUNDER_ERROR_DATA, message: error.description)
      }
    case let error as TrainingError:
      switch error {
      case .invalidConfiguration: self.init(status: SOUNDER_ERROR_ARGUMENT, message: error.description)
      case .labelsDoNotFitLoss, .noTrainingRows, .invalidData:
        self.init(status: SOUNDER_ERROR_DATA, message: error.description)
      case .diverged, .placementFailed: self.init(status: SOUNDER_ERROR_TRAINING, message: error.description)
      }
    case let error as ModelFileError:
      if case .io = error {
        self.init(status: SOUNDER_ERROR_IO, message: error.description)
      } else {
        self.init(status: SOUNDER_ERROR_MODEL, message: error.description)
      }
    case let error as LinearModel.FeatureMismatch:
      self.init(status: SOUNDER_ERROR_DATA, message: error.description)
    default: self.init(status: SOUNDER_ERROR_TRAINING, message: "\(error)")
    }
  }

  init(status: sounder_status, message: String) {
    self.status = status
    self.message = message
  }
}

/// Whether this CPU runs the kernels this library was built with; read once.
private let cpuRunsKernels = ccpu_kernels_require_x86_64_v3() == 0 || ccpu_supports_x86_64_v3() == 1

/// Runs one exported call: refuses it on a CPU the kernels cannot run on,
/// and turns anything `body` throws into a status and this thread's last
/// error. Nothing is thrown past it; the few Swift runtime traps left (out
/// of memory) are the library's bugs, and every input that could reach one
/// is checked before.
func exported(_ body: () throws -> Void) -> sounder_status {
  guard cpuRunsKernels else {
    return failed(
      CallError(
        status: SOUNDER_ERROR_CPU,
        message:
          "this libsounder's kernels need an x86-64-v3 CPU (AVX2 and FMA), and this CPU lacks them; build it with SOUNDER_PORTABLE=1"
      ))
  }
  do {
    try body()
    return SOUNDER_OK
  } catch {
    return failed(CallError(error))
  }
}

/// Records `error` as this thread's last error and returns its status.
private func failed(_ error: CallError) -> sounder_status {
  // One line, cut at a character boundary to the C buffer's 1,023 bytes.
  var line = escapingControlCharacters(error.message)
  while line.utf8.count > 1_023 { line.removeLast() }
  line.withCString { csounder_set_last_error($0, strlen($0)) }
  return error.status
}

/// `pointer`, or an argument error naming it when it is null.
func required<T>(_ pointer: T?, _ name: String) throws(CallError) -> T {
  guard let pointer else { throw .argument("\(name) is NULL") }
  return pointer
}

/// Checks that `capacity` floats (or bytes: `unit`) hold `needed`.
func checkCapacity(_ capacity: Int64, _ needed: Int, _ what: String, unit: String = "values")
  throws(CallError)
{
  guard capacity >= needed else {
    throw CallError(
      status: SOUNDER_ERROR_BUFFER,
      message: "\(what) needs room for \(needed) \(unit); the buffer holds \(capacity)")
  }
}

/// Copies `values` to the caller's `out`, which holds `capacity` floats.
func copy(_ values: [Float], to out: UnsafeMutablePointer<Float>?, capacity: Int64, _ what: String)
  throws(CallError)
{
  let out = try required(out, "the output buffer")
  try checkCapacity(capacity, values.count, what)
  values.withUnsafeBufferPointer { out.update(from: $0.baseAddress!, count: values.count) }
}

/// Sets `*size` to the count of `bytes` and copies them to `buffer` when
/// it is given and its `capacity` suffices (a NULL buffer asks the size).
func copy(
  _ bytes: [UInt8], _ what: String, to buffer: UnsafeMutableRawPointer?, capacity: Int64,
  size: UnsafeMutablePointer<Int64>?
) throws(CallError) {
  try required(size, "size").pointee = Int64(bytes.count)
  guard let buffer else { return }
  try checkCapacity(capacity, bytes.count, what, unit: "bytes")
  bytes.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
}

#if canImport(Glibc)
  import Glibc
#endif
