import Foundation
import Kernels
import MetaTX
import Readers
import TestSupport
import XCTest

/// The text tokenizer: CLIP parity with open_clip, the BPE trainer, the
/// cleaning rules, shapes and mask, gradients, save/load, bad files.
final class TextTokenizerTests: XCTestCase {
  /// Sennrich et al.'s example corpus: low ×5, lower ×2, newest ×6, widest ×3.
  private let tinyCorpus = [
    "low low low low low", "lower lower", "newest newest newest", "newest newest newest", "widest widest widest",
  ]

  private func temporaryFile(_ name: String, _ contents: Data) throws -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("text-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
    let url = folder.appendingPathComponent(name)
    try contents.write(to: url)
    return url.path
  }

  // MARK: CLIP

  func testCLIPKnownAnswer() throws {
    let tokenizer = try TextTokenizer(configuration: .init(), dim: 4)
    XCTAssertEqual(tokenizer.vocabulary.count, 49408)
    XCTAssertEqual(tokenizer.sample("a photo of a cat").ids, [49406, 320, 1125, 539, 320, 2368, 49407])
    XCTAssertEqual(tokenizer.pieces([320, 1125, 2368]), ["a</w>", "photo</w>", "cat</w>"])
    XCTAssertEqual(tokenizer.decode([320, 1125, 539, 320, 2368]), "a photo of a cat ")
    let row = tokenizer.contextIDs("a photo of a cat")
    XCTAssertEqual(row.count, 77)
    XCTAssertEqual(Array(row[7...]), [Int](repeating: 0, count: 70))
  }

  /// Every row of `open_clip.tokenizer.tokenize` in the fixture
  /// (`Scripts/reference/make_text_fixtures.py`: punctuation, numbers,
  /// contractions, accents, scripts, emoji, HTML entities, ligatures,
  /// full-width forms, control characters, text over 77 tokens, fortunes,
  /// and 300 seeded random strings across scripts and symbols).
  func testIdsEqualOpenCLIP() throws {
    let fixture = try openFixture("text_clip.safetensors")
    let sentences = try JSONDecoder().decode([String].self, from: Data(fixture.metadata["sentences"]!.utf8))
    // Sentences whose cleaning relies on ftfy's mojibake repair, which TextCleaning does not
    // reimplement, are excluded: "doesnÃ¢â‚¬â„¢t" (→ "doesn't") and two random strings that ftfy
    // reads as mis-decoded text.
    let mojibake = Set(try JSONDecoder().decode([Int].self, from: Data(fixture.metadata["ftfy_mojibake"]!.utf8)))
    XCTAssertEqual(mojibake.count, 3)
    let expected = try fixture.floats("ids").map { Int($0) }
    XCTAssertEqual(expected.count, sentences.count * 77)
    let tokenizer = try TextTokenizer(configuration: .init(), dim: 4)
    for (index, sentence) in sentences.enumerated() where !mojibake.contains(index) {
      XCTAssertEqual(tokenizer.contextIDs(sentence), Array(expected[(index * 77)..<(index * 77 + 77)]), "sentence \(index): \(sentence)")
    }
  }

  func testTruncationKeepsTheEndID() throws {
    let tokenizer = try TextTokenizer(configuration: .init(contextLength: 5), dim: 4)
    XCTAssertEqual(tokenizer.sample("a photo of a cat").ids, [49406, 320, 1125, 539, 49407])
    XCTAssertEqual(tokenizer.sample("").ids, [49406, 49407])
    XCTAssertThrowsError(try TextTokenizer(configuration: .init(contextLength: 1), dim: 4))
  }

  // MARK: Cleaning and pre-tokenisation (fixed preprocessing)

