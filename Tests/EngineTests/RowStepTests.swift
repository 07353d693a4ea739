import Dataset
import Learning
import Testing

@testable import Engine

@Suite("Row step")
struct RowStepTests {
  /// Runs `body` with a zeroed model of `columns` weights and one intercept.
  static func withModel<T>(columns: Int, _ body: (ModelView) -> T) -> T {
    var weights = [Float](repeating: 0, count: columns)
    var intercept: [Float] = [0]
    return weights.withUnsafeMutableBufferPointer { w in
      intercept.withUnsafeMutableBufferPointer { b in
        body(
          ModelView(
            weights: w, intercepts: b.baseAddress!, sums: UnsafeMutableBufferPointer(start: nil, count: 0)))
      }
    }
  }

  @Test("the look-ahead step takes the same steps as the plain one, row after row")
  func lookAheadMatchesPlain() {
    let rows = TrainerTests.dense.block.block
    let step = RowStep(
      objective: Single(LogisticLoss()), fitIntercept: true, weightScale: 1, tracksLoss: true)
    let order = (0..<rows.count).map { ($0 * 7919) % rows.count }
    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 1)
    defer { scratch.deallocate() }
    func train(lookingAhead: Bool) -> (weights: [Float], bias: Float, tally: LossTally) {
      Self.withModel(columns: rows.columns) { model in
        var tally = LossTally()
        var pending: Float? = nil
        for (position, row) in order.enumerated() {
          let eta: Float = position < 1000 ? 0.5 : 0.1
          if lookingAhead {
            pending = step.sgdLookingAhead(
              row, margin: pending, next: position + 1 < order.count ? order[position + 1] : nil, of: rows,
              eta: eta, model: model, scratch: scratch, tally: &tally)
          } else {
            step.sgd(
              PrivateModel.self, row, of: rows, eta: eta, model: model, scratch: scratch, tally: &tally)
          }
        }
        return (Array(model.weights), model.intercepts[0], tally)
      }
    }
    let plain = train(lookingAhead: false)
    let ahead = train(lookingAhead: true)
    let scale = plain.weights.map(abs).max()!
    for (a, b) in zip(plain.weights, ahead.weights) {
      #expect(abs(a - b) <= 1e-4 * scale, "weights \(a) against \(b)")
    }
    #expect(abs(plain.bias - ahead.bias) <= 1e-4 * max(1, abs(plain.bias)))
    #expect(abs(plain.tally.loss - ahead.tally.loss) <= 1e-5 * plain.tally.loss)
    #expect(plain.tally.weight == ahead.tally.weight)
  }
}
