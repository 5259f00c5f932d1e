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
/// removed, NFC normalisation, and ftfy's own HTML unescaping (before the
/// others, so `it&rsquo;s` becomes `it's`). Not reimplemented: ftfy's mojibake
/// repair (`fix_encoding`: text that was decoded with the wrong code page);
/// and named references outside this file's tables (about 170 of HTML5's
/// 2,231 names) stay as written.
public enum TextCleaning {
  /// The whole clean-up: fix, unescape HTML twice, collapse whitespace, and
  /// lower-case when `lowercase` (Python's `str.lower`, final sigma included).
  public static func clean(_ text: String, lowercase: Bool) -> String {
    var cleaned = unescapeHTML(unescapeHTML(fixText(text)))
    cleaned = collapseWhitespace(cleaned)
    return lowercase ? lowercased(cleaned) : cleaned
  }

  // MARK: ftfy.fix_text (the subset described above)

  /// `ftfy.fix_text`'s subset: the text is fixed in segments that end after
  /// each newline (as ftfy does); in each, ftfy's own HTML unescaping (only
  /// while no `<` has been seen, ftfy's "auto" rule), the per-character fixes
  /// and NFC are repeated until nothing changes.
  public static func fixText(_ text: String) -> String {
    var fixed = ""
    var unescapes = true
    for segment in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated().map({
      $0.offset == 0 ? String($0.element) : "\n" + $0.element
    }) {
      if segment.contains("<") { unescapes = false }
      fixed += fixSegment(segment, unescapes: unescapes)
    }
    return fixed
  }

  private static func fixSegment(_ segment: String, unescapes: Bool) -> String {
    var current = segment
    // Each pass only removes, splits or composes characters: a few passes reach the fixed point.
    for _ in 0..<8 {
      var scalars = String.UnicodeScalarView()
      let unescaped = unescapes ? ftfyUnescapeHTML(current) : current
      for scalar in removingTerminalEscapes(Array(unescaped.unicodeScalars)) {
        for fixed in fixScalar(scalar) { scalars.append(fixed) }
      }
      let next = composingHangul(String(scalars).precomposedStringWithCanonicalMapping)
      // Scalar equality: String's `==` would call canonically equivalent spellings equal.
      if next.unicodeScalars.elementsEqual(current.unicodeScalars) { return next }
      current = next
    }
    return current
  }

