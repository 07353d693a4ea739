import Kernels
import Learning
import LearningReference
import Testing

/// End to end: the objectives, lazy regularisation and a schedule together
/// learn a separable problem, as a training loop would use them.
@Suite("Training with objectives, regularisation and schedules")
struct TrainingTests {
  /// Rows of 3 active features out of 40; the label is the sign of the sum of
  /// a fixed ±1 weight per feature, so a linear model separates them.
  static func problem() -> [(indices: [Int32], values: [Float], label: Float)] {
    var state: UInt64 = 11
    func next(_ bound: Int) -> Int {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Int(state >> 33) % bound
    }
    let truth = (0..<40).map { _ in Float(next(2) * 2 - 1) }
    return (0..<600).map { _ in
      let indices = Array(Set((0..<3).map { _ in Int32(next(40)) })).sorted()
      let values = indices.map { _ in Float(1 + next(3)) }
      let score = zip(indices, values).map { truth[Int($0)] * $1 }.reduce(0, +)
      return (indices, values, score >= 0 ? 1 : -1)
    }
  }

  /// Trains for a few epochs and returns the training accuracy.
  func accuracy<O: Objective>(_ objective: O, _ regularization: Regularization) -> Double {
    let rows = Self.problem()
    let weights = RegularizedWeights(count: 40, regularization: regularization)
    let schedule = StepSizeSchedule.optimal(initial: 0.2, lambda: 1e-3)
    var t = 0
    for _ in 0..<8 {
      for row in rows {
        row.indices.withUnsafeBufferPointer { ks in
          row.values.withUnsafeBufferPointer { vs in
            let margin = weights.margin(indices: ks, values: vs)
            let slope = objective.derivative(margin: margin, label: row.label)
            weights.step(indices: ks, values: vs, derivative: slope, learningRate: schedule.rate(at: t))
            t += 1
          }
        }
      }
    }
    let correct = rows.filter { row in
      row.indices.withUnsafeBufferPointer { ks in
        row.values.withUnsafeBufferPointer { vs in
          let margin = weights.margin(indices: ks, values: vs)
          return (margin >= 0 ? 1 : -1) == row.label
        }
      }
    }
    return Double(correct.count) / Double(rows.count)
  }

  @Test(
    "each classification loss learns a separable problem", arguments: ["logistic", "hinge", "modified Huber"])
  func separable(loss: String) {
    let regularization = Regularization.elasticNet(l1: 1e-4, l2: 1e-3)
    let score: Double
    switch loss {
    case "logistic": score = accuracy(LogisticLoss(), regularization)
    case "hinge": score = accuracy(HingeLoss(), regularization)
    default: score = accuracy(ModifiedHuberLoss(), regularization)
    }
    #expect(score >= 0.95, "\(loss) loss reached only \(score) training accuracy")
  }
}
