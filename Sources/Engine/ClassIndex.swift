/// The position of a label among a classifier's classes, ascending: the
/// label itself when the classes are 0, 1, …, K − 1 (class indices, the
/// common case), else a binary search. What converting and evaluating
/// multiclass labels ask once a row; a dictionary's hashing cost about
/// 30 ns a row there.
struct ClassIndex: Sendable {
  let classes: [Float]
  /// The classes are 0, 1, …, K − 1.
  private let consecutive: Bool

  /// `classes` ascending and distinct.
  init(_ classes: [Float]) {
    precondition(zip(classes, classes.dropFirst()).allSatisfy { $0 < $1 }, "classes ascending and distinct")
    self.classes = classes
    consecutive = classes.enumerated().allSatisfy { Float($0) == $1 }
  }

  /// The index `k` with `classes[k] == label`, or `nil` when no class is `label`.
  func callAsFunction(_ label: Float) -> Int? {
    if consecutive {
      guard let k = Int(exactly: label), k >= 0, k < classes.count else { return nil }
      return k
    }
    // The first class not below `label`.
    var (low, high) = (0, classes.count)
    while low < high {
      let middle = (low + high) / 2
      if classes[middle] < label { low = middle + 1 } else { high = middle }
    }
    return low < classes.count && classes[low] == label ? low : nil
  }
}
