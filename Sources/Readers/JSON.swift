/// A parsed JSON value (RFC 8259), as much of it as file headers need.
///
/// Our own parser rather than JSONSerialization because headers come from
/// untrusted files: it keeps integers apart from fractions (a shape entry of
/// `2.0` is an error, not a 2), refuses duplicate keys instead of silently
/// keeping one, bounds nesting depth, and says where the text went wrong.
enum JSONValue: Equatable {
  case object([String: JSONValue])
  case array([JSONValue])
  case string(String)
  /// A number written without fraction or exponent that fits in `Int`.
  case integer(Int)
  /// Any other number.
  case number(Double)
  case bool(Bool)
  case null

  /// A short description of the value's JSON type, for error messages.
  var typeName: String {
    switch self {
    case .object: "an object"
    case .array: "an array"
    case .string: "a string"
    case .integer, .number: "a number"
    case .bool: "a boolean"
    case .null: "null"
    }
  }

  /// Parses `bytes`, which must hold exactly one JSON value, optionally
  /// surrounded by whitespace. Throws a one-line reason naming the byte offset.
  static func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONSyntaxError) -> JSONValue {
    var parser = JSONParser(bytes: bytes)
    parser.skipWhitespace()
    let value = try parser.parseValue(depth: 0)
    parser.skipWhitespace()
    if parser.position != bytes.count {
      throw parser.error("unexpected text after the JSON value")
    }
    return value
  }

  /// `text` as a JSON string literal, quotes included; non-ASCII stays UTF-8.
  static func quoted(_ text: String) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": result += "\\\""
      case "\\": result += "\\\\"
      case "\n": result += "\\n"
      case "\r": result += "\\r"
      case "\t": result += "\\t"
      case _ where scalar.value < 0x20:
        let hex = String(scalar.value, radix: 16)
        result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      default: result.unicodeScalars.append(scalar)
      }
    }
    return result + "\""
  }
}

/// Why a JSON text could not be parsed: one line, with the byte offset.
struct JSONSyntaxError: Error {
  var reason: String
}

private struct JSONParser {
  /// Deeper nesting than this is refused so hostile input cannot exhaust the stack.
  static let maximumDepth = 64

  let bytes: UnsafeRawBufferPointer
  var position = 0

  init(bytes: UnsafeRawBufferPointer) {
    self.bytes = bytes
  }

  func error(_ reason: String) -> JSONSyntaxError {
    JSONSyntaxError(reason: "\(reason) at byte \(position)")
  }

  var current: UInt8? { position < bytes.count ? bytes[position] : nil }

  mutating func skipWhitespace() {
    while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 {
      position += 1
    }
  }

  mutating func expect(_ byte: UInt8, _ what: String) throws(JSONSyntaxError) {
    guard current == byte else {
      throw error(current == nil ? "JSON ends where \(what) was expected" : "expected \(what)")
    }
    position += 1
  }

  mutating func parseValue(depth: Int) throws(JSONSyntaxError) -> JSONValue {
    guard let byte = current else { throw error("JSON ends where a value was expected") }
    switch byte {
    case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
    case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
    case UInt8(ascii: "\""): return .string(try parseString())
    case UInt8(ascii: "t"):
      try parseLiteral("true")
      return .bool(true)
    case UInt8(ascii: "f"):
      try parseLiteral("false")
      return .bool(false)
    case UInt8(ascii: "n"):
      try parseLiteral("null")
      return .null
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
    default: throw error("unexpected character \(describe(byte))")
    }
  }

  mutating func parseObject(depth: Int) throws(JSONSyntaxError) -> JSONValue {
    guard depth <= Self.maximumDepth else {
      throw error("JSON nested deeper than \(Self.maximumDepth) levels")
    }
    position += 1
    var members: [String: JSONValue] = [:]
    skipWhitespace()
    if current == UInt8(ascii: "}") {
      position += 1
      return .object(members)
    }
    while true {
      skipWhitespace()
      let keyPosition = position
      guard current == UInt8(ascii: "\"") else { throw error("expected a quoted key") }
      let key = try parseString()
      skipWhitespace()
      try expect(UInt8(ascii: ":"), "':' after a key")
      skipWhitespace()
      let value = try parseValue(depth: depth)
      guard members.updateValue(value, forKey: key) == nil else {
        throw JSONSyntaxError(reason: "duplicate key \(JSONValue.quoted(key)) at byte \(keyPosition)")
      }
      skipWhitespace()
      if current == UInt8(ascii: ",") {
        position += 1
        continue
      }
      try expect(UInt8(ascii: "}"), "',' or '}'")
      return .object(members)
    }
  }

