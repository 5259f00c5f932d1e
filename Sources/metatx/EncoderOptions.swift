import ArgumentParser
import Foundation
import MetaTX

/// Which encoder (and tokenizers) a command runs: a metatx model file, an
/// encoder file or a random preset, else the built-in default model.
struct EncoderOptions: ParsableArguments {
  @Option(help: "A metatx model file (encoder and tokenizers) or a task file (its encoder and trained tokenizers); default: the built-in default model.")
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
    /// The file the encoder was read from (nil for a random one), for a task file to name it.
    var file: (path: String, prefix: String, isBuiltInDefault: Bool)?
  }

  /// Loads `--model`, `--encoder`, or the built-in default model.
  func load(seed: UInt64, global: GlobalOptions) throws -> Loaded {
    if let encoder {
      let source = try EncoderSource(parsing: encoder)
      let loaded = try source.load(heads: heads, seed: seed)
      global.detail("encoder \(source): \(loaded.config)")
      // Standard input cannot be read again to hash it: such an encoder is copied into task files.
      let file: String? = if case .file(let path) = source, path != AtomicFile.standardStream { path } else { nil }
      return Loaded(encoder: loaded, tokenizers: [:], sharedSpace: nil, source: encoder,
        file: file.map { (path: $0, prefix: "", isBuiltInDefault: false) })
    }
    guard let path = model ?? DefaultModel.locate() else { throw CommandFailure(DefaultModel.missingExplanation) }
    if TaskFile.isTaskFile(path: path) {
      let (task, _) = try TaskFile.load(path: path)
      global.detail("task \(path): encoder \(task.encoder.config), tokenizers \(task.inputs.map(\.rawValue))")
      let tokenizers = Dictionary(task.tokenizers.map { ($0.modality, $0) }, uniquingKeysWith: { first, _ in first })
      return Loaded(encoder: task.encoder, tokenizers: tokenizers, sharedSpace: nil, source: path, file: nil)
    }
    let loaded = try Model.load(path: path)
    global.detail("model \(path)\(model == nil ? " (built-in default)" : ""): encoder \(loaded.encoder.config)")
    return Loaded(encoder: loaded.encoder, tokenizers: loaded.tokenizers, sharedSpace: loaded.projections, source: path,
      file: (path: path, prefix: Model.encoderPrefix, isBuiltInDefault: model == nil))
  }
}
