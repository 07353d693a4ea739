import Dataset
import Dispatch
import SeededRandom

#if canImport(Glibc)
  import Glibc
#endif

/// The kinds of synthetic data ``SyntheticData`` makes.
public enum SyntheticKind: String, Sendable, CaseIterable {
  /// Dense standard-normal features, labels ±1 from a linear model plus noise.
  case denseClassification = "dense-classification"
  /// Dense standard-normal features, real labels from a linear model plus noise.
  case denseRegression = "dense-regression"
  /// RCV1-like sparse rows: power-law feature frequencies, positive values,
  /// rows of unit L2 norm, labels ±1 from a linear model plus noise.
  case sparseClassification = "sparse-classification"
}

/// What synthetic dataset to make.
public struct SyntheticSpec: Sendable, Equatable {
  /// The kind of data.
  public var kind: SyntheticKind
  /// Number of rows.
  public var rows: Int
  /// Number of features.
  public var features: Int
  /// Sparse data: stored values per row (at most `features`).
  public var nonZerosPerRow: Int
  /// The seed of the true model (`nil`: ``seed``). Two datasets with one
  /// model seed and different seeds are independent draws of one problem:
  /// a training set and its held-out test set.
  public var modelSeed: UInt64?
  /// The seed: the same seed gives the same bytes, whatever the thread count.
  public var seed: UInt64
  /// Standard deviation of the noise added to the model's output.
  public var noise: Float
  /// Classification kinds: the number of classes. 2 gives labels ±1 from one
  /// model; K > 2 gives class indices `0..<K`, the largest of K models'
  /// noisy outputs.
  public var classes: Int = 2

  /// A spec; sparse rows default to 80 values, noise to 0.1.
  public init(
    kind: SyntheticKind, rows: Int, features: Int, nonZerosPerRow: Int = 80, seed: UInt64 = 1,
    noise: Float = 0.1
  ) {
    self.kind = kind
    self.rows = rows
    self.features = features
    self.nonZerosPerRow = nonZerosPerRow
    self.seed = seed
    self.noise = noise
  }
}

/// Seeded synthetic datasets drawn from a known true model, for tests,
/// benchmarks and demos.
///
/// Rows come in blocks of 8192, each block drawn from its own generator
/// seeded from (seed, block number), so blocks are made in parallel and the
/// output does not depend on the thread count.
public enum SyntheticData {
  static let blockRows = 8192

  /// The true weights: `features` values (`features × classes`,
  /// feature-major, for more than two classes) drawn from N(0, 1) with the
  /// seed, scaled by 1/√features for dense kinds so that x·w has unit variance.
  public static func trueModel(_ spec: SyntheticSpec) -> [Float] {
    var random = Xoshiro256(seed: spec.modelSeed ?? spec.seed, stream: UInt64.max)
    let scale = spec.kind == .sparseClassification ? 1 : 1 / Float(spec.features).squareRoot()
    return (0..<spec.features * outputs(spec)).map { _ in random.normal() * scale }
  }

  /// The most values (2⁴⁰, 4 TiB of floats) a generated dataset may hold.
  public static let maximumValues = 1 << 40

  /// The values `spec` would store (rows × features, or rows × non-zeros),
  /// `nil` where that overflows.
  public static func estimatedValues(_ spec: SyntheticSpec) -> Int? {
    let perRow = spec.kind == .sparseClassification ? spec.nonZerosPerRow : spec.features
    let (values, overflow) = spec.rows.multipliedReportingOverflow(by: perRow)
    return overflow ? nil : values
  }

  /// How many models the labels come from: one, or one per class.
  static func outputs(_ spec: SyntheticSpec) -> Int { spec.classes > 2 ? spec.classes : 1 }

  /// The label of a row whose true-model outputs are `dots`: the value plus
  /// noise (regression), its sign (two classes), or the class of the
  /// largest noisy output.
  static func label(_ dots: [Float], spec: SyntheticSpec, random: inout Xoshiro256) -> Float {
    guard dots.count > 1 else {
      let target = dots[0] + spec.noise * random.normal()
      return spec.kind == .denseRegression ? target : (target >= 0 ? 1 : -1)
    }
    var best = 0
    var top = -Float.infinity
    for (k, dot) in dots.enumerated() {
      let noisy = dot + spec.noise * random.normal()
      if noisy > top { (best, top) = (k, noisy) }
    }
    return Float(best)
  }

