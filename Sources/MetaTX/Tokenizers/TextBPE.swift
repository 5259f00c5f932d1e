import Foundation
import Readers

/// GPT-2's reversible map from bytes to printable characters (`bytes_to_unicode`
/// in GPT-2, CLIP and open_clip): the 188 printable Latin-1 bytes map to
/// themselves, the other 68 bytes to U+0100 onwards in byte order, so BPE
/// symbols are strings without spaces or control characters.
public enum ByteSymbols {
  /// The bytes in vocabulary order: the printable ranges `!`…`~`, `¡`…`¬`,
  /// `®`…`ÿ`, then the remaining bytes ascending. Token id `i < 256` is the
  /// byte `order[i]`; id `256 + i` is the same byte ending a word.
  public static let order: [UInt8] = {
    let printable = Array(0x21...0x7E) + Array(0xA1...0xAC) + Array(0xAE...0xFF)
    let others = (0...255).filter { !printable.contains($0) }
    return (printable + others).map { UInt8($0) }
  }()

  /// The character standing for each byte (indexed by byte value).
  public static let character: [Unicode.Scalar] = {
    var table = [Unicode.Scalar](repeating: " ", count: 256)
    var next: UInt32 = 256
    for byte in order {
      if (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte) {
        table[Int(byte)] = Unicode.Scalar(byte)
      } else {
        table[Int(byte)] = Unicode.Scalar(next)!
        next += 1
      }
    }
    return table
  }()

  /// The token id of each byte (indexed by byte value), not ending a word.
  public static let id: [Int] = {
    var table = [Int](repeating: 0, count: 256)
    for (index, byte) in order.enumerated() { table[Int(byte)] = index }
    return table
  }()

  /// The byte of each character of `character`.
  public static let byte: [Unicode.Scalar: UInt8] = {
    var table: [Unicode.Scalar: UInt8] = [:]
    for value in 0...255 { table[character[value]] = UInt8(value) }
    return table
  }()
}

/// A byte-level BPE vocabulary in CLIP's layout, learned (`BPETrainer`) or
/// CLIP's own (`BPEVocabulary.clip`).
///
/// Ids: `0..<256` the bytes (`ByteSymbols.order`), `256..<512` the same bytes
/// ending a word (symbol + `</w>`), then one id per merge in merge order (the
/// two symbols joined), then `<start_of_text>` and `<end_of_text>` (open_clip's
/// spelling of CLIP's `<|startoftext|>`, `<|endoftext|>`). CLIP: 48,894 merges,
/// 49,408 ids, start 49406, end 49407.
public final class BPEVocabulary: Equatable, Sendable {
  /// The suffix that marks the last symbol of a word.
  public static let wordEnd = "</w>"
  public static let startSymbol = "<start_of_text>"
  public static let endSymbol = "<end_of_text>"

  /// The merges in rank order, each `"left right"` (a line of CLIP's merges file).
  public let merges: [String]
  /// The symbol of each id.
  public let symbols: [String]
  public var count: Int { symbols.count }
  public var startID: Int { symbols.count - 2 }
  public var endID: Int { symbols.count - 1 }

  /// The id of each symbol; where merges produce the same string twice the
  /// later id wins, as in open_clip's `dict(zip(vocab, range(len(vocab))))`.
  private let idOfSymbol: [String: Int]
  /// `left << 32 | right` → (rank, merged id).
  private let mergeOfPair: [UInt64: (rank: Int, merged: Int)]

