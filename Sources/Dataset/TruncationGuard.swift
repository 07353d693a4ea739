import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// Turns a read past the end of a mapped file that another program shrank
/// while Sounder was using it into one line on standard error and exit
/// status 1, instead of death by SIGBUS.
///
/// The kernel answers a read of a mapped page past a file's new end with
/// SIGBUS. Every ``MappedFile`` registers its range here; once `install()`
/// has run (the `sounder` command does it at start; a library leaves the
/// process's signals to its host), a SIGBUS inside a registered range writes
/// "Error: PATH: the file shrank while it was being read …" and ends the
/// process with `_exit(1)`. Outputs are written unnamed and named only when
/// complete (``OutputFile``), so nothing partial is left behind. A SIGBUS
/// anywhere else gets the default action, as without the guard.
///
/// It costs nothing while nothing faults: no check on the read path, which
/// a private copy-on-write mapping would not avoid either (a private
/// mapping's pages past the new end fault the same way).
public enum TruncationGuard {
  /// Installs the SIGBUS handler, once per process.
  public static func install() {
    installed.withLock { done in
      guard !done else { return }
      done = true
      _ = regions  // Initialised here, never first in the handler.
      var action = sigaction()
      action.__sigaction_handler.sa_sigaction = handleBusError
      action.sa_flags = SA_SIGINFO
      sigemptyset(&action.sa_mask)
      sigaction(SIGBUS, &action, nil)
    }
  }

  /// Registers `bytes` as the mapping of `path`; returns the slot to give
  /// back to ``unregister(_:)``, or `nil` when every slot is taken (that
  /// mapping then faults as without the guard).
  static func register(_ bytes: UnsafeRawBufferPointer, path: String) -> Int? {
    guard let base = bytes.baseAddress, bytes.count > 0 else { return nil }
    let message = Array(
      "Error: \(path): the file shrank while it was being read (another program truncated or rewrote it in place); stopped, no output was written\n"
        .utf8)
    return lock.withLock { _ -> Int? in
      guard let slot = (0..<capacity).first(where: { regions[$0].message == nil }) else { return nil }
      let text = UnsafeMutablePointer<UInt8>.allocate(capacity: message.count)
      text.initialize(from: message, count: message.count)
      regions[slot] = Region(
        start: UInt(bitPattern: base), end: UInt(bitPattern: base) + UInt(bytes.count), message: text,
        length: message.count)
      return slot
    }
  }

  /// Forgets the mapping in `slot` (before it is unmapped).
  static func unregister(_ slot: Int) {
    lock.withLock { _ in
      regions[slot].message?.deallocate()
      regions[slot] = Region()
    }
  }

  /// One mapping: its address range and the line to print when it faults.
  struct Region {
    var start: UInt = 0
    var end: UInt = 0
    var message: UnsafeMutablePointer<UInt8>?
    var length = 0
  }

  private static let capacity = 64
  private static let installed = Mutex(false)
  private static let lock = Mutex(())
  /// Written under `lock`; read without it by the handler, which only runs
  /// when a mapping faults. A slot is cleared before its file is unmapped.
  nonisolated(unsafe) private static let regions: UnsafeMutablePointer<Region> = {
    let slots = UnsafeMutablePointer<Region>.allocate(capacity: capacity)
    slots.initialize(repeating: Region(), count: capacity)
    return slots
  }()

  /// The handler: only async-signal-safe calls (`write`, `_exit`, `signal`).
  private static let handleBusError:
    @convention(c) (Int32, UnsafeMutablePointer<siginfo_t>?, UnsafeMutableRawPointer?) -> Void = {
      _, info, _ in
      let address = UInt(bitPattern: info?.pointee._sifields._sigfault.si_addr)
      for slot in 0..<capacity {
        let region = regions[slot]
        if let message = region.message, address >= region.start, address < region.end {
          _ = write(2, message, region.length)
          _exit(1)
        }
      }
      // Not a mapping of ours: the default action, when the read is retried.
      signal(SIGBUS, SIG_DFL)
    }
}