  /// Writes the dataset `spec` describes into `sink`, on `threads` threads.
  public static func write(
    _ spec: SyntheticSpec, into sink: RowSink, threads: Int = ProcessInfoCores.count
  ) throws(IngestError) -> ConversionSummary {
    guard spec.rows >= 1, spec.features >= 1 else {
      throw .invalidOptions(
        "--rows and --features must be at least 1 (got \(spec.rows) and \(spec.features))")
    }
    guard spec.noise.isFinite, spec.noise >= 0 else {
      throw .invalidOptions("--noise must be a finite number of 0 or more (got \(spec.noise))")
    }
    guard spec.features <= Int(Int32.max) else {
      throw .invalidOptions(
        "--features must be at most \(Int32.max): column indices are 32-bit (got \(spec.features))")
    }
    guard let values = estimatedValues(spec), values <= maximumValues else {
      throw .invalidOptions(
        "\(spec.rows) rows of \(spec.kind == .sparseClassification ? spec.nonZerosPerRow : spec.features) values is more than the \(maximumValues) values a generated dataset may hold"
      )
    }
    guard (2...65_535).contains(spec.classes), spec.classes == 2 || spec.kind != .denseRegression else {
      throw .invalidOptions(
        spec.kind == .denseRegression
          ? "--classes is for the classification kinds, not dense-regression"
          : "--classes must be from 2 to 65535 (got \(spec.classes))")
    }
    let sparse = spec.kind == .sparseClassification
    guard !sparse || (1...spec.features).contains(spec.nonZerosPerRow) else {
      throw .invalidOptions(
        "--nnz-per-row must be from 1 to the number of features, \(spec.features) (got \(spec.nonZerosPerRow))"
      )
    }
    let model = trueModel(spec)
    let blocks = (spec.rows + blockRows - 1) / blockRows
    let group = max(1, threads) * 2
    var nonZeros = 0
    for firstBlock in stride(from: 0, to: blocks, by: group) {
      let count = min(group, blocks - firstBlock)
      let batches = UnsafeMutableBufferPointer<RowBatch>.allocate(capacity: count)
      batches.initialize(repeating: RowBatch(layout: .dense))
      defer {
        batches.deinitialize()
        batches.deallocate()
      }
      let shared = UncheckedSendable(value: batches)
      // Each iteration fills its own slot.
      DispatchQueue.concurrentPerform(iterations: count) { index in
        shared.value[index] = makeBlock(firstBlock + index, spec: spec, model: model)
      }
      for batch in batches {
        nonZeros += batch.values.count
        do { try sink.append(batch) } catch { throw .dataset(error) }
      }
    }
    let kind: LabelKind = spec.kind == .denseRegression ? .real : (spec.classes > 2 ? .classIndex : .binary)
    do { try sink.finish(columns: spec.features, labelKind: kind) } catch { throw .dataset(error) }
    return ConversionSummary(
      rows: spec.rows, columns: spec.features, nonZeros: nonZeros, layout: sparse ? .csr : .dense,
      labelKind: kind, inputBytes: 0)
  }

  /// Rows `block × blockRows ..<` of the dataset.
  static func makeBlock(_ block: Int, spec: SyntheticSpec, model: [Float]) -> RowBatch {
    var random = Xoshiro256(seed: spec.seed, stream: UInt64(block))
    let rows = min(blockRows, spec.rows - block * blockRows)
    let columns = spec.features
    let outputs = outputs(spec)
    var dots = [Float](repeating: 0, count: outputs)
    switch spec.kind {
    case .denseClassification, .denseRegression:
      var batch = RowBatch(layout: .dense, columns: columns)
      batch.values.reserveCapacity(rows * columns)
      batch.labels.reserveCapacity(rows)
      for _ in 0..<rows {
        for k in 0..<outputs { dots[k] = 0 }
        for column in 0..<columns {
          let value = random.normal()
          batch.values.append(value)
          for k in 0..<outputs { dots[k] += value * model[column * outputs + k] }
        }
        batch.labels.append(label(dots, spec: spec, random: &random))
      }
      return batch
    case .sparseClassification:
      var batch = RowBatch(layout: .csr)
      let perRow = spec.nonZerosPerRow
      batch.values.reserveCapacity(rows * perRow)
      batch.indices.reserveCapacity(rows * perRow)
      var chosen = Set<Int32>(minimumCapacity: perRow * 2)
      for _ in 0..<rows {
        chosen.removeAll(keepingCapacity: true)
        // Power-law frequencies: index ⌊D·u³⌋ has density ∝ index^(-2/3),
        // so low indices are common and high ones rare, as words are. After
        // a bounded number of skewed draws, uniform draws fill the row.
        var draws = 0
        while chosen.count < perRow {
          let u = random.unit()
          let skewed = draws < 8 * perRow
          let index = Int(Double(columns) * (skewed ? u * u * u : u))
          chosen.insert(Int32(min(index, columns - 1)))
          draws += 1
        }
        let indices = chosen.sorted()
        var values = indices.map { _ in Float(random.unit()) + 1e-3 }
        let norm = values.reduce(0) { $0 + $1 * $1 }.squareRoot()
        for k in 0..<outputs { dots[k] = 0 }
        for position in values.indices {
          values[position] /= norm
          for k in 0..<outputs { dots[k] += values[position] * model[Int(indices[position]) * outputs + k] }
        }
        batch.indices.append(contentsOf: indices)
        batch.values.append(contentsOf: values)
        batch.rowLengths.append(Int32(perRow))
        batch.labels.append(label(dots, spec: spec, random: &random))
      }
      return batch
    }
  }
}

/// xoshiro256** (Blackman and Vigna), seeded through SplitMix64: a small,
/// fast generator whose output is the same on every machine, unlike the
/// system's.
struct Xoshiro256 {
  private var s0: UInt64
  private var s1: UInt64
  private var s2: UInt64
  private var s3: UInt64
  private var spare: Float?

  /// A generator for sub-stream `stream` of `seed`.
  init(seed: UInt64, stream: UInt64) {
    var mix = SplitMix64(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03))
    s0 = mix.next()
    s1 = mix.next()
    s2 = mix.next()
    s3 = mix.next()
  }

  /// The next 64 random bits.
  @inline(__always)
  mutating func next() -> UInt64 {
    let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
    let t = s1 << 17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = s3 << 45 | s3 >> 19
    return result
  }

  /// Uniform in (0, 1].
  @inline(__always)
  mutating func unit() -> Double {
    Double((next() >> 11) + 1) * 0x1p-53
  }

  /// Standard normal, by the Box–Muller transform (two per pair of draws).
  @inline(__always)
  mutating func normal() -> Float {
    if let value = spare {
      spare = nil
      return value
    }
    let radius = (-2 * log(unit())).squareRoot()
    let angle = 2 * Double.pi * unit()
    spare = Float(radius * sin(angle))
    return Float(radius * cos(angle))
  }
}
