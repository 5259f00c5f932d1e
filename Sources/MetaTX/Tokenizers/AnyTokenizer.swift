import Kernels
import Readers

/// A decoded sample of whichever modality produced it; only the
/// `AnyTokenizer` that read it can tokenize it.
public struct AnySample {
  fileprivate let modality: Modality
  fileprivate let value: Any
}

/// A tokenizer of any modality behind one type, for code that picks the
/// modality at run time (the command line, model files, training loops that
/// decode every file once and tokenize its cached samples each epoch).
public final class AnyTokenizer {
  public let modality: Modality
  public let dim: Int
  public let parameters: ParameterSet
  /// The concrete tokenizer, for modality-specific extras (e.g. text pieces).
  public let base: AnyObject
  private let readSamples: (String) throws -> [AnySample]
  private let forwardSamples: ([AnySample], Bool, inout SeededRNG) -> TokenBatch
  private let sampleOfText: ((String) -> AnySample)?
  private let tokenizeFiles: ([String], Bool, inout SeededRNG) throws -> TokenBatch
  private let rawFeaturesOfFile: (String) throws -> [Tensor]
  private let backwardPass: (UnsafePointer<Float>) -> Void
  private let store: (inout SafeTensorsWriter, inout [String: String]) throws -> Void

  public init<T: Tokenizer>(_ tokenizer: T) {
    modality = T.modality
    dim = tokenizer.dim
    parameters = tokenizer.parameters
    base = tokenizer
    let modality = T.modality
    readSamples = { path in try tokenizer.read(path: path).map { AnySample(modality: modality, value: $0) } }
    forwardSamples = { samples, training, rng in
      // The cast cannot fail: samples come from `readSamples` of the same modality (checked).
      tokenizer.forward(samples.map { $0.value as! T.Sample }, training: training, rng: &rng)
    }
    if let text = tokenizer as? TextTokenizer {
      sampleOfText = { AnySample(modality: .text, value: text.sample($0)) }
    } else {
      sampleOfText = nil
    }
    tokenizeFiles = { paths, training, rng in try tokenizer.tokenize(paths: paths, training: training, rng: &rng) }
    rawFeaturesOfFile = { path in try tokenizer.read(path: path).map(tokenizer.rawFeatures) }
    backwardPass = { tokenizer.backward($0) }
    store = { writer, metadata in try tokenizer.add(to: &writer, metadata: &metadata) }
  }

  /// Reads the files and tokenizes all their samples as one batch.
  public func tokenize(paths: [String], training: Bool = false, rng: inout SeededRNG) throws -> TokenBatch {
    try tokenizeFiles(paths, training, &rng)
  }

  /// Decodes a file into its samples (one, or one per row/line).
  public func read(path: String) throws -> [AnySample] {
    try readSamples(path)
  }

  /// A sample of inline text; nil when this is not the text tokenizer.
  public func sample(text: String) -> AnySample? {
    sampleOfText?(text)
  }

  /// Tokens for samples this tokenizer's modality read.
  public func forward(_ samples: [AnySample], training: Bool, rng: inout SeededRNG) -> TokenBatch {
    precondition(samples.allSatisfy { $0.modality == modality }, "samples of another modality given to the \(modality) tokenizer")
    return forwardSamples(samples, training, &rng)
  }

  /// The pre-projection features `[N, P]` of each sample in the file.
  public func rawFeatures(path: String) throws -> [Tensor] {
    try rawFeaturesOfFile(path)
  }

  /// Accumulates parameter gradients from `dTokens` of the last tokenize.
  public func backward(_ dTokens: UnsafePointer<Float>) {
    backwardPass(dTokens)
  }

  /// Adds the tensors and configuration to a model file being written.
  public func add(to writer: inout SafeTensorsWriter, metadata: inout [String: String]) throws {
    try store(&writer, &metadata)
  }

  /// The tokenizer of `type` stored in `file`.
  public static func load<T: Tokenizer>(_ type: T.Type, from file: SafeTensorsFile) throws -> AnyTokenizer {
    AnyTokenizer(try T.load(from: file))
  }

  /// A freshly initialised tokenizer of `type` with its default configuration,
  /// fitted to `paths` where the modality needs it.
  public static func fresh<T: Tokenizer>(
    _ type: T.Type, fittingTo paths: [String], dim: Int, settings: TokenizerSettings? = nil, rng: inout SeededRNG
  ) throws -> AnyTokenizer {
    var configuration = try T.defaultConfiguration(fittingTo: paths)
    if let settings { configuration = try settings.apply(to: configuration, modality: T.modality) }
    let tokenizer = try T(configuration: configuration, dim: dim)
    var local = rng.derived("tokenizer.\(T.modality.rawValue)")
    tokenizer.initialise(&local)
    return AnyTokenizer(tokenizer)
  }
}
