import Dataset
import Foundation
import Learning
import Testing

@testable import Engine

/// AdaGrad's rate from a trial on a sample of the training rows.
@Suite("Defaults: AdaGrad's rate from a trial", .serialized)
struct RateTrialTests {
  @Test("the trial's rows: runs of 64 neighbours, evenly spaced, the first of each pair trained on")
  func sample() {
    for (count, rows) in [(1_000, 500), (40_000, 16_384), (33_000, 16_384), (600, 256)] {
      let candidates = (0..<count).map { Int32($0 * 3 + 1) }
      let (training, validation) = Trainer.trialSample(of: candidates, rows: rows)
      // The reference: pairs = ⌊rows / 64⌋, pair k starting at ⌊k (n − 128) / (pairs − 1)⌋.
      let pairs = rows / 64
      var expectedTraining: [Int32] = []
      var expectedValidation: [Int32] = []
      for k in 0..<pairs {
        let start = k * (count - 128) / (pairs - 1)
        expectedTraining += (start..<start + 64).map { candidates[$0] }
        expectedValidation += (start + 64..<start + 128).map { candidates[$0] }
      }
      #expect(training == expectedTraining && validation == expectedValidation, "\(count) candidates")
      #expect(training.count == pairs * 64 && training.count <= rows)
      #expect(Set(training).isDisjoint(with: validation))
      #expect(training.first == candidates.first && validation.last == candidates.last)
      #expect(zip(training, training.dropFirst()).allSatisfy { $0 < $1 })
    }
  }

  /// Power-law sparse rows with few features a row: a margin moves far in
  /// one AdaGrad step.
  static func words(scale: Float) -> TestRows {
    TestRows(
      rows: 24_000, columns: 3_000, sparse: 10, classification: true, noise: 0.3, seed: 11, offset: 0,
      skew: 3, scale: scale)
  }

  static func trained(_ rows: TestRows) throws -> TrainingResult {
    var setup = TrainingConfiguration()
    setup.optimizer.algorithm = .sgd
    setup.stopping.epochs = 20
    setup.problem.standardize = false
    setup.problem.fitIntercept = false
    setup.execution.threads = 2
    return try Trainer(setup).fit(rows.block)
  }

  @Test("values ten times larger take a rate ten times smaller: AdaGrad's steps are then the same steps")
  func scaleLaw() throws {
    // Without an intercept or a penalty, AdaGrad on values c·x with rate η/c
    // takes the steps it takes on x with η, divided by c: the same margins,
    // so the same held-out losses. The trial's choice must scale by 1/c.
    let plain = try Self.trained(Self.words(scale: 10))
    let scaled = try Self.trained(Self.words(scale: 100))
    #expect(plain.schedule.kind == .adagrad && plain.learningRate.reason.hasPrefix("the least held-out loss"))
    #expect(
      plain.learningRate.reason.contains("after one epoch on 11968 rows"), "\(plain.learningRate.reason)")
    let chosen = plain.learningRate.value
    #expect(chosen >= 0.05 && chosen <= 0.5, "a choice inside the grid tests the law: \(chosen)")
    #expect(
      abs(scaled.learningRate.value - chosen / 10) <= 1e-6 * chosen,
      "\(scaled.learningRate.value) on values ×10 against \(chosen)")
  }

  @Test("a run that reads fewer rows than the trial would (one pass over a batch) keeps AdaGrad's 0.5")
  func shortRun() throws {
    let rows = Self.words(scale: 1)
    var setup = TrainingConfiguration()
    setup.optimizer.algorithm = .sgd
    setup.stopping.epochs = 1
    let result = try Trainer(setup).fit(rows.block)
    // 10 rates × (12,000 + 12,000) rows against 1 epoch × 24,000.
    #expect(result.learningRate.value == 0.5)
    #expect(
      result.learningRate.reason.hasPrefix("a trial of rates would read 240000 rows, more than the 24000"),
      "\(result.learningRate.reason)")
  }

  @Test("few training rows: no trial, AdaGrad's 0.5; the global schedules keep their bound")
  func fewRows() throws {
    var setup = TrainingConfiguration()
    setup.optimizer.algorithm = .sgd
    setup.optimizer.schedule = .adagrad
    setup.stopping.epochs = 1
    let few = TestRows(rows: 400, columns: 50, sparse: 5, classification: true)
    let result = try Trainer(setup).fit(few.block)
    #expect(result.learningRate.value == 0.5 && result.learningRate.reason.contains("too few"))
    setup.optimizer.schedule = .inverseScaling
    let global = try Trainer(setup).fit(few.block)
    #expect(global.learningRate.reason.hasPrefix("1 / ("), "\(global.learningRate.reason)")
  }
}
