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

    @Option(help: "Encoder: a safetensors file (official Meta-Transformer layout) or random:PRESET (tiny, small, base, large).")
    var encoder: String

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
      let source = try EncoderSource(parsing: encoder)
      let model = try source.load(heads: heads, seed: global.seed)
      global.detail("encoder \(source): \(model.config)")
      switch chosen {
      case .tokens:
        let tokens = try NPYArray.read(path: input)
        let embedded = try TokenEmbedding.embed(
          tokens, file: input, encoder: model, pooling: pool, batchSize: batchSize)
        try embedded.write(to: output)
        global.detail("wrote \(embedded.shape) to \(output)")
      case .text:
        throw ValidationError("embed does not take text yet")
      }
    }
  }
}