  func testCleaningKnownAnswers() {
    XCTAssertEqual(TextCleaning.clean("  Hello\t\n  WORLD  ", lowercase: true), "hello world")
    XCTAssertEqual(TextCleaning.clean("  Hello\t\n  WORLD  ", lowercase: false), "Hello WORLD")
    XCTAssertEqual(TextCleaning.fixText("“curly” ‘quotes’ ﬁne ＦＵＬＬ\u{3000}x\u{7}"), "\"curly\" 'quotes' fine FULL x")
    XCTAssertEqual(TextCleaning.fixText("e\u{301}"), "é")  // NFC
    XCTAssertEqual(TextCleaning.fixText("\u{1B}[31mred\u{1B}[0m \u{92}s"), "red 's")
    XCTAssertEqual(TextCleaning.unescapeHTML("&lt;b&gt; &amp;amp; &#39;x&#x27; caf&eacute; &unknown; AT&T"), "<b> &amp; 'x' café &unknown; AT&T")
    XCTAssertEqual(TextCleaning.clean("&amp;amp;", lowercase: true), "&")
    XCTAssertEqual(TextCleaning.lowercased("ΣΊΣΥΦΟΣ ΟΔΟΣ. Σ"), "σίσυφος οδος. σ")
    XCTAssertEqual(TextCleaning.lowercased("İSTANBUL"), "i\u{307}stanbul")
  }

  func testPreTokenizerFollowsCLIPPattern() {
    XCTAssertEqual(
      TextPreTokenizer.split("it's 42 cafe\u{301}s!?<end_of_text>x'll 'RE"),
      ["it", "'s", "4", "2", "cafe", "\u{301}", "s", "!?<", "end", "_", "of", "_", "text", ">", "x", "'ll", "'RE"])
    XCTAssertEqual(TextPreTokenizer.split("<end_of_text>a<START_OF_TEXT>"), ["<end_of_text>", "a", "<START_OF_TEXT>"])
    XCTAssertEqual(TextPreTokenizer.split("  \t "), [])
  }

  // MARK: Trained BPE

  func testTrainerLearnsTheExpectedFirstMerges() throws {
    let vocabulary = try BPETrainer.train(lines: tinyCorpus, vocabularySize: 514 + 7)
    // Counts: (e,s) 9 and (s,t</w>) 9 tie → "e" < "s"; then es+t</w> 9, l+o 7; at 6, (e,w) < (n,e) < (w,est</w>)
    // by left symbol; then ew+est</w> 6 (before n+ew), n+ewest</w> 6, lo+w</w> 5.
    XCTAssertEqual(vocabulary.merges, ["e s", "es t</w>", "l o", "e w", "ew est</w>", "n ewest</w>", "lo w</w>"])
    XCTAssertEqual(vocabulary.count, 521)
    let ids = vocabulary.encode(cleaned: "lowest newest")
    XCTAssertEqual(ids.map { vocabulary.symbols[$0] }, ["lo", "w", "est</w>", "newest</w>"])
    XCTAssertEqual(vocabulary.decode(ids), "lowest newest ")
  }

  func testTrainerIsDeterministicAndRoundTrips() throws {
    let lines = ["Ünïcödé text, emoji 🐱 and numbers 123!", "The quick brown fox jumps over the lazy dog."] + tinyCorpus
    let first = try BPETrainer.train(lines: lines, vocabularySize: 560, lowercase: false)
    let second = try BPETrainer.train(lines: lines.reversed(), vocabularySize: 560, lowercase: false)
    XCTAssertEqual(first.merges, second.merges)
    XCTAssertEqual(first.merges.count, 560 - 514)
    let tokenizer = try TextTokenizer(configuration: .init(vocabulary: .trained(merges: first.merges), lowercase: false), dim: 4)
    for line in lines + ["unseen Wörds 🐶 4567"] {
      let ids = tokenizer.encode(line)
      XCTAssertEqual(tokenizer.decode(ids), TextPreTokenizer.split(TextCleaning.clean(line, lowercase: false)).map { $0 + " " }.joined())
    }
    // The corpus runs out of pairs long before 100,000 ids.
    XCTAssertLessThan(try BPETrainer.train(lines: tinyCorpus, vocabularySize: 100_000).count, 100_000)
  }

