import CCPUCheck
import Testing

@Suite("Start-up CPU check")
struct CPUCheckTests {
  @Test("an x86-64 Linux build without SOUNDER_PORTABLE requires x86-64-v3, and this CPU has it")
  func baseline() {
    #if arch(x86_64) && os(Linux)
      // The test process got past the start-up check, so either the build
      // needs nothing or the CPU has what it needs.
      #expect(
        ccpu_kernels_require_x86_64_v3() == 0 || ccpu_supports_x86_64_v3() == 1,
        "the start-up check should have stopped this process")
    #endif
  }
}
