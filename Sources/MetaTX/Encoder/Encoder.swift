import Kernels

/// The shared Meta-Transformer encoder: `depth` pre-norm ViT blocks over token
/// sequences `[B, N, D]`, with no cls token, positional embedding or final norm
/// (those belong to tokenizers and heads).
///
/// Activations live in a workspace allocated once per `(B, N)` and reused, so a
/// training loop allocates nothing per step. Not thread-safe: one encoder runs
/// one pass at a time (it parallelises internally).
public final class Encoder {
  public let config: EncoderConfig
  /// Parameters in the official Meta-Transformer key layout (`0.norm1.weight`, …).
  public let parameters: ParameterSet
  public let blocks: [TransformerBlock]
  private var workspace: Workspace?

  /// A freshly initialised encoder (timm ViT init), reproducible from `rng`.
  public convenience init(config: EncoderConfig, rng: inout SeededRNG) {
    self.init(config: config)
    for block in blocks { block.initialise(&rng) }
  }

  /// An encoder whose parameters are all zero (to be loaded from a file).
  public convenience init(config: EncoderConfig) {
    precondition(config.problem == nil, config.problem ?? "")
    self.init(config: config, parameters: ParameterSet(Encoder.specs(config)))
  }

  /// A second view of `other`: the same parameters and gradients, its own
  /// activations. Two inputs of a contrastive pair go through two such views
  /// of the one shared encoder, so both forward passes can be kept for
  /// backward; their parameter gradients add up in the shared buffers.
  public convenience init(sharingParametersWith other: Encoder) {
    self.init(config: other.config, parameters: other.parameters)
  }

  private init(config: EncoderConfig, parameters: ParameterSet) {
    self.config = config
    self.parameters = parameters
    blocks = (0..<config.depth).map { TransformerBlock(index: $0, config: config, parameters: parameters) }
  }

  public static func specs(_ config: EncoderConfig) -> [ParameterSpec] {
    (0..<config.depth).flatMap { TransformerBlock.specs(index: $0, config: config) }
  }

  /// Frozen encoders still backpropagate to their inputs (so a tokenizer can
  /// learn through them) but compute no parameter gradients.
  public var isFrozen: Bool {
    get { !parameters.isTrainable }
    set { parameters.isTrainable = !newValue }
  }

  /// Runs the encoder.
  ///
  /// - Parameters:
  ///   - input: `[B, N, D]` token embeddings.
  ///   - keyMask: `[B, N]`, 1 = real token, 0 = padding; every sequence needs
  ///     at least one real token.
  ///   - keepActivations: true to allow a following `backward`; false keeps only
  ///     two blocks' activations (inference at constant memory in depth).
  /// - Returns: `[B, N, D]` contextual tokens, valid until the next call.
  public func forward(
    _ input: UnsafePointer<Float>, batch: Int, tokens: Int, keyMask: UnsafePointer<Float>? = nil,
    keepActivations: Bool
  ) -> UnsafePointer<Float> {
    precondition(batch > 0 && tokens > 0, "encoder input must have a batch and tokens, got [\(batch), \(tokens)]")
    let workspace = self.workspace(batch: batch, tokens: tokens, keepActivations: keepActivations)
    workspace.input.data.update(from: input, count: workspace.input.count)
    if let keyMask {
      workspace.keyMask.data.update(from: keyMask, count: batch * tokens)
    }
    workspace.canBackward = keepActivations
    let mask = keyMask == nil ? nil : UnsafePointer(workspace.keyMask.data)
    var current = UnsafePointer(workspace.input.data)
    for (index, block) in blocks.enumerated() {
      let cache = workspace.activations[keepActivations ? index : index % 2]
      block.forward(cache: cache, input: current, keyMask: mask)
      current = UnsafePointer(cache.output.data)
    }
    return current
  }

  /// Convenience: `[B, N, D]` tensor in, a new `[B, N, D]` tensor out.
  public func forward(_ input: Tensor, keyMask: Tensor? = nil) -> Tensor {
    precondition(input.rank == 3 && input.shape[2] == config.dim,
      "encoder input \(input.shape) is not [batch, tokens, \(config.dim)]")
    let output = Tensor(shape: input.shape)
    keyMask.map { precondition($0.shape == Array(input.shape.prefix(2)), "mask \($0.shape) ≠ \(input.shape.prefix(2))") }
    let result = forward(
      input.data, batch: input.shape[0], tokens: input.shape[1], keyMask: keyMask?.data,
      keepActivations: false)
    output.data.update(from: result, count: output.count)
    return output
  }

  /// Backpropagates `dOutput` `[B, N, D]` through the last `forward` (which must
  /// have kept its activations). Parameter gradients are accumulated into
  /// `parameters.gradients` unless the encoder is frozen.
  ///
  /// - Returns: `[B, N, D]` the gradient w.r.t. the input, valid until the next call.
  public func backward(_ dOutput: UnsafePointer<Float>) -> UnsafePointer<Float> {
    guard let workspace, workspace.canBackward else {
      preconditionFailure("Encoder.backward needs a forward with keepActivations: true first")
    }
    let count = workspace.input.count
    workspace.gradientA.data.update(from: dOutput, count: count)
    var dCurrent = workspace.gradientA
    var dNext = workspace.gradientB
    for index in stride(from: blocks.count - 1, through: 0, by: -1) {
      let input = index == 0 ? workspace.input : workspace.activations[index - 1].output
      blocks[index].backward(
        dInput: dNext.data, dOutput: dCurrent.data, cache: workspace.activations[index],
        input: input.data, scratch: workspace.gradients,
        parameterGradients: parameters.isTrainable)
      swap(&dCurrent, &dNext)
    }
    return UnsafePointer(dCurrent.data)
  }

  private func workspace(batch: Int, tokens: Int, keepActivations: Bool) -> Workspace {
    let blocksNeeded = keepActivations ? config.depth : min(2, config.depth)
    if let existing = workspace, existing.batch == batch, existing.tokens == tokens,
      existing.activations.count >= blocksNeeded
    {
      return existing
    }
    let created = Workspace(config: config, batch: batch, tokens: tokens, blocks: blocksNeeded)
    workspace = created
    return created
  }

  /// Every buffer of a pass for one `(B, N)`.
  private final class Workspace {
    let batch: Int
    let tokens: Int
    /// `[B, N, D]` a copy of the input (the first block's backward needs it).
    let input: Tensor
    /// `[B, N]` the key-padding mask of the last forward.
    let keyMask: Tensor
    var canBackward = false
    let activations: [BlockActivations]
    let gradients: BlockGradients
    /// `[B, N, D]` ping-pong gradients of the residual stream.
    let gradientA: Tensor, gradientB: Tensor

    init(config: EncoderConfig, batch: Int, tokens: Int, blocks: Int) {
      self.batch = batch
      self.tokens = tokens
      input = Tensor(shape: [batch, tokens, config.dim])
      keyMask = Tensor(shape: [batch, tokens])
      activations = (0..<blocks).map { _ in BlockActivations(config: config, batch: batch, tokens: tokens) }
      gradients = BlockGradients(config: config, batch: batch, tokens: tokens)
      gradientA = Tensor(shape: [batch, tokens, config.dim])
      gradientB = Tensor(shape: [batch, tokens, config.dim])
    }
  }
}
