import Foundation
import Kernels
import Testing

/// A model that several threads update without locks, through `Shared`.
/// `@unchecked Sendable`: every access goes through relaxed atomics, which is
/// the point of the test (and what the thread sanitizer checks).
private final class SharedModel: @unchecked Sendable {
  let weights: UnsafeMutableBufferPointer<Float>

  init(count: Int) {
    weights = .allocate(capacity: count)
    weights.initialize(repeating: 0)
  }

  deinit { weights.deallocate() }
}

@Suite("Lock-free kernels under concurrent updates")
struct HogwildTests {
  @Test("two threads scattering into disjoint features of one model get the serial result")
  func disjointScatter() async {
    let features = 512
    let model = SharedModel(count: features)
    let expected = (0..<features).map { i in Float(1000 * (i % 2 == 0 ? 1 : 2)) }
    await withTaskGroup(of: Void.self) { group in
      for parity in 0..<2 {
        group.addTask {
          // Thread `parity` owns the features of its parity, and reads all of them.
          let indices = (0..<(features / 2)).map { Int32(2 * $0 + parity) }
          let values = [Float](repeating: 1, count: features / 2)
          indices.withUnsafeBufferPointer { ks in
            values.withUnsafeBufferPointer { vs in
              for _ in 0..<1000 {
                _ = Shared.sparseDot(indices: ks, values: vs, model: model.weights)
                Shared.sparseAxpy(Float(parity + 1), indices: ks, values: vs, model: model.weights)
              }
            }
          }
        }
      }
    }
    #expect(Array(model.weights) == expected, "each feature is 1000 times its owner's step")
  }

  @Test("two threads stepping on one dense model concurrently keep it finite")
  func denseSteps() async {
    let features = 64
    let model = SharedModel(count: features)
    await withTaskGroup(of: Void.self) { group in
      for worker in 0..<2 {
        group.addTask {
          let row = (0..<features).map { Float(($0 + worker) % 5) / 5 }
          row.withUnsafeBufferPointer { x in
            for _ in 0..<2000 {
              // w ← w − 0.01 (w·x − 1) x: least squares towards margin 1
              Shared.step(x, model: model.weights) { m in -0.01 * (m - 1) }
            }
          }
        }
      }
    }
    let finite = model.weights.allSatisfy { $0.isFinite }
    #expect(finite, "concurrent relaxed steps left a non-finite weight")
  }
}
