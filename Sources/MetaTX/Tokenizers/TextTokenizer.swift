import Foundation
import Kernels
import Readers

extension BPEVocabulary {
  /// The number of merges CLIP uses from its merges file (open_clip:
  /// `merges[1:49152-256-2+1]`, the first line being a version header).
  public static let clipMergeCount = 49152 - 256 - 2

  /// CLIP's vocabulary (`bpe_simple_vocab_16e6.txt.gz`, embedded in the
  /// library), decoded once on first use: 49,408 ids.
  public static let clip: BPEVocabulary = {
    do {
      guard let gzip = Data(base64Encoded: clipMergesGzipBase64, options: .ignoreUnknownCharacters) else {
        throw ReaderError(file: "bpe_simple_vocab_16e6.txt.gz", "the embedded base64 does not decode")
      }
      let text = String(decoding: try Gzip.decompress(gzip, file: "bpe_simple_vocab_16e6.txt.gz"), as: UTF8.self)
      let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
      return try BPEVocabulary(merges: Array(lines[1...clipMergeCount]), source: "bpe_simple_vocab_16e6.txt.gz")
    } catch {
      preconditionFailure("the CLIP vocabulary built into metatx is damaged: \(error)")
    }
  }()
}

/// One line of text, tokenized: `[start] + BPE ids + [end]`, at most the
/// context length (longer text is cut and its last id replaced by the end id).
public struct TextSample: Equatable {
  /// The line as read (before cleaning).
  public let text: String
  /// The ids, start and end included, without padding.
  public let ids: [Int]
}

/// Text → token sequences: CLIP's tokenizer (byte-level BPE, same ids as
/// open_clip's `tokenize`) or a BPE learned by `BPETrainer`, then a learned
/// token embedding plus learned positions (as CLIP's text tower starts).
///
/// Token layout for a batch: `[B, N, D]` with `N` the longest sample's id
/// count (≤ `contextLength`); sequence `b` holds, at `n < count_b`,
/// `embedding[ids_b[n]] + positions[n]`, starting with the start-of-text token
/// (which plays the part of a cls token) and ending with the end-of-text
/// token; positions `n ≥ count_b` are zero and masked out (`TokenBatch.mask`
/// 0 there, 1 elsewhere; no mask when every sample has length N).
public final class TextTokenizer: Tokenizer {
  public struct Configuration: Codable, Equatable {
    /// Which BPE vocabulary turns text into ids.
    public enum Vocabulary: Codable, Equatable {
      /// CLIP's (`bpe_simple_vocab_16e6.txt.gz`), built in: 49,408 ids.
      case clip
      /// A vocabulary learned by `BPETrainer`: its merges (`"left right"`,
      /// in rank order), giving 514 + merges ids.
      case trained(merges: [String])
    }

    /// Default: CLIP's.
    public var vocabulary: Vocabulary
    /// The most ids per sample, start and end included (CLIP: 77).
    public var contextLength: Int
    /// Whether text is lower-cased after cleaning (CLIP: yes; its vocabulary has no capitals).
    public var lowercase: Bool

    public init(vocabulary: Vocabulary = .clip, contextLength: Int = 77, lowercase: Bool = true) {
      self.vocabulary = vocabulary
      self.contextLength = contextLength
      self.lowercase = lowercase
    }
  }

  public static let modality = Modality.text
  public let configuration: Configuration
  public let dim: Int
  public let parameters: ParameterSet
  public let vocabulary: BPEVocabulary
  /// `text.embedding` `[vocabulary, D]`.
  public let embedding: EmbeddingTable
  /// `text.positions` `[contextLength, D]`.
  public let positions: LearnedPositions
  /// The last forward's ids per sample, which backward needs.
  private var lastIDs: [[Int]] = []
  private var lastCount = 0

  public init(configuration: Configuration, dim: Int) throws {
    guard configuration.contextLength >= 2 else {
      throw ReaderError(file: "text tokenizer", "context length \(configuration.contextLength) leaves no room for start and end ids")
    }
    precondition(dim > 0, "token width must be positive")
    switch configuration.vocabulary {
    case .clip: vocabulary = .clip
    case .trained(let merges): vocabulary = try BPEVocabulary(merges: merges, source: "text tokenizer vocabulary")
    }
    self.configuration = configuration
    self.dim = dim
    parameters = ParameterSet(
      EmbeddingTable.specs("text.embedding", vocabulary: vocabulary.count, dim: dim)
        + LearnedPositions.specs("text.positions", tokens: configuration.contextLength, dim: dim))
    embedding = EmbeddingTable(weight: parameters.view("text.embedding"))
    positions = LearnedPositions(table: parameters.view("text.positions"))
  }