  /// The trainer's plain twin: recount every pair of every word before each
  /// merge (no incremental bookkeeping), same tie rule; both must agree.
  private func plainMerges(_ lines: [String], count: Int) -> [String] {
    var words: [[String]: Int] = [:]
    for line in lines {
      for piece in TextPreTokenizer.split(TextCleaning.clean(line, lowercase: true)) {
        var symbols = piece.utf8.map { String(ByteSymbols.character[Int($0)]) }
        symbols[symbols.count - 1] += BPEVocabulary.wordEnd
        words[symbols, default: 0] += 1
      }
    }
    var merges: [String] = []
    while merges.count < count {
      var counts: [[String]: Int] = [:]
      for (word, weight) in words where word.count > 1 {
        for position in 0..<(word.count - 1) { counts[[word[position], word[position + 1]], default: 0] += weight }
      }
      let scalars = { (pair: [String]) in pair.map { Array($0.unicodeScalars.map(\.value)) } }
      guard let best = counts.min(by: { a, b in
        a.value != b.value ? a.value > b.value : scalars(a.key).lexicographicallyPrecedes(scalars(b.key)) { $0.lexicographicallyPrecedes($1) }
      })?.key else { break }
      merges.append("\(best[0]) \(best[1])")
      var merged: [[String]: Int] = [:]
      for (word, weight) in words {
        var next: [String] = []
        var position = 0
        while position < word.count {
          if position + 1 < word.count, word[position] == best[0], word[position + 1] == best[1] {
            next.append(best[0] + best[1])
            position += 2
          } else {
            next.append(word[position])
            position += 1
          }
        }
        merged[next, default: 0] += weight
      }
      words = merged
    }
    return merges
  }

  func testTrainerAgreesWithItsPlainTwin() throws {
    var rng = SeededRNG(seed: 9)
    let alphabet = Array("aabcdeeefghiilmnooprssttuy éß'")
    let lines = (0..<60).map { _ in String((0..<40).map { _ in alphabet[Int(rng.uniform(0, Float(alphabet.count))) % alphabet.count] }) }
    let trained = try BPETrainer.train(lines: lines, vocabularySize: 514 + 150)
    XCTAssertEqual(trained.merges, plainMerges(lines, count: 150))
  }

  func testTrainFromCorpusFilesAndBadFiles() throws {
    let corpus = try temporaryFile("corpus.txt", Data(tinyCorpus.joined(separator: "\n").utf8))
    XCTAssertEqual(try BPETrainer.train(corpus: [corpus], vocabularySize: 517).merges, ["e s", "es t</w>", "l o"])
    let invalid = try temporaryFile("invalid.txt", Data([0x61, 0x0A, 0xFF, 0xFE]))
    XCTAssertThrowsError(try BPETrainer.train(corpus: [corpus, invalid], vocabularySize: 517)) {
      XCTAssertEqual(($0 as? ReaderError)?.file, invalid)
    }
    XCTAssertThrowsError(try BPEVocabulary(merges: ["e s", "x yz"], source: "v")) {
      XCTAssertEqual(($0 as? ReaderError)?.description, "v: merge 2 \"x yz\" is not two known symbols separated by one space")
    }
  }

  // MARK: Tokenizer

  func testReadShapesMaskAndDeterminism() throws {
    let path = try temporaryFile("captions.txt", Data("a photo of a cat\n\na diagram of a very small dog\r\n".utf8))
    let tokenizer = try TextTokenizer(configuration: .init(), dim: 8)
    var rng = SeededRNG(seed: 3)
    tokenizer.initialise(&rng)
    let samples = try tokenizer.read(path: path)
    XCTAssertEqual(samples.map(\.ids.count), [7, 9])
    XCTAssertEqual(tokenizer.rawFeatures(samples[0]).shape, [7, 1])
    let batch = tokenizer.forward(samples, training: false, rng: &rng)
    XCTAssertEqual(batch.tokens.shape, [2, 9, 8])
    XCTAssertEqual(batch.mask?.values, [1, 1, 1, 1, 1, 1, 1, 0, 0] + [Float](repeating: 1, count: 9))
    // Padding is zero; a real token is its embedding plus its position.
    XCTAssertEqual(Array(batch.tokens.values[(7 * 8)..<(9 * 8)]), [Float](repeating: 0, count: 16))
    let cat = 2368
    for c in 0..<8 {
      XCTAssertEqual(batch.tokens[5 * 8 + c], tokenizer.embedding.weight.value[cat * 8 + c] + tokenizer.positions.table.value[5 * 8 + c])
    }
    let again = try tokenizer.tokenize(paths: [path], rng: &rng)
    XCTAssertEqual(again.tokens.values, batch.tokens.values)
    XCTAssertNil(tokenizer.forward([samples[0], samples[0]], training: false, rng: &rng).mask)
    XCTAssertEqual(Modality.detect(path: "notes.TXT"), .text)
  }

