import Foundation
import Readers

/// Learns a byte-level BPE vocabulary (in CLIP's layout, `BPEVocabulary`)
/// from a corpus, deterministically.
///
/// The corpus is cleaned and pre-tokenised exactly as text is at encoding
/// time (`TextCleaning.clean`, `TextPreTokenizer`), each distinct word is
/// counted, and merges are learned as in Sennrich et al. 2016 ("Neural Machine
/// Translation of Rare Words with Subword Units"): start from the word's bytes
/// (the last one marked `</w>`), repeatedly merge the adjacent pair that occurs
/// most often in the corpus, everywhere, left to right.
///
/// Ties are broken by a fixed rule, so the same corpus always gives the same
/// merges: among pairs of equal count, the one whose left symbol comes first,
/// then whose right symbol comes first, comparing the symbols' byte-character
/// spellings (`ByteSymbols`) by Unicode scalar value (for ASCII text: by
/// character code, `</w>` sorting after nothing, so "a" < "a</w>" < "b").
public enum BPETrainer {
  /// Learns from the non-empty lines of the UTF-8 text files `paths`.
  ///
  /// - Parameters:
  ///   - vocabularySize: the number of ids wanted, at least 514 (the 512 byte
  ///     symbols and the 2 special symbols); `vocabularySize − 514` merges are
  ///     learned, fewer when the corpus runs out of pairs.
  ///   - lowercase: whether the corpus is lower-cased first (as CLIP's is).
  /// - Throws: `ReaderError` for an unreadable, non-UTF-8 or empty file.
  public static func train(corpus paths: [String], vocabularySize: Int, lowercase: Bool = true) throws -> BPEVocabulary {
    try train(lines: paths.flatMap(TextLines.read(path:)), vocabularySize: vocabularySize, lowercase: lowercase)
  }

  /// Learns from `lines` of text (see `train(corpus:vocabularySize:lowercase:)`).
  public static func train(lines: [String], vocabularySize: Int, lowercase: Bool = true) throws -> BPEVocabulary {
    precondition(vocabularySize >= 514, "a vocabulary has at least the 512 byte symbols and 2 special symbols")
    return try BPEVocabulary(
      merges: learnMerges(words: countWords(lines, lowercase: lowercase), count: vocabularySize - 514),
      source: "trained vocabulary")
  }

  /// The distinct pre-tokenised words of `lines` and how often each occurs,
  /// sorted by word so that the training order never depends on hashing.
  static func countWords(_ lines: [String], lowercase: Bool) -> [(word: [UInt8], count: Int)] {
    // Keyed by UTF-8 bytes: String keys would merge canonically equivalent spellings.
    var counts: [[UInt8]: Int] = [:]
    for line in lines {
      for piece in TextPreTokenizer.split(TextCleaning.clean(line, lowercase: lowercase))
      where piece != BPEVocabulary.startSymbol && piece != BPEVocabulary.endSymbol {
        counts[Array(piece.utf8), default: 0] += 1
      }
    }
    return counts.map { (word: $0.key, count: $0.value) }.sorted { $0.word.lexicographicallyPrecedes($1.word) }
  }

  /// Up to `count` merges (`"left right"`) learned from the weighted `words`.
  static func learnMerges(words weightedWords: [(word: [UInt8], count: Int)], count: Int) -> [String] {
    // Symbols are interned: ids 0..<512 are the byte symbols as in `BPEVocabulary`,
    // each merge appends one, so a pair is two ints.
    var symbols = ByteSymbols.order.map { String(ByteSymbols.character[Int($0)]) }
    symbols += symbols.map { $0 + BPEVocabulary.wordEnd }
    var words: [[Int]] = weightedWords.map { entry in
      var ids = entry.word.map { ByteSymbols.id[Int($0)] }
      ids[ids.count - 1] += 256
      return ids
    }
    let weights = weightedWords.map(\.count)
    func key(_ left: Int, _ right: Int) -> UInt64 { UInt64(left) << 32 | UInt64(right) }

    var pairCounts: [UInt64: Int] = [:]
    // Words that contained the pair when it was last counted (a superset: stale entries are harmless).
    var pairWords: [UInt64: Set<Int>] = [:]
    for (index, word) in words.enumerated() where word.count > 1 {
      for position in 0..<(word.count - 1) {
        let pair = key(word[position], word[position + 1])
        pairCounts[pair, default: 0] += weights[index]
        pairWords[pair, default: []].insert(index)
      }
    }

    func precedes(_ a: UInt64, _ b: UInt64) -> Bool {
      let countA = pairCounts[a]!, countB = pairCounts[b]!
      if countA != countB { return countA > countB }
      let leftA = symbols[Int(a >> 32)].unicodeScalars, leftB = symbols[Int(b >> 32)].unicodeScalars
      if !leftA.elementsEqual(leftB) { return leftA.lexicographicallyPrecedes(leftB) }
      return symbols[Int(a & 0xFFFF_FFFF)].unicodeScalars.lexicographicallyPrecedes(
        symbols[Int(b & 0xFFFF_FFFF)].unicodeScalars)
    }

    var merges: [String] = []
    while merges.count < count {
      var best: UInt64? = nil
      for (pair, total) in pairCounts where total > 0 {
        if best == nil || precedes(pair, best!) { best = pair }
      }
      guard let best else { break }
      let left = Int(best >> 32), right = Int(best & 0xFFFF_FFFF)
      let merged = symbols.count
      symbols.append(symbols[left] + symbols[right])
      merges.append("\(symbols[left]) \(symbols[right])")
      for index in pairWords[best, default: []].sorted() {
        let word = words[index]
        guard word.count > 1 else { continue }
        for position in 0..<(word.count - 1) { pairCounts[key(word[position], word[position + 1])]! -= weights[index] }
        var next: [Int] = []
        next.reserveCapacity(word.count)
        var position = 0
        while position < word.count {
          if position + 1 < word.count, word[position] == left, word[position + 1] == right {
            next.append(merged)
            position += 2
          } else {
            next.append(word[position])
            position += 1
          }
        }
        for position in 0..<max(next.count - 1, 0) {
          let pair = key(next[position], next[position + 1])
          pairCounts[pair, default: 0] += weights[index]
          pairWords[pair, default: []].insert(index)
        }
        words[index] = next
      }
      pairCounts[best] = nil
      pairWords[best] = nil
    }
    return merges
  }
}