  /// - Parameter merges: `"left right"` lines in rank order; each side must be
  ///   a byte symbol (optionally ending in `</w>`) or the result of an earlier merge.
  /// - Throws: `ReaderError(file: source, …)` naming the first malformed merge.
  public init(merges: [String], source: String) throws {
    var symbols = ByteSymbols.order.map { String(ByteSymbols.character[Int($0)]) }
    symbols += symbols.map { $0 + Self.wordEnd }
    var idOfSymbol: [String: Int] = [:]
    for (id, symbol) in symbols.enumerated() { idOfSymbol[symbol] = id }
    var sidesOfMerges: [(left: String, right: String)] = []
    sidesOfMerges.reserveCapacity(merges.count)
    for (rank, merge) in merges.enumerated() {
      let sides = merge.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
      guard sides.count == 2, idOfSymbol[sides[0]] != nil, idOfSymbol[sides[1]] != nil else {
        throw ReaderError(file: source, "merge \(rank + 1) \"\(merge)\" is not two known symbols separated by one space")
      }
      idOfSymbol[sides[0] + sides[1]] = symbols.count
      symbols.append(sides[0] + sides[1])
      sidesOfMerges.append((sides[0], sides[1]))
    }
    // Pairs are keyed once every symbol is known: a string that merges make
    // twice has its last id everywhere, as in open_clip, whose `encoder` and
    // `bpe_ranks` dictionaries keep the last of equal keys.
    var mergeOfPair: [UInt64: (rank: Int, merged: Int)] = [:]
    mergeOfPair.reserveCapacity(merges.count)
    for (rank, sides) in sidesOfMerges.enumerated() {
      let pair = UInt64(idOfSymbol[sides.left]!) << 32 | UInt64(idOfSymbol[sides.right]!)
      mergeOfPair[pair] = (rank, idOfSymbol[sides.left + sides.right]!)
    }
    for special in [Self.startSymbol, Self.endSymbol] {
      idOfSymbol[special] = symbols.count
      symbols.append(special)
    }
    self.merges = merges
    self.symbols = symbols
    self.idOfSymbol = idOfSymbol
    self.mergeOfPair = mergeOfPair
  }

  public static func == (lhs: BPEVocabulary, rhs: BPEVocabulary) -> Bool { lhs.merges == rhs.merges }

  /// The id of `symbol`, or nil when it is not in the vocabulary.
  public func id(of symbol: String) -> Int? { idOfSymbol[symbol] }

  /// BPE of one pre-tokenised word (open_clip `SimpleTokenizer.bpe`): its
  /// UTF-8 bytes as symbols, the last one ending the word, then repeatedly
  /// the adjacent pair of lowest merge rank is merged everywhere in the word,
  /// left to right, until no adjacent pair has a merge.
  public func encodeWord(_ word: some Collection<UInt8>) -> [Int] {
    var ids = word.map { ByteSymbols.id[Int($0)] }
    guard !ids.isEmpty else { return [] }
    ids[ids.count - 1] += 256
    while ids.count > 1 {
      var best: (rank: Int, left: Int, right: Int)? = nil
      for position in 0..<(ids.count - 1) {
        if let merge = mergeOfPair[UInt64(ids[position]) << 32 | UInt64(ids[position + 1])],
          best == nil || merge.rank < best!.rank
        {
          best = (merge.rank, ids[position], ids[position + 1])
        }
      }
      guard let best else { break }
      let merged = mergeOfPair[UInt64(best.left) << 32 | UInt64(best.right)]!.merged
      var next: [Int] = []
      next.reserveCapacity(ids.count)
      var position = 0
      while position < ids.count {
        if position + 1 < ids.count, ids[position] == best.left, ids[position + 1] == best.right {
          next.append(merged)
          position += 2
        } else {
          next.append(ids[position])
          position += 1
        }
      }
      ids = next
    }
    return ids
  }

  /// The ids of already cleaned `text`: each pre-token (`TextPreTokenizer`)
  /// through `encodeWord`, the literal special symbols to their ids.
  public func encode(cleaned text: String) -> [Int] {
    var ids: [Int] = []
    for piece in TextPreTokenizer.split(text) {
      if let special = idOfSymbol[piece], special >= startID {
        ids.append(special)
      } else {
        ids += encodeWord(Array(piece.utf8))
      }
    }
    return ids
  }

  /// The text of `ids` (open_clip `decode`): symbols concatenated, mapped back
  /// to bytes, decoded as UTF-8 (invalid sequences become U+FFFD), and each
  /// `</w>` turned into a space. The special symbols are kept as written.
  public func decode(_ ids: [Int]) -> String {
    var bytes: [UInt8] = []
    for id in ids {
      for scalar in symbols[id].unicodeScalars {
        bytes.append(ByteSymbols.byte[scalar] ?? UInt8(truncatingIfNeeded: scalar.value))
      }
    }
    return String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: Self.wordEnd, with: " ")
  }
}