  func testBadFilesAreReaderErrors() throws {
    let tokenizer = try TextTokenizer(configuration: .init(), dim: 4)
    let invalid = try temporaryFile("invalid.txt", Data([0x61, 0x62, 0x0A, 0x63, 0x80, 0x0A]))
    XCTAssertThrowsError(try tokenizer.read(path: invalid)) {
      XCTAssertEqual(($0 as? ReaderError)?.description, "\(invalid): line 2 is not valid UTF-8 (bad byte at offset 4)")
    }
    let empty = try temporaryFile("empty.txt", Data())
    XCTAssertThrowsError(try tokenizer.read(path: empty)) {
      XCTAssertEqual(($0 as? ReaderError)?.description, "\(empty): holds no text (no non-empty line)")
    }
  }

  func testGradientOfEmbeddingAndPositions() throws {
    let merges = try BPETrainer.train(lines: tinyCorpus, vocabularySize: 521).merges
    let tokenizer = try TextTokenizer(configuration: .init(vocabulary: .trained(merges: merges), contextLength: 6), dim: 3)
    var rng = SeededRNG(seed: 11)
    rng.fillUniform(tokenizer.parameters.values, -0.5, 0.5)
    // Lengths 6 (cut to the context), 4 and 2: padding in two sequences; "low" repeats an id.
    let samples = ["low lower newest widest", "low low", ""].map(tokenizer.sample)
    XCTAssertEqual(samples.map(\.ids.count), [6, 4, 2])
    let dy = randomTensor([3, 6, 3], seed: 12)
    let loss = { () -> Double in
      var unused = SeededRNG(seed: 0)
      let tokens = tokenizer.forward(samples, training: false, rng: &unused).tokens
      return weightedSum(tokens.data, dy.data, count: tokens.count)
    }
    _ = loss()
    tokenizer.parameters.zeroGradients()
    tokenizer.backward(dy.data)
    let used = Set(samples.flatMap(\.ids))
    let embedding = tokenizer.parameters.entry("text.embedding")!, positions = tokenizer.parameters.entry("text.positions")!
    let indices = used.sorted().flatMap { id in (0..<3).map { embedding.offset + id * 3 + $0 } }
      + (positions.offset..<(positions.offset + positions.count)) + [embedding.offset + 100 * 3]
    let check = checkGradient(
      values: tokenizer.parameters.values.data, analytic: tokenizer.parameters.gradients.values, indices: indices, loss: loss)
    XCTAssertLessThan(check.worstError, 2e-2, "\(check)")
    tokenizer.parameters.isTrainable = false
    tokenizer.parameters.zeroGradients()
    tokenizer.backward(dy.data)
    XCTAssertTrue(tokenizer.parameters.gradients.values.allSatisfy { $0 == 0 })
  }

  func testSaveAndLoadGiveIdenticalTokens() throws {
    let merges = try BPETrainer.train(lines: tinyCorpus, vocabularySize: 530).merges
    let configuration = TextTokenizer.Configuration(vocabulary: .trained(merges: merges), contextLength: 12, lowercase: false)
    let tokenizer = try TextTokenizer(configuration: configuration, dim: 5)
    var rng = SeededRNG(seed: 5)
    tokenizer.initialise(&rng)
    var writer = SafeTensorsWriter()
    var metadata: [String: String] = [:]
    try tokenizer.add(to: &writer, metadata: &metadata)
    let model = try temporaryFile("model.safetensors", Data())
    try writer.write(to: model, metadata: metadata)
    let loaded = try TextTokenizer.load(from: SafeTensorsFile(path: model))
    XCTAssertEqual(loaded.configuration, configuration)
    XCTAssertEqual(loaded.dim, 5)
    let text = try temporaryFile("in.txt", Data("Lowest NEWEST widest\nlow\n".utf8))
    XCTAssertEqual(try loaded.read(path: text), try tokenizer.read(path: text))
    XCTAssertEqual(try loaded.tokenize(paths: [text], rng: &rng).tokens.values, try tokenizer.tokenize(paths: [text], rng: &rng).tokens.values)
    // CLIP's configuration stores no merges: it names the built-in vocabulary.
    let clip = try TextTokenizer(configuration: .init(), dim: 2)
    var clipWriter = SafeTensorsWriter()
    var clipMetadata: [String: String] = [:]
    try clip.add(to: &clipWriter, metadata: &clipMetadata)
    XCTAssertLessThan(clipMetadata["tokenizer.text"]!.count, 200)
  }
}
