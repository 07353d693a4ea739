import Foundation
import SeededRandom
import Testing

@testable import Ingest

@Suite("Number parsing on bytes")
struct NumberParserTests {
  func parse(_ text: String) -> Result<Float, NumberProblem> {
    Array(text.utf8).withUnsafeBytes { NumberParser.parseFloat($0) }
  }

  func strtofReference(_ text: String) -> Float { strtof(text, nil) }

  @Test("simple forms")
  func simple() throws {
    let cases: [(String, Float)] = [
      ("0", 0), ("1", 1), ("-1", -1), ("+2.5", 2.5), (".5", 0.5), ("5.", 5), ("1e3", 1000), ("1E-2", 0.01),
      ("-0.0", -0.0), ("3.4028235e38", .greatestFiniteMagnitude), ("1e-45", 1e-45), ("0.000", 0),
    ]
    for (text, value) in cases {
      #expect(try parse(text).get() == value, "\(text)")
    }
  }

  @Test(
    "bad tokens are told apart", arguments: ["", "-", ".", "e5", "1e", "1.2.3", "abc", "1,5", "0x10", "1 "])
  func notNumbers(text: String) {
    #expect(throws: NumberProblem.notANumber) { try parse(text).get() }
  }

  @Test(
    "NaN, infinity and overflow are refused", arguments: ["nan", "NaN", "-inf", "Infinity", "1e39", "-4e38"])
  func notFinite(text: String) {
    #expect(throws: NumberProblem.self) { try parse(text).get() }
  }

  @Test("every Float's shortest description parses back to the same bits")
  func roundTrip() throws {
    var random = SplitMix64(seed: 42)
    for _ in 0..<200_000 {
      let value = Float(bitPattern: UInt32(truncatingIfNeeded: random.next()))
      guard value.isFinite else { continue }
      let parsed = try parse(value.description).get()
      #expect(parsed.bitPattern == value.bitPattern, "\(value)")
      if parsed.bitPattern != value.bitPattern { return }
    }
  }

  @Test("decimal strings of 1 to 25 digits round exactly as strtof does")
  func matchesStrtof() throws {
    var random = SplitMix64(seed: 7)
    for _ in 0..<200_000 {
      let digits = 1 + random.next(below: 25)
      var mantissa = ""
      for _ in 0..<digits { mantissa.append(Character(String(random.next(below: 10)))) }
      let point = random.next(below: digits + 1)
      var text = String(mantissa.prefix(point)) + "." + String(mantissa.dropFirst(point))
      if random.next(below: 3) == 0 { text += "e\(random.next(below: 60) - 30)" }
      let expected = strtofReference(text)
      guard expected.isFinite else { continue }
      let parsed = try parse(text).get()
      #expect(parsed.bitPattern == expected.bitPattern, "\(text)")
      if parsed.bitPattern != expected.bitPattern { return }
    }
  }

  @Test("decimals next to a midpoint between two Floats round as strtof does")
  func nearMidpoints() throws {
    var random = SplitMix64(seed: 13)
    for _ in 0..<20_000 {
      let exponent = random.next(below: 60) - 30
      let value = Float(
        sign: .plus, exponent: exponent, significand: 1 + Float(random.next(below: 1 << 23)) / 8_388_608)
      let midpoint = (Double(value) + Double(value.nextUp)) / 2
      for double in [midpoint, midpoint.nextUp, midpoint.nextDown] {
        for digits in [9, 16, 17, 19, 21, 25] {
          let text = String(format: "%.\(digits)g", double)
          let parsed = try parse(text).get()
          #expect(parsed.bitPattern == strtofReference(text).bitPattern, "\(text)")
          if parsed.bitPattern != strtofReference(text).bitPattern { return }
        }
      }
    }
  }

  @Test("halfway cases between two Floats round to even")
  func halfway() throws {
    // 1 + 2^-24 is exactly halfway between 1 and the next Float up.
    #expect(try parse("1.000000059604644775390625").get() == 1)
    #expect(try parse("1.000000059604644775390626").get() == Float(1).nextUp)
    #expect(try parse("16777217").get() == 16_777_216)
  }

  @Test("integers")
  func integers() {
    func integer(_ text: String) -> Int? {
      Array(text.utf8).withUnsafeBytes { NumberParser.parseInteger($0) }
    }
    #expect(integer("123") == 123 && integer("-4") == -4 && integer("+7") == 7)
    #expect(integer("") == nil && integer("1.5") == nil && integer("12a") == nil)
    #expect(integer("9999999999999999999999") == nil)
  }
}