  /// CLIP's vocabulary, context 77, lower-cased: text needs no statistics from
  /// data (a vocabulary of one's own comes from `BPETrainer`).
  public static func defaultConfiguration(fittingTo paths: [String]) throws -> Configuration { Configuration() }

  /// Embeddings N(0, 0.02) as CLIP's `token_embedding`; positions truncated N(0, 0.02).
  public func initialise(_ rng: inout SeededRNG) {
    embedding.initialise(&rng)
    positions.initialise(&rng)
  }

  // MARK: Fixed preprocessing: text → ids

  /// One sample per non-empty line of the UTF-8 file at `path` (`-`: stdin).
  public func read(path: String) throws -> [TextSample] {
    try TextLines.read(path: path).map(sample(_:))
  }

  /// The sample of one piece of text.
  public func sample(_ text: String) -> TextSample {
    var ids = [vocabulary.startID] + encode(text) + [vocabulary.endID]
    if ids.count > configuration.contextLength {
      ids.removeLast(ids.count - configuration.contextLength)
      ids[ids.count - 1] = vocabulary.endID
    }
    return TextSample(text: text, ids: ids)
  }

  /// The BPE ids of `text` after cleaning, without start/end ids or truncation
  /// (open_clip `SimpleTokenizer.encode`).
  public func encode(_ text: String) -> [Int] {
    vocabulary.encode(cleaned: TextCleaning.clean(text, lowercase: configuration.lowercase))
  }

  /// Exactly one row of open_clip's `tokenize(text)`: start, ids, end, cut to
  /// the context length keeping the end id, padded with 0.
  public func contextIDs(_ text: String) -> [Int] {
    let ids = sample(text).ids
    return ids + [Int](repeating: 0, count: configuration.contextLength - ids.count)
  }

  /// The vocabulary symbol of each id, in the byte-character spelling, with
  /// `</w>` marking word ends (e.g. "photo</w>").
  public func pieces(_ ids: [Int]) -> [String] { ids.map { vocabulary.symbols[$0] } }

  /// The text of `ids` (open_clip `decode`); words end with a space.
  public func decode(_ ids: [Int]) -> String { vocabulary.decode(ids) }

  /// The ids as a `[N, 1]` column.
  public func rawFeatures(_ sample: TextSample) -> Tensor {
    Tensor(shape: [sample.ids.count, 1], values: sample.ids.map(Float.init))
  }

  // MARK: Learned part: ids → tokens

  /// Samples → tokens `[B, N, D]` and mask `[B, N]` (see the type's layout).
  public func forward(_ samples: [TextSample], training: Bool, rng: inout SeededRNG) -> TokenBatch {
    let batch = samples.count
    let count = samples.map(\.ids.count).max() ?? 0
    let tokens = Tensor(shape: [batch, count, dim])
    for (b, sample) in samples.enumerated() {
      let rows = tokens.data + b * count * dim
      embedding.forward(output: rows, ids: sample.ids)
      Linalg.axpy(count: sample.ids.count * dim, alpha: 1, x: positions.table.value, y: rows)
    }
    lastIDs = samples.map(\.ids)
    lastCount = count
    guard samples.contains(where: { $0.ids.count < count }) else { return TokenBatch(tokens: tokens, mask: nil) }
    let mask = Tensor(shape: [batch, count])
    for (b, sample) in samples.enumerated() {
      for n in 0..<sample.ids.count { mask[b * count + n] = 1 }
    }
    return TokenBatch(tokens: tokens, mask: mask)
  }

  /// Accumulates the embedding and position gradients from `dTokens`
  /// `[B, N, D]`; padding positions (zero in forward) get none.
  public func backward(_ dTokens: UnsafePointer<Float>) {
    guard parameters.isTrainable else { return }
    for (b, ids) in lastIDs.enumerated() {
      let rows = dTokens + b * lastCount * dim
      embedding.backward(dOutput: rows, ids: ids)
      Linalg.axpy(count: ids.count * dim, alpha: 1, x: rows, y: positions.table.gradient)
    }
  }
}
