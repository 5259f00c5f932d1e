import Foundation
import Kernels
import Readers

/// Token sequences ready for the shared encoder.
public struct TokenBatch {
  /// `[B, N, D]` token embeddings.
  public let tokens: Tensor
  /// `[B, N]`, 1 = real token, 0 = padding; nil when every token is real.
  public let mask: Tensor?

  public init(tokens: Tensor, mask: Tensor?) {
    precondition(tokens.rank == 3, "token batch must be [B, N, D], is \(tokens.shape)")
    if let mask { precondition(mask.shape == [tokens.shape[0], tokens.shape[1]], "mask \(mask.shape) ≠ [B, N]") }
    self.tokens = tokens
    self.mask = mask
  }

  public var batch: Int { tokens.shape[0] }
  public var count: Int { tokens.shape[1] }
  public var dim: Int { tokens.shape[2] }
}

/// A Data2Seq tokenizer: turns one modality's files into token sequences.
///
/// Two halves, kept apart on purpose:
/// - `read(path:)` decodes a file and applies the *fixed* preprocessing
///   (resampling, spectrograms, point sampling, normalisation with saved
///   statistics). It is deterministic and has no parameters.
/// - `forward`/`backward` are the *learned* part (projections, embeddings,
///   positions), a layer like any other: backward accumulates into
///   `parameters.gradients`.
///
/// Everything that decides how a file is tokenized lives in `configuration`,
/// which model files store, so the same file tokenizes the same way anywhere.
public protocol Tokenizer: AnyObject {
  /// One decoded, preprocessed input.
  associatedtype Sample
  /// Sizes, strides, statistics, vocabulary, schema: saved with the model.
  associatedtype Configuration: Codable & Equatable

  static var modality: Modality { get }
  var configuration: Configuration { get }
  /// The token width, the encoder's `dim`.
  var dim: Int { get }
  var parameters: ParameterSet { get }

  /// A tokenizer whose parameters are zero (to be loaded or initialised).
  init(configuration: Configuration, dim: Int) throws
  /// The configuration to use when no model names one: the documented
  /// defaults, fitted to `paths` where the modality needs statistics or a
  /// schema from data (e.g. a CSV's columns).
  static func defaultConfiguration(fittingTo paths: [String]) throws -> Configuration
  /// Seeded initialisation of the learned parameters.
  func initialise(_ rng: inout SeededRNG)

  /// Decodes and preprocesses the file at `path` (`-`: standard input) into
  /// its samples: one for an image or a clip, one per row or line for
  /// row-oriented files (CSV tables, spectra, text lines).
  /// Errors are `ReaderError`s naming the file and the problem.
  func read(path: String) throws -> [Sample]
  /// The pre-projection features of one sample, `[N, P]` (`metatx tokenize --raw`).
  func rawFeatures(_ sample: Sample) -> Tensor
  /// Tokens for a batch of samples. `training` enables training-only
  /// randomness (e.g. eigenvector sign flips), drawn from `rng`.
  func forward(_ samples: [Sample], training: Bool, rng: inout SeededRNG) -> TokenBatch
  /// Accumulates parameter gradients from `dTokens` `[B, N, D]`, the gradient
  /// w.r.t. the last `forward`'s tokens (a no-op when frozen).
  func backward(_ dTokens: UnsafePointer<Float>)
}

extension Tokenizer {
  /// The key prefix of this tokenizer's tensors and metadata in a model file.
  public static var storageKey: String { "tokenizer.\(modality.rawValue)" }

  /// Adds the parameters (`tokenizer.<modality>.<name>`) and the configuration
  /// (JSON under metadata key `tokenizer.<modality>`) to a model file being written.
  public func add(to writer: inout SafeTensorsWriter, metadata: inout [String: String]) throws {
    parameters.add(to: &writer, prefix: "\(Self.storageKey).")
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let json = try encoder.encode(TokenizerRecord(dim: dim, configuration: configuration))
    metadata[Self.storageKey] = String(decoding: json, as: UTF8.self)
  }

  /// Restores the tokenizer saved in `file` by `add(to:metadata:)`.
  public static func load(from file: SafeTensorsFile) throws -> Self {
    guard let json = file.metadata[storageKey] else {
      throw ReaderError(file: file.file, "the model has no \(modality.rawValue) tokenizer")
    }
    let record: TokenizerRecord<Configuration>
    do {
      record = try JSONDecoder().decode(TokenizerRecord<Configuration>.self, from: Data(json.utf8))
    } catch {
      throw ReaderError(file: file.file, "the \(modality.rawValue) tokenizer's configuration is unreadable: \(error)")
    }
    let tokenizer = try Self(configuration: record.configuration, dim: record.dim)
    try tokenizer.parameters.load(from: file, prefix: "\(storageKey).")
    return tokenizer
  }

  /// Reads every path and tokenizes all their samples as one batch.
  public func tokenize(paths: [String], training: Bool = false, rng: inout SeededRNG) throws -> TokenBatch {
    try forward(paths.flatMap(read(path:)), training: training, rng: &rng)
  }
}

/// What a model file stores about one tokenizer besides its tensors.
struct TokenizerRecord<Configuration: Codable>: Codable {
  var dim: Int
  var configuration: Configuration
}
