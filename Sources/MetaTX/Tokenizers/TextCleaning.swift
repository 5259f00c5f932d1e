import Foundation

/// The text clean-up that CLIP (open_clip `SimpleTokenizer`, `clean="lower"`)
/// applies before splitting: `whitespace_clean(basic_clean(text)).lower()`,
/// where `basic_clean` is `ftfy.fix_text` then `html.unescape` twice, then strip.
///
/// ftfy is not available in Swift, so `fixText` reimplements the part of
/// `ftfy.fix_text` (ftfy 6.3) that changes ordinary, correctly decoded text,
/// applied in ftfy's order until nothing changes:
/// C1 controls read as Windows-1252, Latin ligatures split (ﬁ → fi),
/// halfwidth/fullwidth forms to standard width (U+3000 → space), curly quotes
/// straightened, ANSI terminal escapes and unwanted control characters
/// removed, NFC normalisation. Not reimplemented: ftfy's mojibake repair
/// (`fix_encoding`: text that was decoded with the wrong code page) and its
/// own HTML unescaping, which the two `html.unescape` passes below cover.
public enum TextCleaning {
  /// The whole clean-up: fix, unescape HTML twice, collapse whitespace, and
  /// lower-case when `lowercase` (Python's `str.lower`, final sigma included).
  public static func clean(_ text: String, lowercase: Bool) -> String {
    var cleaned = unescapeHTML(unescapeHTML(fixText(text)))
    cleaned = collapseWhitespace(cleaned)
    return lowercase ? lowercased(cleaned) : cleaned
  }

  // MARK: ftfy.fix_text (the subset described above)

  /// ftfy's per-character fixes and NFC, repeated until stable (ftfy loops the same way).
  public static func fixText(_ text: String) -> String {
    var current = text
    // Each pass only shortens or canonicalises; a handful of passes reaches the fixed point.
    for _ in 0..<8 {
      var scalars = String.UnicodeScalarView()
      var input = Array(current.unicodeScalars)
      input = removingTerminalEscapes(input)
      for scalar in input {
        for fixed in fixScalar(scalar) { scalars.append(fixed) }
      }
      let next = String(scalars).precomposedStringWithCanonicalMapping
      if next == current { return next }
      current = next
    }
    return current
  }

  /// Windows-1252's characters for the C1 controls U+0080…U+009F (ftfy `fix_c1_controls`);
  /// the five bytes that code page leaves undefined stay as they are.
  private static let windows1252: [UInt32: UInt32] = [
    0x80: 0x20AC, 0x82: 0x201A, 0x83: 0x0192, 0x84: 0x201E, 0x85: 0x2026, 0x86: 0x2020, 0x87: 0x2021,
    0x88: 0x02C6, 0x89: 0x2030, 0x8A: 0x0160, 0x8B: 0x2039, 0x8C: 0x0152, 0x8E: 0x017D, 0x91: 0x2018,
    0x92: 0x2019, 0x93: 0x201C, 0x94: 0x201D, 0x95: 0x2022, 0x96: 0x2013, 0x97: 0x2014, 0x98: 0x02DC,
    0x99: 0x2122, 0x9A: 0x0161, 0x9B: 0x203A, 0x9C: 0x0153, 0x9E: 0x017E, 0x9F: 0x0178,
  ]

  /// ftfy's `LIGATURES` table.
  private static let ligatures: [UInt32: String] = [
    0x0132: "IJ", 0x0133: "ij", 0x0149: "\u{02BC}n", 0x01F1: "DZ", 0x01F2: "Dz", 0x01F3: "dz",
    0x01C4: "D\u{017D}", 0x01C5: "D\u{017E}", 0x01C6: "d\u{017E}", 0x01C7: "LJ", 0x01C8: "Lj", 0x01C9: "lj",
    0x01CA: "NJ", 0x01CB: "Nj", 0x01CC: "nj", 0xFB00: "ff", 0xFB01: "fi", 0xFB02: "fl", 0xFB03: "ffi",
    0xFB04: "ffl", 0xFB05: "\u{017F}t", 0xFB06: "st",
  ]

