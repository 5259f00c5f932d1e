/// The shape of the shared encoder: a stack of `depth` pre-norm ViT blocks.
public struct EncoderConfig: Codable, Equatable, Sendable, CustomStringConvertible {
  public var dim: Int
  public var depth: Int
  public var heads: Int
  /// Hidden width of each block's MLP (`mlp_ratio × dim`, 4× in every preset).
  public var mlpHidden: Int
  /// LayerNorm epsilon (1e-5 unless a checkpoint says otherwise).
  public var eps: Float

  public init(dim: Int, depth: Int, heads: Int, mlpHidden: Int? = nil, eps: Float = 1e-5) {
    self.dim = dim
    self.depth = depth
    self.heads = heads
    self.mlpHidden = mlpHidden ?? 4 * dim
    self.eps = eps
  }

  /// Why this configuration cannot build an encoder, or nil when it can.
  public var problem: String? {
    if dim <= 0 || depth <= 0 || heads <= 0 || mlpHidden <= 0 {
      return "dim, depth, heads and MLP width must be positive (got \(self))"
    }
    if dim % heads != 0 { return "dim \(dim) is not divisible by \(heads) heads" }
    if !(eps > 0) { return "LayerNorm eps must be positive (got \(eps))" }
    return nil
  }

  public var description: String {
    "dim \(dim), depth \(depth), heads \(heads), mlp \(mlpHidden)"
  }

  /// Multiply–accumulate count of one forward pass over `tokens` tokens of one
  /// sequence, counting the matrix products only (×2 for FLOPs).
  public func forwardMultiplyAccumulates(tokens: Int) -> Int {
    let perToken = 3 * dim * dim + dim * dim + 2 * dim * mlpHidden
    let attention = 2 * tokens * tokens * dim
    return depth * (tokens * perToken + attention)
  }
}

/// The released Meta-Transformer / ViT sizes.
public enum EncoderPreset: String, CaseIterable, Sendable {
  case tiny, small, base, large

  public var config: EncoderConfig {
    switch self {
    case .tiny: return EncoderConfig(dim: 192, depth: 12, heads: 3)
    case .small: return EncoderConfig(dim: 384, depth: 12, heads: 6)
    case .base: return EncoderConfig(dim: 768, depth: 12, heads: 12)
    case .large: return EncoderConfig(dim: 1024, depth: 24, heads: 16)
    }
  }
}
