#if canImport(Glibc)
  import Glibc
#endif

/// Why a token is not an acceptable number.
enum NumberProblem: Error, Equatable {
  /// Not a number at all.
  case notANumber
  /// NaN or infinity, which datasets may not hold.
  case notFinite
  /// Too large for a Float32.
  case outOfRange
}

/// Number parsing straight from bytes, without building strings.
///
/// ``parseFloat(_:)`` is correctly rounded to Float32: most inputs go
/// through Double arithmetic whose error is known to be too small to change
/// the Float result, the rest through the C library's `strtof`, so printing a Float with Swift's shortest
/// round-trip description and parsing it back gives the same bits.
enum NumberParser {
  /// Parses the whole of `token` as a decimal integer with an optional sign.
  @inline(__always)
  static func parseInteger(_ token: UnsafeRawBufferPointer) -> Int? {
    var index = 0
    let count = token.count
    var negative = false
    if count > 0, token[0] == UInt8(ascii: "-") || token[0] == UInt8(ascii: "+") {
      negative = token[0] == UInt8(ascii: "-")
      index = 1
    }
    guard index < count, count - index <= 18 else { return nil }
    var value = 0
    // Precondition: index < count, so every load is inside `token`; at most
    // 18 digits, so `value` cannot overflow.
    while index < count {
      let digit = token[index] &- UInt8(ascii: "0")
      guard digit < 10 else { return nil }
      value = value &* 10 &+ Int(digit)
      index &+= 1
    }
    return negative ? -value : value
  }

  /// Parses the whole of `token` as a decimal floating-point number:
  /// `[+-]digits[.digits][(e|E)[+-]digits]`, or `.5`, `5.`. Rejects NaN,
  /// infinities and values beyond Float32's range.
  @inline(__always)
  static func parseFloat(_ token: UnsafeRawBufferPointer) -> Result<Float, NumberProblem> {
    let count = token.count
    var index = 0
    var negative = false
    if count > 0, token[0] == UInt8(ascii: "-") || token[0] == UInt8(ascii: "+") {
      negative = token[0] == UInt8(ascii: "-")
      index = 1
    }
    var mantissa: UInt64 = 0
    var significant = 0
    var digits = 0
    var exponent = 0
    // Precondition for both digit loops: `index < count` before each load.
    while index < count {
      let digit = token[index] &- UInt8(ascii: "0")
      guard digit < 10 else { break }
      if mantissa != 0 || digit != 0 { significant &+= 1 }
      if significant <= 19 { mantissa = mantissa &* 10 &+ UInt64(digit) } else { exponent &+= 1 }
      digits &+= 1
      index &+= 1
    }
    if index < count, token[index] == UInt8(ascii: ".") {
      index &+= 1
      while index < count {
        let digit = token[index] &- UInt8(ascii: "0")
        guard digit < 10 else { break }
        if mantissa != 0 || digit != 0 { significant &+= 1 }
        if significant <= 19 {
          mantissa = mantissa &* 10 &+ UInt64(digit)
          exponent &-= 1
        }
        digits &+= 1
        index &+= 1
      }
    }
    guard digits > 0 else { return .failure(wordProblem(token)) }
    if index < count, token[index] | 0x20 == UInt8(ascii: "e") {
      index &+= 1
      var negativeExponent = false
      if index < count, token[index] == UInt8(ascii: "-") || token[index] == UInt8(ascii: "+") {
        negativeExponent = token[index] == UInt8(ascii: "-")
        index &+= 1
      }
      var value = 0
      var exponentDigits = 0
      while index < count {
        let digit = token[index] &- UInt8(ascii: "0")
        guard digit < 10 else { break }
        if value < 100_000 { value = value &* 10 &+ Int(digit) }
        exponentDigits &+= 1
        index &+= 1
      }
      guard exponentDigits > 0 else { return .failure(.notANumber) }
      exponent &+= negativeExponent ? -value : value
    }
    guard index == count else { return .failure(.notANumber) }
    if mantissa == 0 { return .success(negative ? -0.0 : 0) }
    // Fast path (after Clinger): with at most 19 significant digits kept and
    // |exponent| ≤ 22, 10^|exponent| is an exact Double, so one conversion
    // and one multiply or divide put `scaled` within 2 Double ulps of the
    // true value (plus < 10^-18 relative for digits past the 19th). Rounding
    // `scaled` to Float then gives the correctly rounded Float unless a Float
    // rounding boundary (a midpoint between two Floats: low 29 significand
    // bits 1 followed by zeros) lies within that error; so when the low 29
    // bits are within 16 of the midpoint pattern, or the result is outside
    // Float's normal range, strtof decides.
    if exponent >= -22, exponent <= 22 {
      let scaled =
        exponent < 0
        ? Double(mantissa) / exactPowerOfTen(-exponent) : Double(mantissa) * exactPowerOfTen(exponent)
      let result = Float(scaled)
      let low = Int(scaled.bitPattern & 0x1FFF_FFFF)
      if abs(low - 0x1000_0000) > 16, result.isNormal {
        return .success(negative ? -result : result)
      }
    }
    return slowParse(token)
  }

  /// 10^exponent for 0 ≤ exponent ≤ 22, all exact in Double.
  @inline(__always)
  private static func exactPowerOfTen(_ exponent: Int) -> Double {
    switch exponent {
    case 0: 1e0
    case 1: 1e1
    case 2: 1e2
    case 3: 1e3
    case 4: 1e4
    case 5: 1e5
    case 6: 1e6
    case 7: 1e7
    case 8: 1e8
    case 9: 1e9
    case 10: 1e10
    case 11: 1e11
    case 12: 1e12
    case 13: 1e13
    case 14: 1e14
    case 15: 1e15
    case 16: 1e16
    case 17: 1e17
    case 18: 1e18
    case 19: 1e19
    case 20: 1e20
    case 21: 1e21
    default: 1e22
    }
  }

  /// The hard cases: long mantissas, large exponents, subnormals.
  /// The corresponding C function is `strtof`.
  private static func slowParse(_ token: UnsafeRawBufferPointer) -> Result<Float, NumberProblem> {
    guard token.count < 800 else { return .failure(.notANumber) }
    return withUnsafeTemporaryAllocation(of: CChar.self, capacity: token.count + 1) { copy in
      for index in 0..<token.count { copy[index] = CChar(bitPattern: token[index]) }
      copy[token.count] = 0
      var end: UnsafeMutablePointer<CChar>?
      let value = strtof(copy.baseAddress!, &end)
      guard end == copy.baseAddress! + token.count else { return .failure(.notANumber) }
      guard value.isFinite else { return .failure(.outOfRange) }
      return .success(value)
    }
  }

  /// Tells "nan"/"inf"/"infinity" (any case, any sign) from other words.
  private static func wordProblem(_ token: UnsafeRawBufferPointer) -> NumberProblem {
    var word = String(decoding: token, as: UTF8.self).lowercased()
    if word.hasPrefix("-") || word.hasPrefix("+") { word.removeFirst() }
    return ["nan", "inf", "infinity"].contains(word) ? .notFinite : .notANumber
  }
}