  /// One scalar through ftfy's fixers in order: C1 controls, ligatures, width,
  /// quotes, control-character removal.
  private static func fixScalar(_ scalar: Unicode.Scalar) -> [Unicode.Scalar] {
    let value = scalar.value
    if let replacement = windows1252[value] { return fixScalar(Unicode.Scalar(replacement)!) }
    if let replacement = ligatures[value] { return replacement.unicodeScalars.flatMap(fixScalar) }
    // fix_character_width: U+3000 and the NFKC form of U+FF01…U+FFEF.
    if value == 0x3000 { return [" "] }
    if (0xFF01...0xFFEF).contains(value) {
      let standard = String(scalar).precomposedStringWithCompatibilityMapping
      if standard != String(scalar) { return standard.unicodeScalars.flatMap(fixScalar) }
    }
    // uncurl_quotes: [\u02bc\u2018-\u201b] → ' and [\u201c-\u201f] → "
    if value == 0x02BC || (0x2018...0x201B).contains(value) { return ["'"] }
    if (0x201C...0x201F).contains(value) { return ["\""] }
    // remove_control_chars (ftfy's CONTROL_CHARS).
    switch value {
    case 0x00...0x08, 0x0B, 0x0E...0x1F, 0x7F, 0x206A...0x206F, 0xFEFF, 0xFFF9...0xFFFC: return []
    default: return [scalar]
    }
  }

  /// Drops ANSI terminal escapes, ftfy's `\033\[((?:\d|;)*)([a-zA-Z])`.
  private static func removingTerminalEscapes(_ scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
    var output: [Unicode.Scalar] = []
    output.reserveCapacity(scalars.count)
    var index = 0
    while index < scalars.count {
      if scalars[index] == "\u{1B}", index + 1 < scalars.count, scalars[index + 1] == "[" {
        var end = index + 2
        while end < scalars.count, scalars[end] == ";" || ("0"..."9").contains(scalars[end]) { end += 1 }
        if end < scalars.count, scalars[end].isASCII, scalars[end].properties.isAlphabetic {
          index = end + 1
          continue
        }
      }
      output.append(scalars[index])
      index += 1
    }
    return output
  }

  // MARK: html.unescape

  /// The named character references decoded (with their semicolon): the
  /// markup, Latin-1 and typography names that real captions contain. Python's
  /// `html.unescape` knows all 2,231 HTML5 names and some without semicolons;
  /// names outside this table are left as written.
  private static let entities: [String: String] = [
    "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": "\u{A0}", "copy": "©", "reg": "®",
    "trade": "™", "hellip": "…", "mdash": "—", "ndash": "–", "lsquo": "‘", "rsquo": "’", "ldquo": "“",
    "rdquo": "”", "sbquo": "‚", "bdquo": "„", "laquo": "«", "raquo": "»", "bull": "•", "middot": "·",
    "deg": "°", "plusmn": "±", "times": "×", "divide": "÷", "frac12": "½", "frac14": "¼", "frac34": "¾",
    "euro": "€", "pound": "£", "yen": "¥", "cent": "¢", "sect": "§", "para": "¶", "iexcl": "¡",
    "iquest": "¿", "shy": "\u{AD}", "micro": "µ", "szlig": "ß", "aacute": "á", "eacute": "é", "iacute": "í",
    "oacute": "ó", "uacute": "ú", "agrave": "à", "egrave": "è", "igrave": "ì", "ograve": "ò",
    "ugrave": "ù", "acirc": "â", "ecirc": "ê", "icirc": "î", "ocirc": "ô", "ucirc": "û", "auml": "ä",
    "euml": "ë", "iuml": "ï", "ouml": "ö", "uuml": "ü", "atilde": "ã", "ntilde": "ñ", "otilde": "õ",
    "ccedil": "ç", "aring": "å", "aelig": "æ", "oslash": "ø", "Aacute": "Á", "Eacute": "É",
    "Iacute": "Í", "Oacute": "Ó", "Uacute": "Ú", "Agrave": "À", "Egrave": "È", "Auml": "Ä",
    "Ouml": "Ö", "Uuml": "Ü", "Ntilde": "Ñ", "Ccedil": "Ç", "Aring": "Å", "AElig": "Æ", "Oslash": "Ø",
  ]

  /// Python's `html.unescape` for numeric references (`&#65;`, `&#x41;`, the
  /// semicolon optional; invalid code points become U+FFFD) and for the named
  /// references in `entities`.
  public static func unescapeHTML(_ text: String) -> String {
    guard text.contains("&") else { return text }
    let scalars = Array(text.unicodeScalars)
    var output = String.UnicodeScalarView()
    var index = 0
    while index < scalars.count {
      if scalars[index] == "&", let (replacement, length) = reference(in: scalars, at: index) {
        output.append(contentsOf: replacement.unicodeScalars)
        index += length
      } else {
        output.append(scalars[index])
        index += 1
      }
    }
    return String(output)
  }

