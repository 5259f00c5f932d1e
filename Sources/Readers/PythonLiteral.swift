/// A Python literal of the kinds a `.npy` header holds: the subset of
/// `ast.literal_eval` made of dicts with string keys, tuples, lists, strings,
/// integers, booleans and `None`.
enum PythonLiteral: Equatable {
  case dict([String: PythonLiteral])
  case tuple([PythonLiteral])
  case list([PythonLiteral])
  case string(String)
  case integer(Int)
  case bool(Bool)
  case none

  /// Parses `bytes` as one literal, optionally surrounded by whitespace.
  /// Accepts single or double quotes, any key order and trailing commas.
  static func parse(_ bytes: UnsafeRawBufferPointer) throws(PythonLiteralError) -> PythonLiteral {
    var parser = PythonLiteralParser(bytes: bytes)
    parser.skipWhitespace()
    let value = try parser.parseValue(depth: 0)
    parser.skipWhitespace()
    guard parser.position == bytes.count else { throw parser.error("unexpected text after the literal") }
    return value
  }

  /// How Python would print it (`repr`), for error messages.
  var repr: String {
    switch self {
    case .dict(let members):
      "{" + members.keys.sorted().map { "'\($0)': \(members[$0]!.repr)" }.joined(separator: ", ") + "}"
    case .tuple(let elements):
      elements.count == 1 ? "(\(elements[0].repr),)" : "(" + elements.map(\.repr).joined(separator: ", ") + ")"
    case .list(let elements): "[" + elements.map(\.repr).joined(separator: ", ") + "]"
    case .string(let text): "'\(text)'"
    case .integer(let number): String(number)
    case .bool(let flag): flag ? "True" : "False"
    case .none: "None"
    }
  }
}

/// Why a header could not be parsed: one line, with the byte offset.
struct PythonLiteralError: Error {
  var reason: String
}

private struct PythonLiteralParser {
  /// Deeper nesting than this is refused so hostile input cannot exhaust the stack.
  static let maximumDepth = 32

  let bytes: UnsafeRawBufferPointer
  var position = 0

  init(bytes: UnsafeRawBufferPointer) {
    self.bytes = bytes
  }

  func error(_ reason: String) -> PythonLiteralError {
    PythonLiteralError(reason: "\(reason) at byte \(position)")
  }

  var current: UInt8? { position < bytes.count ? bytes[position] : nil }

  mutating func skipWhitespace() {
    while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 {
      position += 1
    }
  }

  mutating func parseValue(depth: Int) throws(PythonLiteralError) -> PythonLiteral {
    guard depth <= Self.maximumDepth else { throw error("nested deeper than \(Self.maximumDepth) levels") }
    guard let byte = current else { throw error("text ends where a value was expected") }
    switch byte {
    case UInt8(ascii: "{"):
      return try parseDict(depth: depth + 1)
    case UInt8(ascii: "("):
      let (elements, sawComma) = try parseSequence(closing: UInt8(ascii: ")"), depth: depth + 1)
      // `(5)` is just 5 in Python; only a comma makes a one-element tuple.
      return elements.count == 1 && !sawComma ? elements[0] : .tuple(elements)
    case UInt8(ascii: "["):
      return .list(try parseSequence(closing: UInt8(ascii: "]"), depth: depth + 1).elements)
    case UInt8(ascii: "'"), UInt8(ascii: "\""):
      return .string(try parseString())
    case UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "0")...UInt8(ascii: "9"):
      return .integer(try parseInteger())
    case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"):
      let word = parseWord()
      switch word {
      case "True": return .bool(true)
      case "False": return .bool(false)
      case "None": return .none
      default: throw error("unexpected name '\(word)'")
      }
    default:
      throw error("unexpected character \(describe(byte))")
    }
  }

  mutating func parseDict(depth: Int) throws(PythonLiteralError) -> PythonLiteral {
    position += 1
    var members: [String: PythonLiteral] = [:]
    while true {
      skipWhitespace()
      if current == UInt8(ascii: "}") {
        position += 1
        return .dict(members)
      }
      guard current == UInt8(ascii: "'") || current == UInt8(ascii: "\"") else {
        throw error("expected a quoted key or '}'")
      }
      let key = try parseString()
      skipWhitespace()
      guard current == UInt8(ascii: ":") else { throw error("expected ':' after key '\(key)'") }
      position += 1
      skipWhitespace()
      guard members.updateValue(try parseValue(depth: depth), forKey: key) == nil else {
        throw error("duplicate key '\(key)'")
      }
      skipWhitespace()
      if current == UInt8(ascii: ",") {
        position += 1
      } else if current != UInt8(ascii: "}") {
        throw error("expected ',' or '}'")
      }
    }
  }

  /// Parses `(…)` or `[…]` after the opening bracket; reports whether any comma was seen.
  mutating func parseSequence(closing: UInt8, depth: Int) throws(PythonLiteralError) -> (
    elements: [PythonLiteral], sawComma: Bool
  ) {
    position += 1
    var elements: [PythonLiteral] = []
    var sawComma = false
    while true {
      skipWhitespace()
      if current == closing {
        position += 1
        return (elements, sawComma)
      }
      elements.append(try parseValue(depth: depth))
      skipWhitespace()
      if current == UInt8(ascii: ",") {
        sawComma = true
        position += 1
      } else if current != closing {
        throw error("expected ',' or '\(Character(Unicode.Scalar(closing)))'")
      }
    }
  }

  /// Parses a quoted string; a backslash takes the next byte literally, which
  /// covers the escapes (`\'`, `\"`, `\\`) numpy's headers can contain.
  mutating func parseString() throws(PythonLiteralError) -> String {
    let quote = current!
    position += 1
    var text: [UInt8] = []
    while true {
      guard let byte = current, byte != 0x0A else { throw error("unterminated string") }
      position += 1
      if byte == quote { return String(decoding: text, as: UTF8.self) }
      if byte == UInt8(ascii: "\\") {
        guard let escaped = current else { throw error("unterminated string") }
        text.append(escaped)
        position += 1
      } else {
        text.append(byte)
      }
    }
  }

  mutating func parseInteger() throws(PythonLiteralError) -> Int {
    let start = position
    if current == UInt8(ascii: "-") || current == UInt8(ascii: "+") { position += 1 }
    while let byte = current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
      position += 1
    }
    let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
    guard let number = Int(text) else { throw error("'\(text)' is not an integer that fits in 64 bits") }
    return number
  }

  mutating func parseWord() -> String {
    let start = position
    while let byte = current,
      (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
    {
      position += 1
    }
    return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
  }

  func describe(_ byte: UInt8) -> String {
    (0x21..<0x7F).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "0x" + String(byte, radix: 16)
  }
}
