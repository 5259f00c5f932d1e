import ArgumentParser
import Foundation
import MetaTX

extension Pooling: ExpressibleByArgument {}
extension Modality: ExpressibleByArgument {}

extension Metatx {
  struct Embed: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Run the encoder on an input and write its contextual tokens or pooled embedding.",
      discussion: """
        With --modality tokens, the input is a float32 .npy of token embeddings, [N, D] or \
        [B, N, D], with D the encoder's width. The output is a .npy: the tokens ([.., N, D]) \
        with --pool none, else one embedding per sequence.
        """)

    @OptionGroup var global: GlobalOptions

    @Option(help: "The input's modality (default: detected from the file name).")
    var modality: Modality?

    @Option(help: "A metatx model file (encoder and tokenizers).")
    var model: String?

    @Option(help: "Encoder instead of a model: a safetensors file (official Meta-Transformer layout) or random:PRESET (tiny, small, base, large).")
    var encoder: String?

    @Option(help: "Attention heads when the encoder file does not say (default: dim/64).")
    var heads: Int?

    @Option(help: "Pooling: \(Pooling.allCases.map(\.rawValue).joined(separator: ", ")).")
    var pool: Pooling = .mean

    @Option(name: .long, help: "Sequences per encoder pass (bounds memory).")
    var batchSize: Int = 32

    @Option(name: [.short, .long], help: "Output .npy file, or - for standard output.")
    var output: String = "-"

    @Argument(help: "Input file, or - for standard input.")
    var input: String

    func validate() throws {
      if let heads, heads < 1 { throw ValidationError("--heads must be at least 1, got \(heads)") }
      if model != nil && encoder != nil { throw ValidationError("give --model or --encoder, not both") }
      if batchSize < 1 { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
      if output == "-" && standardOutputIsTerminal {
        throw ValidationError("refusing to write binary .npy to a terminal; give -o FILE or redirect standard output")
      }
    }

    func run() throws {
      global.apply()
      let chosen = modality ?? Modality.detect(path: input) ?? (input == "-" ? .tokens : nil)
      guard let chosen else {
        throw ValidationError("cannot tell the modality of \(input) from its name; give --modality")
      }
      var rng = SeededRNG(seed: global.seed)
      let (model, tokenizer) = try loadModel(modality: chosen, rng: &rng)
      let embedded: NPYArray
      if let tokenizer {
        guard pool != .none else {
          throw ValidationError("--pool none is for --modality tokens; \(chosen.rawValue) inputs give pooled embeddings")
        }
        embedded = try FileEmbedding.embed(
          paths: [input], tokenizer: tokenizer, encoder: model, pooling: pool, filesPerPass: batchSize, rng: &rng)
      } else {
        embedded = try TokenEmbedding.embed(
          NPYArray.read(path: input), file: input, encoder: model, pooling: pool, batchSize: batchSize)
      }
      try embedded.write(to: output)
      global.detail("wrote \(embedded.shape) to \(output)")
    }

    /// The encoder, and the modality's tokenizer (nil for `tokens`): from the
    /// model file, or an encoder file / random preset with a freshly initialised
    /// tokenizer fitted to the input.
    private func loadModel(modality: Modality, rng: inout SeededRNG) throws -> (Encoder, AnyTokenizer?) {
      if let modelPath = self.model {
        let model = try Model.load(path: modelPath)
        global.detail("model \(modelPath): encoder \(model.encoder.config)")
        guard modality.tokenizerType == nil || model.tokenizers[modality] != nil else {
          throw ValidationError("\(modelPath) has no \(modality.rawValue) tokenizer")
        }
        return (model.encoder, model.tokenizers[modality])
      }
      guard let encoder else { throw ValidationError("give --model or --encoder") }
      let source = try EncoderSource(parsing: encoder)
      let loaded = try source.load(heads: heads, seed: global.seed)
      global.detail("encoder \(source): \(loaded.config)")
      let tokenizer = try modality.freshTokenizer(fittingTo: [input], dim: loaded.config.dim, rng: &rng)
      if tokenizer != nil {
        global.say("note: no --model given, so the \(modality.rawValue) tokenizer is untrained (seeded initialisation)")
      }
      return (loaded, tokenizer)
    }
  }
}