  /// The character reference starting at `scalars[start] == "&"`: its text and length.
  private static func reference(in scalars: [Unicode.Scalar], at start: Int) -> (String, Int)? {
    var index = start + 1
    guard index < scalars.count else { return nil }
    if scalars[index] == "#" {
      index += 1
      let hexadecimal = index < scalars.count && (scalars[index] == "x" || scalars[index] == "X")
      if hexadecimal { index += 1 }
      let digitsStart = index
      while index < scalars.count, scalars[index].isASCII,
        hexadecimal ? scalars[index].properties.isASCIIHexDigit : ("0"..."9").contains(scalars[index])
      {
        index += 1
      }
      guard index > digitsStart else { return nil }
      let digits = String(String.UnicodeScalarView(scalars[digitsStart..<index]))
      if index < scalars.count, scalars[index] == ";" { index += 1 }
      return (characterForCodePoint(digits, radix: hexadecimal ? 16 : 10), index - start)
    }
    var end = index
    while end < scalars.count, end - index < 32, scalars[end].isASCII, scalars[end].properties.isAlphabetic
      || ("0"..."9").contains(scalars[end])
    {
      end += 1
    }
    guard end < scalars.count, scalars[end] == ";",
      let replacement = entities[String(String.UnicodeScalarView(scalars[index..<end]))]
    else { return nil }
    return (replacement, end + 1 - start)
  }

  /// Python `html._replace_charref`: C1 code points read as Windows-1252 (its
  /// five undefined ones kept), NUL, surrogates and values beyond U+10FFFF as
  /// U+FFFD, the other control characters and non-characters dropped.
  private static func characterForCodePoint(_ digits: String, radix: Int) -> String {
    guard let value = UInt32(digits, radix: radix), value <= 0x10FFFF, !(0xD800...0xDFFF).contains(value) else {
      return "\u{FFFD}"
    }
    if let mapped = windows1252[value] { return String(Unicode.Scalar(mapped)!) }
    switch value {
    case 0: return "\u{FFFD}"
    case 0x0D, 0x81, 0x8D, 0x8F, 0x90, 0x9D: return String(Unicode.Scalar(value)!)
    case 0x01...0x08, 0x0B, 0x0E...0x1F, 0x7F...0x9F, 0xFDD0...0xFDEF: return ""
    case _ where value & 0xFFFE == 0xFFFE: return ""
    default: return String(Unicode.Scalar(value)!)
    }
  }

  // MARK: Whitespace and case

  /// Python's `str.isspace`: Unicode White_Space plus the separators U+001C…U+001F.
  public static func isPythonWhitespace(_ scalar: Unicode.Scalar) -> Bool {
    scalar.properties.isWhitespace || (0x1C...0x1F).contains(scalar.value)
  }

  /// `" ".join(text.split())`: runs of whitespace become one space, none at the ends.
  public static func collapseWhitespace(_ text: String) -> String {
    var output = String.UnicodeScalarView()
    var pendingSpace = false
    for scalar in text.unicodeScalars {
      if isPythonWhitespace(scalar) {
        pendingSpace = !output.isEmpty
      } else {
        if pendingSpace { output.append(" ") }
        pendingSpace = false
        output.append(scalar)
      }
    }
    return String(output)
  }

  /// Python's `str.lower`: the full Unicode lower-case mapping of each scalar,
  /// with capital sigma becoming final ς at the end of a word (Final_Sigma:
  /// a cased letter before it and none after it, case-ignorable marks skipped).
  public static func lowercased(_ text: String) -> String {
    let scalars = Array(text.unicodeScalars)
    var output = String.UnicodeScalarView()
    for (index, scalar) in scalars.enumerated() {
      if scalar == "\u{03A3}" {
        output.append(isFinalSigma(scalars, index) ? "\u{03C2}" : "\u{03C3}")
      } else {
        output.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
      }
    }
    return String(output)
  }

  private static func isFinalSigma(_ scalars: [Unicode.Scalar], _ index: Int) -> Bool {
    func casedNeighbour(_ indices: some Sequence<Int>) -> Bool {
      for other in indices {
        let properties = scalars[other].properties
        if properties.isCaseIgnorable { continue }
        return properties.isCased
      }
      return false
    }
    return casedNeighbour(stride(from: index - 1, through: 0, by: -1))
      && !casedNeighbour(index + 1..<scalars.count)
  }
}
