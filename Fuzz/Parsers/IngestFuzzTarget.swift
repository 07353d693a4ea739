// libFuzzer entry point for the text parsers, compiled into the Ingest module
// by tools/fuzz (so it can reach the internal line parsers without files).
//
// The first input byte picks what to fuzz; the rest is the text. Beyond "no
// crash, no out-of-bounds access" (AddressSanitizer), each run checks what
// the parsers promise: accepted rows are well-formed, and parsing a text in
// two pieces cut at a line boundary gives what parsing it whole gives (the
// property the parallel reader's stitching relies on).
import Dataset

#if canImport(Glibc)
  import Glibc
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func ingestFuzzTarget(_ data: UnsafePointer<UInt8>, _ count: Int) -> Int32 {
  guard count > 0 else { return 0 }
  let input = UnsafeRawBufferPointer(start: data, count: count)
  let text = UnsafeRawBufferPointer(rebasing: input[1...])
  switch input[0] % 6 {
  case 0:
    checkLIBSVM(text, LIBSVMOptions())
    checkLIBSVM(text, LIBSVMOptions(labelKind: LabelKind.none))
  case 1: checkLIBSVM(text, LIBSVMOptions(zeroBased: true, features: 40, labelKind: .binary))
  case 2:
    checkCSV(text, CSVOptions())
    checkCSV(text, CSVOptions(labelKind: LabelKind.none))
  case 3:
    checkCSV(text, CSVOptions(header: false, labelColumn: .index(0), delimiter: UInt8(ascii: ";"), fill: 0))
  case 4: checkFloat(text)
  default:
    _ = try? DatasetHeader.decode(text, path: "fuzz")
    _ = try? NPYHeader.decode(text, path: "fuzz")
  }
  return 0
}

private func checkLIBSVM(_ text: UnsafeRawBufferPointer, _ options: LIBSVMOptions) {
  let piece = LIBSVMLineParser(options: options).parse(text)
  let batch = piece.batch
  precondition(batch.rowLengths.count == batch.labels.count, "one length per row")
  precondition(Int(batch.rowLengths.reduce(0, +)) == batch.values.count, "lengths add up to the values")
  precondition(batch.indices.count == batch.values.count, "one index per value")
  var start = 0
  for length in batch.rowLengths {
    let row = batch.indices[start..<start + Int(length)]
    precondition(zip(row, row.dropFirst()).allSatisfy { $0 < $1 }, "indices strictly increase in a row")
    precondition(row.allSatisfy { $0 >= 0 && Int($0) < (options.features ?? Int(Int32.max) + 1) })
    start += Int(length)
  }
  precondition(
    batch.values.allSatisfy(\.isFinite) && batch.labels.allSatisfy(\.isFinite), "only finite numbers")
  if options.labelKind == LabelKind.none {
    precondition(batch.labels.allSatisfy { $0 == 0 }, "rows without labels get the placeholder 0")
  }
  if piece.error == nil { checkSplit(text, whole: piece) { LIBSVMLineParser(options: options).parse($0) } }
}

private func checkCSV(_ text: UnsafeRawBufferPointer, _ options: CSVOptions) {
  let firstEnd = text.firstIndex(of: 0x0A) ?? text.count
  guard
    let (parser, skip) = try? CSVLineParser.make(
      firstLine: UnsafeRawBufferPointer(rebasing: text[0..<firstEnd]), options: options, path: "fuzz")
  else { return }
  let body = skip ? UnsafeRawBufferPointer(rebasing: text[min(firstEnd + 1, text.count)...]) : text
  let piece = parser.parse(body)
  precondition(
    piece.batch.values.count == piece.batch.labels.count * parser.featureCount, "rectangular rows")
  if options.labelKind == LabelKind.none {
    precondition(parser.featureCount == parser.fieldCount, "without labels every field is a feature")
    precondition(piece.batch.labels.allSatisfy { $0 == 0 }, "rows without labels get the placeholder 0")
  }
  precondition(piece.batch.values.allSatisfy(\.isFinite), "only finite numbers")
  if piece.error == nil { checkSplit(body, whole: piece) { parser.parse($0) } }
}

/// Parsing `text` as two pieces cut after its first newline gives the same rows.
private func checkSplit(
  _ text: UnsafeRawBufferPointer, whole: ParsedPiece, parse: (UnsafeRawBufferPointer) -> ParsedPiece
) {
  guard let newline = text.firstIndex(of: 0x0A), newline + 1 < text.count else { return }
  let first = parse(UnsafeRawBufferPointer(rebasing: text[...newline]))
  let second = parse(UnsafeRawBufferPointer(rebasing: text[(newline + 1)...]))
  precondition(first.error == nil && second.error == nil, "pieces of a good text parse")
  precondition(first.batch.labels + second.batch.labels == whole.batch.labels, "labels stitch")
  precondition(first.batch.values + second.batch.values == whole.batch.values, "values stitch")
  precondition(first.batch.indices + second.batch.indices == whole.batch.indices, "indices stitch")
  precondition(first.lines + second.lines == whole.lines, "line counts stitch")
}

/// The byte parser agrees with strtof on every token strtof reads whole.
private func checkFloat(_ text: UnsafeRawBufferPointer) {
  guard text.count < 64 else { return }
  let result = NumberParser.parseFloat(text)
  let copy = Array(text) + [0]
  let expected: Float? = copy.withUnsafeBufferPointer { buffer in
    buffer.withMemoryRebound(to: CChar.self) { chars in
      var end: UnsafeMutablePointer<CChar>?
      let value = strtof(chars.baseAddress!, &end)
      let whole = end == UnsafeMutablePointer(mutating: chars.baseAddress!) + text.count && !text.isEmpty
      return whole ? value : nil
    }
  }
  if case .success(let value) = result {
    // Accepted tokens are a subset of what strtof reads (no hex, no words).
    precondition(
      expected.map { $0.bitPattern == value.bitPattern } == true, "parseFloat disagrees with strtof")
  }
}
