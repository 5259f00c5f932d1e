import ArgumentParser
import Foundation
import MetaTX

/// Which encoder (and tokenizers) a command runs: a metatx model file, an
/// encoder file or a random preset, else the built-in default model.
struct EncoderOptions: ParsableArguments {
  @Option(help: "A metatx model file (encoder and tokenizers); default: the built-in default model.")
  var model: String?

  @Option(help: "Encoder instead of a model: a safetensors file (official Meta-Transformer layout) or random:PRESET (tiny, small, base, large).")
  var encoder: String?

  @Option(help: "Attention heads when the encoder file does not say (default: dim/64).")
  var heads: Int?

  func validate() throws {
    if model != nil && encoder != nil { throw ValidationError("give --model or --encoder, not both") }
    if let heads, heads < 1 { throw ValidationError("--heads must be at least 1, got \(heads)") }
  }

  /// What was loaded: the encoder, the model's tokenizers (none for an
  /// encoder file), its shared space if pretrained, and where it came from.
  struct Loaded {
    var encoder: Encoder
    var tokenizers: [Modality: AnyTokenizer]
    var sharedSpace: (projections: ContrastiveProjections, pooling: Pooling)?
    var source: String
  }

  /// Loads `--model`, `--encoder`, or the built-in default model.
  func load(seed: UInt64, global: GlobalOptions) throws -> Loaded {
    if let encoder {
      let source = try EncoderSource(parsing: encoder)
      let loaded = try source.load(heads: heads, seed: seed)
      global.detail("encoder \(source): \(loaded.config)")
      return Loaded(encoder: loaded, tokenizers: [:], sharedSpace: nil, source: encoder)
    }
    guard let path = model ?? DefaultModel.locate() else { throw CommandFailure(DefaultModel.missingExplanation) }
    let loaded = try Model.load(path: path)
    global.detail("model \(path)\(model == nil ? " (built-in default)" : ""): encoder \(loaded.encoder.config)")
    return Loaded(encoder: loaded.encoder, tokenizers: loaded.tokenizers, sharedSpace: loaded.projections, source: path)
  }
}
