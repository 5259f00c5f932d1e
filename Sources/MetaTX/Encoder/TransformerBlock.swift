import Kernels

/// One pre-norm ViT block (timm `Block`), the unit of the shared encoder:
/// `x = x + proj(attn(norm1(x)))`, then `x = x + fc2(gelu(fc1(norm2(x))))`.
public struct TransformerBlock {
  public let norm1: LayerNorm
  public let attention: Attention
  public let norm2: LayerNorm
  public let fc1: Linear
  public let fc2: Linear

  /// Parameter names of block `index` in the official Meta-Transformer layout.
  public static func specs(index: Int, config: EncoderConfig) -> [ParameterSpec] {
    let prefix = "\(index)"
    return LayerNorm.specs("\(prefix).norm1", channels: config.dim)
      + Attention.specs("\(prefix).attn", dim: config.dim)
      + LayerNorm.specs("\(prefix).norm2", channels: config.dim)
      + Linear.specs("\(prefix).mlp.fc1", inputs: config.dim, outputs: config.mlpHidden)
      + Linear.specs("\(prefix).mlp.fc2", inputs: config.mlpHidden, outputs: config.dim)
  }

  public init(index: Int, config: EncoderConfig, parameters: ParameterSet) {
    let prefix = "\(index)"
    func view(_ name: String) -> ParameterView { parameters.view("\(prefix).\(name)") }
    norm1 = LayerNorm(weight: view("norm1.weight"), bias: view("norm1.bias"), eps: config.eps)
    attention = Attention(
      qkv: Linear(weight: view("attn.qkv.weight"), bias: view("attn.qkv.bias")),
      proj: Linear(weight: view("attn.proj.weight"), bias: view("attn.proj.bias")),
      heads: config.heads)
    norm2 = LayerNorm(weight: view("norm2.weight"), bias: view("norm2.bias"), eps: config.eps)
    fc1 = Linear(weight: view("mlp.fc1.weight"), bias: view("mlp.fc1.bias"))
    fc2 = Linear(weight: view("mlp.fc2.weight"), bias: view("mlp.fc2.bias"))
  }

  /// timm's ViT initialisation (truncated-normal Linear weights, identity norms).
  public func initialise(_ rng: inout SeededRNG) {
    norm1.initialise()
    norm2.initialise()
    attention.qkv.initialise(&rng)
    attention.proj.initialise(&rng)
    fc1.initialise(&rng)
    fc2.initialise(&rng)
  }

  /// - Parameters:
  ///   - cache: this block's activations for shape `[B, N]`; `cache.output`
  ///     receives the block output `[B, N, D]`.
  ///   - input: `[B, N, D]`.
  public func forward(
    cache: BlockActivations, input: UnsafePointer<Float>, keyMask: UnsafePointer<Float>?
  ) {
    let rows = cache.batch * cache.tokens
    norm1.forward(
      output: cache.norm1.data, mean: cache.norm1Mean.data, rstd: cache.norm1Rstd.data,
      input: input, rows: rows)
    // Both skip connections ride on the GEMMs' beta = 1 (see `Linear.forward`).
    attention.forward(
      output: cache.residual1.data, qkvOut: cache.qkv.data,
      probabilities: cache.probabilities.data, context: cache.context.data,
      input: cache.norm1.data, keyMask: keyMask, batch: cache.batch, tokens: cache.tokens,
      residual: input)
    norm2.forward(
      output: cache.norm2.data, mean: cache.norm2Mean.data, rstd: cache.norm2Rstd.data,
      input: cache.residual1.data, rows: rows)
    fc1.forward(output: cache.hidden.data, input: cache.norm2.data, rows: rows)
    GELU.forward(output: cache.activated.data, input: cache.hidden.data, count: cache.hidden.count)
    fc2.forward(
      output: cache.output.data, input: cache.activated.data, rows: rows,
      residual: cache.residual1.data)
  }

