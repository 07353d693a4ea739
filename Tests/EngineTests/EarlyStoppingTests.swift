import Dataset
import Foundation
import Learning
import Testing

@testable import Engine

/// The stopping rule of a stochastic fit whose epochs and tolerance are
/// left open, replayed here on the losses the run reports.
@Suite("Defaults: early stopping", .serialized)
struct EarlyStoppingTests {
  /// Noisy labels: the held-out loss levels off within a few epochs.
  static let noisy = TestRows(rows: 20_000, columns: 8, classification: true, noise: 3, seed: 13)

  /// Held out by a share `f`: row `i` when ⌊(i+1)f⌋ > ⌊i f⌋.
  static func heldOut(_ rows: Int, share: Double) -> [Int] {
    (0..<rows).filter { (Double($0 + 1) * share).rounded(.down) > (Double($0) * share).rounded(.down) }
  }

  /// The epoch the rule stops after: the first at which `patience` epochs
  /// in a row have not fallen 0.1% below the least loss before them (`nil`:
  /// none, the run goes on to its cap).
  static func stop(_ losses: [Double], patience: Int) -> Int? {
    var best = Double.infinity
    var without = 0
    for (index, loss) in losses.enumerated() {
      if best.isFinite && loss > best - 1e-3 * abs(best) {
        without += 1
        if without == patience { return index + 1 }
      } else {
        without = 0
      }
      best = min(best, loss)
    }
    return nil
  }

  static func sgd() -> TrainingConfiguration {
    var setup = TrainingConfiguration()
    setup.optimizer.algorithm = .sgd
    setup.execution.threads = 2
    return setup
  }

  @Test(
    "epochs and tolerance left open: a tenth held out, the rule replayed, the model of the least held-out loss"
  )
  func heldOutTenth() throws {
    let rows = Self.noisy.block
    let result = try Trainer(Self.sgd()).fit(rows)
    let held = Self.heldOut(rows.count, share: 0.1)
    #expect(result.validationRows == held.count && held.count == 2_000)
    #expect(result.trainingRows == rows.count - held.count && result.holdoutFraction == 0.1)
    #expect(result.stopping.contains("held-out tenth"), "\(result.stopping)")
    let losses = result.history.map { $0.validationLoss! }
    let stop = try #require(Self.stop(losses, patience: 5), "the rule must act on this data: \(losses)")
    #expect(stop < 20 && result.history.count == stop && result.stopReason == .converged(epoch: stop))
    let best = losses.indices.min { losses[$0] < losses[$1] }!
    #expect(result.modelEpoch == best + 1 && result.modelEpoch < stop, "the kept model is not the last here")
    // The kept model's held-out log-loss, in Double here: the best epoch's.
    let model = result.model
    let loss =
      held.reduce(0.0) { total, row in
        let x = rows.denseRow(row)
        let margin = zip(x, model.weights).reduce(Double(model.intercepts[0])) {
          $0 + Double($1.0) * Double($1.1)
        }
        let y = rows.label(row) == 1 ? 1.0 : -1.0
        return total + log1p(exp(-y * margin))
      } / Double(held.count)
    #expect(
      abs(loss - losses[best]) <= 1e-5 * losses[best], "\(loss) against epoch \(best + 1)'s \(losses[best])")
  }

  @Test("fewer than 10,000 rows: nothing held out, the training loss watched")
  func fewRows() throws {
    let few = TestRows(rows: 3_000, columns: 8, classification: true, noise: 3, seed: 13)
    let rows = few.block
    var setup = Self.sgd()
    setup.stopping.iterationsWithoutChange = 2
    let result = try Trainer(setup).fit(rows)
    #expect(result.validationRows == 0 && result.holdoutFraction == nil)
    #expect(result.stopping.contains("training loss"), "\(result.stopping)")
    let losses = result.history.map(\.trainingLoss)
    #expect(result.history.count == (Self.stop(losses, patience: 2) ?? 20))
    #expect(result.modelEpoch == result.history.count)
    withExtendedLifetime(few) {}
  }

  @Test("a given epoch count runs every epoch; a given share is the one watched")
  func given() throws {
    let rows = Self.noisy.block
    var setup = Self.sgd()
    setup.stopping.epochs = 3
    let counted = try Trainer(setup).fit(rows)
    #expect(counted.history.count == 3 && counted.validationRows == 0 && counted.stopReason == .completed)
    #expect(counted.stopping == "3 epochs, as requested", "\(counted.stopping)")
    setup.stopping.epochs = nil
    setup.stopping.holdoutFraction = 0.25
    let shared = try Trainer(setup).fit(rows)
    #expect(shared.validationRows == 5_000 && shared.holdoutFraction == 0.25)
    #expect(shared.stopping.contains("held-out 0.25"), "\(shared.stopping)")
    let losses = shared.history.map { $0.validationLoss! }
    #expect(shared.history.count == (Self.stop(losses, patience: 5) ?? 20))
    // A test set is reported, never chosen on: the training loss is watched, the last model kept.
    setup.stopping.holdoutFraction = nil
    let tested = try Trainer(setup).fit(rows.slice(0..<16_000), validation: rows.slice(16_000..<20_000))
    #expect(tested.validationRows == 4_000 && tested.holdoutFraction == nil)
    #expect(tested.stopping.contains("the test rows are reported, never chosen on"), "\(tested.stopping)")
    #expect(tested.history.count == (Self.stop(tested.history.map(\.trainingLoss), patience: 5) ?? 20))
    #expect(tested.modelEpoch == tested.history.count)
    // L-BFGS ends at the optimum: no rule, nothing held out.
    setup = TrainingConfiguration()
    setup.optimizer.algorithm = .lbfgs
    setup.problem.l2 = 1e-3
    let lbfgs = try Trainer(setup).fit(rows)
    #expect(lbfgs.validationRows == 0 && lbfgs.stopping.hasPrefix("100 epochs at most"), "\(lbfgs.stopping)")
  }

  @Test("a run resumed from a checkpoint past the best epoch keeps that epoch's model, bit for bit")
  func resumed() throws {
    var setup = Self.sgd()
    setup.optimizer.algorithm = .minibatch
    setup.execution.strategy = .sync
    let rows = Self.noisy.block
    var checkpoints: [Checkpoint] = []
    let whole = try Trainer(setup).fit(rows, checkpointEvery: 1, checkpoint: { checkpoints.append($0) })
    let stop = whole.history.count
    #expect(whole.modelEpoch < stop - 1, "the kept epoch must lie before a checkpoint to test this")
    let after = try #require(checkpoints.first { $0.epoch == whole.modelEpoch + 1 })
    #expect(after.kept?.epoch == whole.modelEpoch)
    let resumed = try Trainer(setup).fit(rows, resuming: after)
    #expect(resumed.modelEpoch == whole.modelEpoch && resumed.history.count == stop)
    #expect(
      resumed.model.weights == whole.model.weights && resumed.model.intercepts == whole.model.intercepts)
  }
}
