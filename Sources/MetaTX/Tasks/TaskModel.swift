import Kernels
import Readers

/// One training or evaluation example: a decoded sample per model input
/// (in the model's input order) and its target.
///
/// Targets: classification `[class index]`; multi-label a multi-hot vector
/// `[K]`; regression the values `[K]`.
public struct LabelledSample {
  public var inputs: [AnySample]
  public var target: [Float]
  public init(inputs: [AnySample], target: [Float]) {
    self.inputs = inputs
    self.target = target
  }
}

/// Tokenizers → shared encoder → pooling: one embedding per sample.
///
/// Several inputs (e.g. an image and its caption) are tokenized separately
/// and their sequences concatenated before the encoder, as in the paper's demo.
/// Used alone by `embed`, and under a head by `TaskModel`.
public final class SampleEncoder {
  public let inputs: [Modality]
  public let tokenizers: [AnyTokenizer]
  public let encoder: Encoder
  public let pooling: Pooling
  /// L2-normalise each pooled embedding (embedding output only; heads see raw pooled vectors).
  public var normalizesEmbeddings = false
  private var last: ForwardState?

  public init(tokenizers: [AnyTokenizer], encoder: Encoder, pooling: Pooling) {
    precondition(!tokenizers.isEmpty, "an encoder pipeline needs at least one input")
    precondition(tokenizers.allSatisfy { $0.dim == encoder.config.dim }, "tokenizer widths must equal the encoder's dim")
    precondition(pooling != .none, "pooled embeddings need a pooling other than none")
    inputs = tokenizers.map(\.modality)
    self.tokenizers = tokenizers
    self.encoder = encoder
    self.pooling = pooling
  }

  /// The width of one pooled embedding.
  public var embeddingWidth: Int { pooling.outputWidth(dim: encoder.config.dim) }

  /// Pooled embeddings `[B, W]` of a batch (no activations kept), L2-normalised
  /// when `normalizesEmbeddings`.
  public func embed(_ batch: [[AnySample]], rng: inout SeededRNG) -> Tensor {
    let pooled = encode(batch, training: false, keepActivations: false, rng: &rng).pooled
    if normalizesEmbeddings {
      let width = embeddingWidth
      for row in 0..<batch.count {
        let vector = pooled.data + row * width
        let norm = (0..<width).reduce(Float(0)) { $0 + vector[$1] * vector[$1] }.squareRoot()
        if norm > 0 { for c in 0..<width { vector[c] /= norm } }
      }
    }
    return pooled
  }

  /// Pooled embeddings `[B, W]`; with `keepActivations`, `backward` may follow.
  public func forward(_ batch: [[AnySample]], training: Bool, keepActivations: Bool, rng: inout SeededRNG) -> Tensor {
    let state = encode(batch, training: training, keepActivations: keepActivations, rng: &rng)
    last = state
    return state.pooled
  }

  /// Backpropagates `dPooled` `[B, W]` through pooling, the encoder (frozen or
  /// not) and the tokenizers of the last `forward` that kept activations.
  public func backward(_ dPooled: UnsafePointer<Float>) {
    guard let state = last, state.keptActivations else {
      preconditionFailure("SampleEncoder.backward needs a forward with keepActivations first")
    }
    let dim = encoder.config.dim
    let dTokens = Tensor(shape: [state.batch, state.count, dim])
    pooling.backward(dTokens: dTokens.data, dOutput: dPooled, tokens: state.encoded.data,
      keyMask: state.mask.data, batch: state.batch, count: state.count, dim: dim)
    let dInput = encoder.backward(dTokens.data)
    var offset = 0
    for (tokenizer, segment) in zip(tokenizers, state.segments) {
      // Each tokenizer's tokens are a contiguous slice [offset, offset + segment) of every sequence.
      let dSegment = Tensor(shape: [state.batch, segment, dim])
      for b in 0..<state.batch {
        (dSegment.data + b * segment * dim).update(from: dInput + (b * state.count + offset) * dim, count: segment * dim)
      }
      if tokenizer.parameters.isTrainable { tokenizer.backward(dSegment.data) }
      offset += segment
    }
  }