  /// ftfy's `unescape_html`: each `&#?[0-9A-Za-z]{1,24};` that is a named
  /// reference (of the tables here, or an all-capitals spelling of a
  /// lower-case name, giving the capital letter: `&EACUTE;` → É), or a numeric
  /// reference that decodes completely, becomes its character.
  static func ftfyUnescapeHTML(_ text: String) -> String {
    guard text.contains("&") else { return text }
    let scalars = Array(text.unicodeScalars)
    var output = String.UnicodeScalarView()
    var index = 0
    func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
      ("0"..."9").contains(scalar) || ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
    }
    while index < scalars.count {
      guard scalars[index] == "&" else {
        output.append(scalars[index])
        index += 1
        continue
      }
      var end = index + 1
      let numeric = end < scalars.count && scalars[end] == "#"
      if numeric { end += 1 }
      let nameStart = end
      while end < scalars.count, end - nameStart < 24, isAlphanumeric(scalars[end]) { end += 1 }
      guard end > nameStart, end < scalars.count, scalars[end] == ";" else {
        output.append(scalars[index])
        index += 1
        continue
      }
      let reference = String(String.UnicodeScalarView(scalars[index...end]))
      let name = String(String.UnicodeScalarView(scalars[nameStart..<end]))
      var replacement: String? = nil
      if numeric {
        let decoded = unescapeHTML(reference)
        if !decoded.contains(";") { replacement = decoded }
      } else if let character = semicolonEntities[name] ?? legacyEntities[name] {
        replacement = character
      } else if name == name.uppercased(), let character = semicolonEntities[name.lowercased()] ?? legacyEntities[name.lowercased()],
        unescapeHTML(reference) == reference
      {
        replacement = character.uppercased()
      }
      output.append(contentsOf: (replacement ?? reference).unicodeScalars)
      index = end + 1
    }
    return String(output)
  }

  /// Composes a Hangul LV syllable and a following trailing jamo into the LVT
  /// syllable (Unicode §3.12), which NFC requires and Foundation's
  /// `precomposedStringWithCanonicalMapping` on Linux leaves undone.
  static func composingHangul(_ text: String) -> String {
    var output = String.UnicodeScalarView()
    for scalar in text.unicodeScalars {
      if (0x11A8...0x11C2).contains(scalar.value), let last = output.last,
        (0xAC00...0xD7A3).contains(last.value), (last.value - 0xAC00) % 28 == 0
      {
        output.removeLast()
        output.append(Unicode.Scalar(last.value + scalar.value - 0x11A7)!)
      } else {
        output.append(scalar)
      }
    }
    return String(output)
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

  /// The 106 legacy named references that HTML5 (and Python's `html.unescape`)
  /// also decodes without a semicolon, as a prefix: `&quot`, `&ampx` → `&x`.
  private static let legacyEntities: [String: String] = [
    "AElig": "\u{C6}", "AMP": "&", "Aacute": "\u{C1}", "Acirc": "\u{C2}", "Agrave": "\u{C0}", "Aring": "\u{C5}",
    "Atilde": "\u{C3}", "Auml": "\u{C4}", "COPY": "\u{A9}", "Ccedil": "\u{C7}", "ETH": "\u{D0}",
    "Eacute": "\u{C9}", "Ecirc": "\u{CA}", "Egrave": "\u{C8}", "Euml": "\u{CB}", "GT": ">", "Iacute": "\u{CD}",
    "Icirc": "\u{CE}", "Igrave": "\u{CC}", "Iuml": "\u{CF}", "LT": "<", "Ntilde": "\u{D1}", "Oacute": "\u{D3}",
    "Ocirc": "\u{D4}", "Ograve": "\u{D2}", "Oslash": "\u{D8}", "Otilde": "\u{D5}", "Ouml": "\u{D6}", "QUOT": "\"",
    "REG": "\u{AE}", "THORN": "\u{DE}", "Uacute": "\u{DA}", "Ucirc": "\u{DB}", "Ugrave": "\u{D9}",
    "Uuml": "\u{DC}", "Yacute": "\u{DD}", "aacute": "\u{E1}", "acirc": "\u{E2}", "acute": "\u{B4}",
    "aelig": "\u{E6}", "agrave": "\u{E0}", "amp": "&", "aring": "\u{E5}", "atilde": "\u{E3}", "auml": "\u{E4}",
    "brvbar": "\u{A6}", "ccedil": "\u{E7}", "cedil": "\u{B8}", "cent": "\u{A2}", "copy": "\u{A9}",
    "curren": "\u{A4}", "deg": "\u{B0}", "divide": "\u{F7}", "eacute": "\u{E9}", "ecirc": "\u{EA}",
    "egrave": "\u{E8}", "eth": "\u{F0}", "euml": "\u{EB}", "frac12": "\u{BD}", "frac14": "\u{BC}",
    "frac34": "\u{BE}", "gt": ">", "iacute": "\u{ED}", "icirc": "\u{EE}", "iexcl": "\u{A1}", "igrave": "\u{EC}",
    "iquest": "\u{BF}", "iuml": "\u{EF}", "laquo": "\u{AB}", "lt": "<", "macr": "\u{AF}", "micro": "\u{B5}",
    "middot": "\u{B7}", "nbsp": "\u{A0}", "not": "\u{AC}", "ntilde": "\u{F1}", "oacute": "\u{F3}",
    "ocirc": "\u{F4}", "ograve": "\u{F2}", "ordf": "\u{AA}", "ordm": "\u{BA}", "oslash": "\u{F8}",
    "otilde": "\u{F5}", "ouml": "\u{F6}", "para": "\u{B6}", "plusmn": "\u{B1}", "pound": "\u{A3}", "quot": "\"",
    "raquo": "\u{BB}", "reg": "\u{AE}", "sect": "\u{A7}", "shy": "\u{AD}", "sup1": "\u{B9}", "sup2": "\u{B2}",
    "sup3": "\u{B3}", "szlig": "\u{DF}", "thorn": "\u{FE}", "times": "\u{D7}", "uacute": "\u{FA}",
    "ucirc": "\u{FB}", "ugrave": "\u{F9}", "uml": "\u{A8}", "uuml": "\u{FC}", "yacute": "\u{FD}", "yen": "\u{A5}",
    "yuml": "\u{FF}"
  ]

  /// Further named references decoded only with their semicolon: typography,
  /// arrows, a few symbols and Greek letters. Python knows all 2,231 HTML5
  /// names; the others are left as written here.
  private static let semicolonEntities: [String: String] = [
    "apos": "'", "hellip": "\u{2026}", "mdash": "\u{2014}", "ndash": "\u{2013}", "lsquo": "\u{2018}",
    "rsquo": "\u{2019}", "ldquo": "\u{201C}", "rdquo": "\u{201D}", "sbquo": "\u{201A}", "bdquo": "\u{201E}",
    "lsaquo": "\u{2039}", "rsaquo": "\u{203A}", "bull": "\u{2022}", "trade": "\u{2122}", "euro": "\u{20AC}",
    "dagger": "\u{2020}", "Dagger": "\u{2021}", "permil": "\u{2030}", "prime": "\u{2032}", "Prime": "\u{2033}",
    "larr": "\u{2190}", "rarr": "\u{2192}", "uarr": "\u{2191}", "darr": "\u{2193}", "harr": "\u{2194}",
    "minus": "\u{2212}", "infin": "\u{221E}", "ne": "\u{2260}", "le": "\u{2264}", "ge": "\u{2265}",
    "asymp": "\u{2248}", "hearts": "\u{2665}", "spades": "\u{2660}", "clubs": "\u{2663}", "diams": "\u{2666}",
    "alpha": "\u{3B1}", "beta": "\u{3B2}", "gamma": "\u{3B3}", "delta": "\u{3B4}", "pi": "\u{3C0}",
    "mu": "\u{3BC}", "sigma": "\u{3C3}", "omega": "\u{3C9}", "Omega": "\u{3A9}", "thinsp": "\u{2009}",
    "ensp": "\u{2002}", "emsp": "\u{2003}", "zwj": "\u{200D}", "zwnj": "\u{200C}", "OElig": "\u{152}",
    "oelig": "\u{153}", "Scaron": "\u{160}", "scaron": "\u{161}", "Yuml": "\u{178}", "fnof": "\u{192}",
    "circ": "\u{2C6}", "tilde": "\u{2DC}"
  ]

  /// Python's `html.unescape`: numeric references (`&#65;`, `&#x41;`, the
  /// semicolon optional; see `characterForCodePoint`) and named ones: a name
  /// with its semicolon, else the longest legacy name that begins it.
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

  /// The reference starting at `scalars[start] == "&"`: its replacement text
  /// and how many scalars it replaces; nil where Python leaves the `&` as is.
  /// Follows `html.unescape`'s pattern `&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)`.
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
    while end < scalars.count, end - index < 32, !"\t\n\u{0C} <&#;".unicodeScalars.contains(scalars[end]) { end += 1 }
    guard end > index else { return nil }
    func name(_ length: Int) -> String { String(String.UnicodeScalarView(scalars[index..<(index + length)])) }
    let length = end - index
    let hasSemicolon = end < scalars.count && scalars[end] == ";"
    if hasSemicolon, let replacement = semicolonEntities[name(length)] ?? legacyEntities[name(length)] {
      return (replacement, length + 2)
    }
    if !hasSemicolon, let replacement = legacyEntities[name(length)] { return (replacement, length + 1) }
    // Else the longest legacy name that begins the matched text (Python then
    // copies the rest, which holds no `&`, so scanning on gives the same).
    for prefix in stride(from: hasSemicolon ? length : length - 1, through: 2, by: -1) {
      if let replacement = legacyEntities[name(prefix)] { return (replacement, prefix + 1) }
    }
    return nil
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