/// CLIP's pre-tokenisation: the matches of
/// `<start_of_text>|<end_of_text>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+`
/// (case-insensitive) found left to right, as Python's `regex.findall` finds
/// them; whitespace between matches is dropped. Written as a scanner over
/// Unicode scalars rather than a regular expression so that it works on code
/// points exactly as Python does (Swift's `Regex` matches grapheme clusters,
/// which would keep a combining accent with its letter).
public enum TextPreTokenizer {
  private static let specials = [BPEVocabulary.startSymbol, BPEVocabulary.endSymbol].map { Array($0.unicodeScalars) }
  private static let contractions = ["s", "t", "re", "ve", "m", "ll", "d"].map { Array($0.unicodeScalars) }

  /// U+0345 COMBINING GREEK YPOGEGRAMMENI matches no alternative of the
  /// case-insensitive pattern in Python's `regex` (its case variant ι is a
  /// letter, so it falls outside `[^\s\p{L}\p{N}]`, yet `[\p{L}]` does not take
  /// it either), so `findall` skips it like whitespace; the only such code point.
  private static let ypogegrammeni: Unicode.Scalar = "\u{345}"

  public static func split(_ text: String) -> [String] {
    let scalars = Array(text.unicodeScalars)
    var pieces: [String] = []
    var index = 0
    func take(_ length: Int) {
      pieces.append(String(String.UnicodeScalarView(scalars[index..<(index + length)])))
      index += length
    }
    while index < scalars.count {
      let scalar = scalars[index]
      if let special = specials.first(where: { matchesIgnoringCase($0, scalars, at: index) }) {
        take(special.count)
      } else if scalar == "'",
        let contraction = contractions.first(where: { matchesIgnoringCase($0, scalars, at: index + 1) })
      {
        take(1 + contraction.count)
      } else if isLetter(scalar) {
        take(run(scalars, from: index, while: isLetter))
      } else if isNumber(scalar) {
        take(1)
      } else if isPythonRegexWhitespace(scalar) || scalar == ypogegrammeni {
        index += 1
      } else {
        take(run(scalars, from: index) {
          !isLetter($0) && !isNumber($0) && !isPythonRegexWhitespace($0) && $0 != ypogegrammeni
        })
      }
    }
    return pieces
  }

  /// `\p{L}`: the letter categories Lu, Ll, Lt, Lm, Lo.
  public static func isLetter(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.properties.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: true
    default: false
    }
  }

  /// `\p{N}`: the number categories Nd, Nl, No.
  public static func isNumber(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.properties.generalCategory {
    case .decimalNumber, .letterNumber, .otherNumber: true
    default: false
    }
  }

  /// `\s` of Python's `regex` module on text: Unicode White_Space (unlike
  /// `str.isspace`, without U+001C…U+001F, which cleaning removes anyway).
  static func isPythonRegexWhitespace(_ scalar: Unicode.Scalar) -> Bool {
    scalar.properties.isWhitespace
  }

  private static func run(_ scalars: [Unicode.Scalar], from start: Int, while belongs: (Unicode.Scalar) -> Bool) -> Int {
    var end = start
    while end < scalars.count, belongs(scalars[end]) { end += 1 }
    return end - start
  }

  /// Whether `literal` (lower-case ASCII) occurs at `start`, ignoring ASCII case.
  private static func matchesIgnoringCase(_ literal: [Unicode.Scalar], _ scalars: [Unicode.Scalar], at start: Int) -> Bool {
    guard start + literal.count <= scalars.count else { return false }
    for (offset, expected) in literal.enumerated() {
      let found = scalars[start + offset]
      let folded = ("A"..."Z").contains(found) ? Unicode.Scalar(found.value + 32)! : found
      if folded != expected { return false }
    }
    return true
  }
}
