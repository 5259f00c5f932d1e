import ArgumentParser
import Foundation
import MetaTX

extension Metatx {
  struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Turn files into token sequences and show (or write) them.",
      discussion: """
        Text: prints each input line's token ids and pieces, tab-separated (JSON lines with \
        --json). --train-bpe learns a byte-level BPE from a corpus and writes its merges \
        (-o MERGES.txt), which --bpe then uses instead of CLIP's vocabulary.

        Other modalities: prints one line per file: its samples, token count, token shape and padding. With \
        -o FILE.npy, writes the token embeddings of all samples as one [B, N, D] array \
        (and FILE.mask.npy when sequences are padded); with --raw, the pre-projection \
        features instead. Without --model, the modality's default configuration is fitted \
        to the given files and its learned part initialised from --seed.
        """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var tokenizerOptions: TokenizerOptions

    @Option(help: "The files' modality (default: detected from the first file name).")
    var modality: Modality?

    @Option(help: "A metatx model file whose tokenizer to use.")
    var model: String?

    @Option(help: "Token width when no model is given.")
    var dim: Int = 192

    @Option(name: [.short, .long], help: "Write the tokens (or --raw features) as .npy to this file, or - for stdout.")
    var output: String?

    @Flag(help: "Write the raw pre-projection features instead of token embeddings.")
    var raw = false

    @Flag(help: "Text: print JSON lines ({\"file\", \"line\", \"text\", \"ids\", \"pieces\"}).")
    var json = false

    @Option(name: .customLong("train-bpe"), help: "Text: learn a byte-level BPE from this corpus (repeatable).")
    var bpeCorpus: [String] = []

    @Option(help: "Text: the vocabulary size to learn with --train-bpe (at least 514).")
    var vocabSize: Int = 8192


    @Argument(help: "Input files, or - for standard input.")
    var files: [String] = []

    func validate() throws {
      if !bpeCorpus.isEmpty {
        if vocabSize < 514 { throw ValidationError("--vocab-size must be at least 514 (256 bytes × 2 + 2 special ids)") }
        if output == nil { throw ValidationError("--train-bpe needs -o MERGES.txt for the learned merges") }
        return
      }
      if files.isEmpty { throw ValidationError("give at least one input file") }
      if tokenizerOptions.bpe != nil && model != nil { throw ValidationError("--bpe and --model exclude each other") }
      if dim < 1 { throw ValidationError("--dim must be positive, got \(dim)") }
      if output == "-" && standardOutputIsTerminal {
        throw ValidationError("refusing to write binary .npy to a terminal; give -o FILE or redirect standard output")
      }
    }

    func run() throws {
      global.apply()
      if !bpeCorpus.isEmpty {
        try trainBPE()
        return
      }
      let chosen = modality ?? Modality.detect(path: files[0])
      guard let chosen else {
        throw CommandFailure("cannot tell the modality of \(files[0]) from its name; give --modality")
      }
      var rng = SeededRNG(seed: global.seed)
      let tokenizer: AnyTokenizer?
      if let model {
        let loaded = try Model.load(path: model)
        guard let stored = loaded.tokenizers[chosen] else {
          throw CommandFailure("\(model) has no \(chosen.rawValue) tokenizer")
        }
        tokenizer = stored
      } else {
        tokenizer = try chosen.freshTokenizer(fittingTo: files, dim: dim, settings: tokenizerOptions.parsed(), rng: &rng)
      }
      guard let tokenizer else {
        throw CommandFailure("\(chosen.rawValue) inputs are already token embeddings; use `metatx embed`")
      }
      if raw {
        try writeRawFeatures(tokenizer)
        return
      }
      if let text = tokenizer.base as? TextTokenizer, output == nil {
        try printTextTokens(text)
        return
      }
      var lines: [String] = []
      for file in files {
        let batch = try tokenizer.tokenize(paths: [file], rng: &rng)
        let padding = batch.mask.map { mask in mask.values.filter { $0 == 0 }.count } ?? 0
        lines.append("\(file)\tsamples \(batch.batch)\ttokens \(batch.count)\tshape [\(batch.count), \(batch.dim)]\tpadding \(padding)")
      }
      if output != "-" { print(lines.joined(separator: "\n")) }
      if let output {
        let all = try tokenizer.tokenize(paths: files, rng: &rng)
        try NPYArray(all.tokens).write(to: output)
        if let mask = all.mask, output != "-" {
          try NPYArray(mask).write(to: maskPath(for: output))
        }
      }
    }

    private func maskPath(for output: String) -> String {
      output.hasSuffix(".npy") ? String(output.dropLast(4)) + ".mask.npy" : output + ".mask.npy"
    }

    private func writeRawFeatures(_ tokenizer: AnyTokenizer) throws {
      let features = try files.flatMap { try tokenizer.rawFeatures(path: $0) }
      guard let first = features.first else { throw CommandFailure("the inputs hold no samples") }
      guard features.allSatisfy({ $0.shape == first.shape }) else {
        throw CommandFailure("raw features differ in shape between samples; give one file at a time")
      }
      let values = features.flatMap(\.values)
      let shape = features.count == 1 ? first.shape : [features.count] + first.shape
      guard let output else {
        print("raw features: \(features.count) sample(s) of shape \(first.shape)")
        return
      }
      try NPYArray(shape: shape, values: values).write(to: output)
    }

    private func printTextTokens(_ text: TextTokenizer) throws {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
      for file in files {
        for (index, sample) in try text.read(path: file).enumerated() {
          let pieces = text.pieces(sample.ids)
          if json {
            let line = TextTokenLine(file: file, line: index + 1, text: sample.text, ids: sample.ids, pieces: pieces)
            print(String(decoding: try encoder.encode(line), as: UTF8.self))
          } else {
            print(sample.ids.map(String.init).joined(separator: " ") + "\t" + pieces.joined(separator: " "))
          }
        }
      }
    }

    private func trainBPE() throws {
      let vocabulary = try BPETrainer.train(corpus: bpeCorpus, vocabularySize: vocabSize)
      try BPEMergesFile.write(vocabulary.merges, to: output!)
      global.say("learned \(vocabulary.merges.count) merges (\(vocabulary.count) ids) from \(bpeCorpus.count) file(s)")
    }
  }
}

/// One line of `metatx tokenize --json` for text.
private struct TextTokenLine: Encodable {
  var file: String
  var line: Int
  var text: String
  var ids: [Int]
  var pieces: [String]
}