  /// Backward of `forward`.
  ///
  /// - Parameters:
  ///   - dInput: `[B, N, D]`, overwritten with the gradient w.r.t. the block input.
  ///   - dOutput: `[B, N, D]`, the gradient w.r.t. the block output; consumed
  ///     (used as the residual stream's gradient scratch).
  public func backward(
    dInput: UnsafeMutablePointer<Float>, dOutput: UnsafeMutablePointer<Float>,
    cache: BlockActivations, input: UnsafePointer<Float>, scratch: BlockGradients,
    parameterGradients: Bool
  ) {
    let rows = cache.batch * cache.tokens
    let dim = norm1.channels
    // MLP branch: output = residual1 + fc2(gelu(fc1(norm2(residual1))))
    fc2.backward(
      dInput: scratch.dActivated.data, accumulate: false, dOutput: dOutput,
      input: cache.activated.data, rows: rows, parameterGradients: parameterGradients)
    GELU.backward(
      dInput: scratch.dHidden.data, dOutput: scratch.dActivated.data, input: cache.hidden.data,
      count: scratch.dHidden.count, accumulate: false)
    fc1.backward(
      dInput: scratch.dNormalised.data, accumulate: false, dOutput: scratch.dHidden.data,
      input: cache.norm2.data, rows: rows, parameterGradients: parameterGradients)
    // dOutput becomes d(residual1): the identity path plus norm2's input gradient.
    norm2.backward(
      dInput: dOutput, dOutput: scratch.dNormalised.data, input: cache.residual1.data,
      mean: cache.norm2Mean.data, rstd: cache.norm2Rstd.data, rows: rows,
      parameterGradients: parameterGradients)
    // Attention branch: residual1 = x + attn(norm1(x))
    attention.backward(
      dInput: scratch.dNormalised.data, accumulate: false, dOutput: dOutput,
      input: cache.norm1.data, qkvOut: cache.qkv.data,
      probabilities: cache.probabilities.data, context: cache.context.data,
      scratchContext: scratch.dContext.data, scratchQKV: scratch.dQKV.data,
      scratchProbabilities: scratch.dScores.data, batch: cache.batch, tokens: cache.tokens,
      parameterGradients: parameterGradients)
    dInput.update(from: dOutput, count: rows * dim)
    norm1.backward(
      dInput: dInput, dOutput: scratch.dNormalised.data, input: input,
      mean: cache.norm1Mean.data, rstd: cache.norm1Rstd.data, rows: rows,
      parameterGradients: parameterGradients)
  }
}

/// What one block saves in its forward pass for `[B, N]` inputs.
public final class BlockActivations {
  public let batch: Int
  public let tokens: Int
  /// `[B, N, D]` norm1 output; `[B·N]` its mean and 1/σ.
  public let norm1: Tensor, norm1Mean: Tensor, norm1Rstd: Tensor
  /// `[B, N, 3D]` fused q, k, v.
  public let qkv: Tensor
  /// `[B, H, N, N]` attention probabilities.
  public let probabilities: Tensor
  /// `[B, N, D]` per-head attention outputs, concatenated.
  public let context: Tensor
  /// `[B, N, D]` x + attention branch.
  public let residual1: Tensor
  public let norm2: Tensor, norm2Mean: Tensor, norm2Rstd: Tensor
  /// `[B, N, hidden]` fc1 output (pre-GELU) and GELU output.
  public let hidden: Tensor, activated: Tensor
  /// `[B, N, D]` the block output.
  public let output: Tensor

  public init(config: EncoderConfig, batch: Int, tokens: Int) {
    self.batch = batch
    self.tokens = tokens
    let rows = batch * tokens
    norm1 = Tensor(shape: [batch, tokens, config.dim])
    norm1Mean = Tensor(shape: [rows])
    norm1Rstd = Tensor(shape: [rows])
    qkv = Tensor(shape: [batch, tokens, 3 * config.dim])
    probabilities = Tensor(shape: [batch, config.heads, tokens, tokens])
    context = Tensor(shape: [batch, tokens, config.dim])
    residual1 = Tensor(shape: [batch, tokens, config.dim])
    norm2 = Tensor(shape: [batch, tokens, config.dim])
    norm2Mean = Tensor(shape: [rows])
    norm2Rstd = Tensor(shape: [rows])
    hidden = Tensor(shape: [batch, tokens, config.mlpHidden])
    activated = Tensor(shape: [batch, tokens, config.mlpHidden])
    output = Tensor(shape: [batch, tokens, config.dim])
  }
}

/// Gradient scratch shared by every block of a backward pass for `[B, N]`.
public final class BlockGradients {
  /// `[B, N, hidden]` gradients w.r.t. the GELU output and the fc1 output.
  public let dActivated: Tensor, dHidden: Tensor
  /// `[B, N, D]` gradient w.r.t. a norm output (norm2, then norm1).
  public let dNormalised: Tensor
  /// `[B, N, D]` gradient w.r.t. the concatenated heads.
  public let dContext: Tensor
  /// `[B, N, 3D]` gradient w.r.t. q, k, v.
  public let dQKV: Tensor
  /// `[B, H, N, N]` gradient w.r.t. the attention scores.
  public let dScores: Tensor

  public init(config: EncoderConfig, batch: Int, tokens: Int) {
    dActivated = Tensor(shape: [batch, tokens, config.mlpHidden])
    dHidden = Tensor(shape: [batch, tokens, config.mlpHidden])
    dNormalised = Tensor(shape: [batch, tokens, config.dim])
    dContext = Tensor(shape: [batch, tokens, config.dim])
    dQKV = Tensor(shape: [batch, tokens, 3 * config.dim])
    dScores = Tensor(shape: [batch, config.heads, tokens, tokens])
  }
}