  private func encode(_ batch: [[AnySample]], training: Bool, keepActivations: Bool, rng: inout SeededRNG)
    -> ForwardState
  {
    precondition(batch.allSatisfy { $0.count == tokenizers.count }, "every sample needs \(tokenizers.count) input(s)")
    let parts = tokenizers.enumerated().map { index, tokenizer in
      tokenizer.forward(batch.map { $0[index] }, training: training, rng: &rng)
    }
    let b = batch.count, dim = encoder.config.dim
    let count = parts.reduce(0) { $0 + $1.count }
    let tokens = Tensor(shape: [b, count, dim])
    let mask = Tensor(shape: [b, count])
    var offset = 0
    for part in parts {
      for sequence in 0..<b {
        (tokens.data + (sequence * count + offset) * dim).update(
          from: part.tokens.data + sequence * part.count * dim, count: part.count * dim)
        for n in 0..<part.count {
          mask[sequence * count + offset + n] = part.mask.map { $0[sequence * part.count + n] } ?? 1
        }
      }
      offset += part.count
    }
    let encodedPointer = encoder.forward(tokens.data, batch: b, tokens: count, keyMask: mask.data,
      keepActivations: keepActivations)
    let encoded = Tensor(shape: [b, count, dim])
    encoded.data.update(from: encodedPointer, count: encoded.count)
    let pooled = Tensor(shape: [b, embeddingWidth])
    pooling.forward(output: pooled.data, tokens: encoded.data, keyMask: mask.data, batch: b, count: count, dim: dim)
    return ForwardState(batch: b, count: count, segments: parts.map(\.count), mask: mask, encoded: encoded,
      pooled: pooled, keptActivations: keepActivations)
  }

  /// What `backward` needs from the last `forward`.
  private struct ForwardState {
    let batch: Int
    let count: Int
    /// Token counts of each tokenizer's segment, in input order.
    let segments: [Int]
    /// `[B, N]` mask of the concatenated sequence.
    let mask: Tensor
    /// `[B, N, D]` encoder output.
    let encoded: Tensor
    /// `[B, W]` pooled embeddings.
    let pooled: Tensor
    let keptActivations: Bool
  }
}

/// Tokenizers → shared encoder → pooling → head: the model a task trains.
public final class TaskModel {
  public let kind: TaskKind
  /// Class names (classification, multi-label) or target names (regression).
  public let labels: [String]
  public let sampleEncoder: SampleEncoder
  public let head: TaskHead

  public init(
    kind: TaskKind, labels: [String], tokenizers: [AnyTokenizer], encoder: Encoder, pooling: Pooling,
    head: TaskHead
  ) {
    let sampleEncoder = SampleEncoder(tokenizers: tokenizers, encoder: encoder, pooling: pooling)
    precondition(head.inputWidth == sampleEncoder.embeddingWidth, "head width ≠ pooled width")
    self.kind = kind
    self.labels = labels
    self.sampleEncoder = sampleEncoder
    self.head = head
  }

  public var inputs: [Modality] { sampleEncoder.inputs }
  public var tokenizers: [AnyTokenizer] { sampleEncoder.tokenizers }
  public var encoder: Encoder { sampleEncoder.encoder }
  public var pooling: Pooling { sampleEncoder.pooling }
  public var embeddingWidth: Int { sampleEncoder.embeddingWidth }

  /// Every parameter set that can train, in a fixed order: tokenizers, encoder, head.
  public var parameterSets: [ParameterSet] { tokenizers.map(\.parameters) + [encoder.parameters, head.parameters] }

  /// Pooled embeddings `[B, W]` of a batch (no activations kept).
  public func embed(_ batch: [[AnySample]], rng: inout SeededRNG) -> Tensor {
    sampleEncoder.forward(batch, training: false, keepActivations: false, rng: &rng)
  }

  /// Head outputs `[B, K]` (logits or values). With `training`, tokenizers use
  /// their training randomness and everything needed for `backward` is kept.
  public func forward(_ batch: [[AnySample]], training: Bool, rng: inout SeededRNG) -> Tensor {
    let pooled = sampleEncoder.forward(batch, training: training, keepActivations: training, rng: &rng)
    return head.forward(pooled.data, batch: batch.count)
  }

  /// Backpropagates `dOutputs` `[B, K]` through the head and the sample
  /// encoder of the last training `forward`, accumulating into every
  /// trainable parameter set.
  public func backward(_ dOutputs: UnsafePointer<Float>) {
    let dPooled = head.backward(dOutputs)
    sampleEncoder.backward(dPooled.data)
  }
}
