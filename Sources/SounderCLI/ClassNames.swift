import Foundation
import Sounder

/// Rows whose labels are renumbered from one list of class names to
/// another. Class ids follow each file's own sorted names, so a test or
/// prediction file that lacks a class numbers the others differently: its
/// labels must be renumbered to the training data's (the model's) names
/// before they are compared.
final class NamedRows: @unchecked Sendable {
  /// The rows, with labels in the target names' ids.
  let rows: CheckedRows
  private let labels: UnsafeMutableBufferPointer<Float>?

  /// `dataset`'s rows with labels as ids of `names`; `path` names the file
  /// in errors. Without names on either side the rows are as they are.
  init(_ data: OpenedData, path: String, names: [String]?) throws {
    let dataset = data.dataset
    let source = data.rows.block
    switch (names, dataset.classNames) {
    case (nil, nil):
      rows = data.rows
      labels = nil
    case (let names?, nil):
      throw CLIError(
        "\(path): the labels are numbers, but the model's classes are named (\(names.joined(separator: ", ")))"
      )
    case (nil, let own?):
      throw CLIError(
        "\(path): the labels are class names (\(own.joined(separator: ", "))), but the model was trained on numbers"
      )
    case (let names?, let own?):
      let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, Float($0)) })
      let map = try own.map { name in
        guard let id = index[name] else {
          throw CLIError(
            "\(path): the class \"\(name)\" is not one of the model's classes (\(names.joined(separator: ", ")))"
          )
        }
        return id
      }
      let relabeled = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(source.count, 1))
      for row in 0..<source.count { relabeled[row] = map[Int(source.label(row))] }
      labels = relabeled
      do {
        rows = try data.rows.replacing(
          labels: UnsafeBufferPointer(rebasing: relabeled[0..<source.count]), source: path)
      } catch {
        relabeled.deallocate()
        throw CLIError(error.description)
      }
    }
  }

  deinit { labels?.deallocate() }
}
