import Foundation
import Learning
import Testing

/// Central finite difference of `f` at `x`: `(f(x + h) − f(x − h)) / 2h`, in Double.
private func centralDifference(_ f: (Float) -> Float, at x: Float, step h: Float = 1e-2) -> Double {
  (Double(f(x + h)) - Double(f(x - h))) / (2 * Double(h))
}

/// Checks an objective's derivative against a central difference at margins
/// that stay at least `2h` away from its kinks.
private func checkDerivative<O: Objective>(
  _ objective: O, labels: [Float], margins: [Float], sourceLocation: SourceLocation = #_sourceLocation
) {
  for y in labels {
    for m in margins {
      let numeric = centralDifference({ objective.loss(margin: $0, label: y) }, at: m)
      let analytic = Double(objective.derivative(margin: m, label: y))
      #expect(
        abs(numeric - analytic) <= 1e-3 * max(1, abs(analytic)),
        "\(O.self) at m = \(m), y = \(y): derivative \(analytic), central difference \(numeric)",
        sourceLocation: sourceLocation)
    }
  }
}

@Suite("Objectives: losses, derivatives, prediction links")
struct ObjectiveTests {
  static let smoothMargins: [Float] = [-30, -7.5, -2, -1.3, -0.4, 0, 0.25, 0.9, 1.5, 3, 12]

  @Test("squared loss derivative matches a central difference")
  func squared() {
    checkDerivative(SquaredLoss(), labels: [-3, 0, 0.5, 24], margins: Self.smoothMargins)
    #expect(SquaredLoss().loss(margin: 3, label: 1) == 2, "½ (3 − 1)² = 2")
    #expect(SquaredLoss().prediction(margin: -2.5) == -2.5, "the link is the identity")
  }

  @Test("logistic loss derivative matches a central difference")
  func logistic() {
    checkDerivative(LogisticLoss(), labels: [-1, 1], margins: Self.smoothMargins)
    #expect(abs(LogisticLoss().loss(margin: 0, label: 1) - 0.693_147_2) < 1e-6, "log 2 at margin 0")
    #expect(LogisticLoss().prediction(margin: 0) == 0.5, "σ(0) = ½")
  }

  @Test("logistic loss, derivative and link are finite and right at margins ±1000")
  func logisticExtremes() {
    let loss = LogisticLoss()
    for y: Float in [-1, 1] {
      for m: Float in [-1000, 1000] {
        let z = y * m
        let value = loss.loss(margin: m, label: y)
        let slope = loss.derivative(margin: m, label: y)
        #expect(value.isFinite && slope.isFinite, "finite at m = \(m), y = \(y)")
        #expect(value == (z > 0 ? 0 : -z), "loss at z = \(z) is max(0, −z) to float precision, got \(value)")
        #expect(slope == (z > 0 ? 0 : -y), "derivative at z = \(z) is −y or 0, got \(slope)")
      }
    }
    #expect(loss.prediction(margin: 1000) == 1 && loss.prediction(margin: -1000) == 0, "σ saturates")
  }

  @Test("hinge loss derivative matches a central difference away from the kink")
  func hinge() {
    checkDerivative(HingeLoss(), labels: [-1, 1], margins: [-30, -2, -0.4, 0, 0.5, 0.9, 1.5, 3])
    #expect(HingeLoss().loss(margin: 0.25, label: 1) == 0.75, "1 − y m inside the margin")
    #expect(HingeLoss().prediction(margin: -0.1) == -1 && HingeLoss().prediction(margin: 0) == 1, "sign link")
  }

  @Test("modified Huber derivative matches a central difference away from its joins")
  func modifiedHuber() {
    checkDerivative(
      ModifiedHuberLoss(), labels: [-1, 1], margins: [-30, -7.5, -1.3, -0.4, 0, 0.25, 0.9, 1.5])
    #expect(ModifiedHuberLoss().loss(margin: -3, label: 1) == 12, "−4 z far on the wrong side")
    #expect(ModifiedHuberLoss().loss(margin: 0, label: -1) == 1, "(1 − z)² near the margin")
  }

  @Test("step-size schedules")
  func schedules() {
    #expect(StepSizeSchedule.constant(0.1).rate(at: 1000) == 0.1)
    #expect(StepSizeSchedule.optimal(initial: 0.5, lambda: 0.1).rate(at: 0) == 0.5)
    #expect(
      abs(StepSizeSchedule.optimal(initial: 0.5, lambda: 0.1).rate(at: 20) - 0.25) < 1e-7,
      "η₀/(1 + η₀λt) = 0.5/2")
    #expect(abs(StepSizeSchedule.inverseScaling(initial: 1, exponent: 0.5).rate(at: 3) - 0.5) < 1e-7, "1/√4")
  }

  @Test("the fused loss and derivative agree with each alone; logistic's against a Double reference")
  func fused() {
    let margins: [Float] = [-1000, -88, -30, -7.5, -1, -1e-3, 0, 1e-3, 0.7, 5, 40, 1000]
    func check<O: Objective>(_ objective: O, labels: [Float]) {
      for y in labels {
        for m in margins {
          let (loss, derivative) = objective.lossAndDerivative(margin: m, label: y)
          #expect(derivative == objective.derivative(margin: m, label: y), "\(O.self) m \(m) y \(y)")
          let alone = objective.loss(margin: m, label: y)
          #expect(abs(loss - alone) <= 1e-6 * max(1, abs(alone)), "\(O.self) m \(m) y \(y): \(loss) \(alone)")
        }
      }
    }
    check(SquaredLoss(), labels: [-3, 0.5])
    check(HingeLoss(), labels: [-1, 1])
    check(ModifiedHuberLoss(), labels: [-1, 1])
    check(LogisticLoss(), labels: [-1, 1])
    for y: Double in [-1, 1] {
      for m in margins {
        let z = y * Double(m)
        let reference =
          z > 0 ? Foundation.log1p(Foundation.exp(-z)) : -z + Foundation.log1p(Foundation.exp(z))
        let found = Double(LogisticLoss().lossAndDerivative(margin: m, label: Float(y)).loss)
        #expect(
          abs(found - reference) <= 2e-7 * max(1, reference), "m \(m) y \(y): \(found) against \(reference)")
      }
    }
  }

  @Test("K-output objectives: loss and derivatives at once equal each alone")
  func fusedOutputs() {
    let margins: [Float] = [2.5, -1, 0.3, 40]
    func check<O: OutputObjective>(_ objective: O) {
      for y in 0..<4 {
        var alone = margins
        var fused = margins
        let loss = alone.withUnsafeMutableBufferPointer { m in
          let value = objective.loss(margins: m.baseAddress!, label: Float(y))
          objective.derivatives(m.baseAddress!, label: Float(y), scale: 0.5)
          return value
        }
        let fusedLoss = fused.withUnsafeMutableBufferPointer {
          objective.lossAndDerivatives($0.baseAddress!, label: Float(y), scale: 0.5)
        }
        #expect(abs(fusedLoss - loss) <= 1e-6 * max(1, abs(loss)), "\(O.self) y \(y)")
        #expect(zip(alone, fused).allSatisfy { abs($0 - $1) <= 1e-7 }, "\(O.self) y \(y): \(alone) \(fused)")
      }
    }
    check(Softmax(classes: 4))
    check(OneVsRest(LogisticLoss(), classes: 4))
  }
}