  mutating func parseArray(depth: Int) throws(JSONSyntaxError) -> JSONValue {
    guard depth <= Self.maximumDepth else {
      throw error("JSON nested deeper than \(Self.maximumDepth) levels")
    }
    position += 1
    var elements: [JSONValue] = []
    skipWhitespace()
    if current == UInt8(ascii: "]") {
      position += 1
      return .array(elements)
    }
    while true {
      skipWhitespace()
      elements.append(try parseValue(depth: depth))
      skipWhitespace()
      if current == UInt8(ascii: ",") {
        position += 1
        continue
      }
      try expect(UInt8(ascii: "]"), "',' or ']'")
      return .array(elements)
    }
  }

  mutating func parseLiteral(_ word: String) throws(JSONSyntaxError) {
    for expected in word.utf8 {
      guard current == expected else { throw error("invalid literal, expected '\(word)'") }
      position += 1
    }
  }

  /// Parses a number per the JSON grammar `-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`.
  mutating func parseNumber() throws(JSONSyntaxError) -> JSONValue {
    let start = position
    var isInteger = true
    if current == UInt8(ascii: "-") { position += 1 }
    if current == UInt8(ascii: "0") {
      position += 1
    } else {
      guard skipDigits() > 0 else { throw error("malformed number") }
    }
    if current == UInt8(ascii: ".") {
      isInteger = false
      position += 1
      guard skipDigits() > 0 else { throw error("malformed number") }
    }
    if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
      isInteger = false
      position += 1
      if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
      guard skipDigits() > 0 else { throw error("malformed number") }
    }
    let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
    if isInteger, let integer = Int(text) {
      return .integer(integer)
    }
    guard let number = Double(text) else { throw error("malformed number") }
    return .number(number)
  }

  /// Advances past ASCII digits and returns how many there were.
  mutating func skipDigits() -> Int {
    let start = position
    while let byte = current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
      position += 1
    }
    return position - start
  }

  /// Parses a string literal; the bytes between escapes are taken as UTF-8,
  /// which the caller has validated for the whole text.
  mutating func parseString() throws(JSONSyntaxError) -> String {
    position += 1
    var scalars = String.UnicodeScalarView()
    var runStart = position
    func flushRun(upTo end: Int) {
      scalars.append(
        contentsOf: String(decoding: UnsafeRawBufferPointer(rebasing: bytes[runStart..<end]), as: UTF8.self)
          .unicodeScalars)
    }
    while true {
      guard let byte = current else { throw error("unterminated string") }
      switch byte {
      case UInt8(ascii: "\""):
        flushRun(upTo: position)
        position += 1
        return String(scalars)
      case UInt8(ascii: "\\"):
        flushRun(upTo: position)
        position += 1
        scalars.append(try parseEscape())
        runStart = position
      case 0..<0x20:
        throw error("control character \(describe(byte)) inside a string")
      default:
        position += 1
      }
    }
  }

  /// Parses the escape after a backslash, joining UTF-16 surrogate pairs.
  mutating func parseEscape() throws(JSONSyntaxError) -> Unicode.Scalar {
    guard let byte = current else { throw error("unterminated string") }
    position += 1
    switch byte {
    case UInt8(ascii: "\""): return "\""
    case UInt8(ascii: "\\"): return "\\"
    case UInt8(ascii: "/"): return "/"
    case UInt8(ascii: "b"): return "\u{08}"
    case UInt8(ascii: "f"): return "\u{0C}"
    case UInt8(ascii: "n"): return "\n"
    case UInt8(ascii: "r"): return "\r"
    case UInt8(ascii: "t"): return "\t"
    case UInt8(ascii: "u"):
      let unit = try parseHexUnit()
      if (0xD800..<0xDC00).contains(unit) {
        guard current == UInt8(ascii: "\\") else { throw error("unpaired UTF-16 surrogate") }
        position += 1
        guard current == UInt8(ascii: "u") else { throw error("unpaired UTF-16 surrogate") }
        position += 1
        let low = try parseHexUnit()
        guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired UTF-16 surrogate") }
        return Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))!
      }
      guard let scalar = Unicode.Scalar(unit) else { throw error("unpaired UTF-16 surrogate") }
      return scalar
    default:
      throw error("invalid escape \\\(describe(byte))")
    }
  }

  /// Parses the four hex digits of a `\u` escape.
  mutating func parseHexUnit() throws(JSONSyntaxError) -> UInt32 {
    var unit: UInt32 = 0
    for _ in 0..<4 {
      guard let byte = current, let digit = hexDigitValue(byte) else {
        throw error("\\u escape needs four hex digits")
      }
      unit = unit << 4 | digit
      position += 1
    }
    return unit
  }

  func hexDigitValue(_ byte: UInt8) -> UInt32? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
    case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
    case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
    default: nil
    }
  }

  func describe(_ byte: UInt8) -> String {
    (0x21..<0x7F).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "0x" + String(byte, radix: 16)
  }
}
