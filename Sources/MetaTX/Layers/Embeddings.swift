import Kernels

/// A lookup table of learned vectors (PyTorch `nn.Embedding`): row `i` of
/// `weight` `[vocabulary, D]` is the embedding of id `i`.
public struct EmbeddingTable {
  public let weight: ParameterView
  public var vocabulary: Int { weight.shape[0] }
  public var dim: Int { weight.shape[1] }

  public init(weight: ParameterView) {
    precondition(weight.shape.count == 2, "embedding table \(weight.name) must be [vocabulary, D], is \(weight.shape)")
    self.weight = weight
  }

  /// Embeddings are not weight-decayed (AdamW convention in timm/CLIP).
  public static func specs(_ name: String, vocabulary: Int, dim: Int) -> [ParameterSpec] {
    [ParameterSpec(name, [vocabulary, dim], decays: false)]
  }

  public func initialise(_ rng: inout SeededRNG, std: Float = 0.02) {
    for index in 0..<weight.count { weight.value[index] = rng.normal(mean: 0, std: std) }
  }

  /// - Parameters:
  ///   - output: `[ids.count, D]`; row `r` is set to (or, with `accumulate`,
  ///     increased by) the embedding of `ids[r]`.
  public func forward(output: UnsafeMutablePointer<Float>, ids: [Int], accumulate: Bool = false) {
    for (row, id) in ids.enumerated() {
      precondition((0..<vocabulary).contains(id), "id \(id) outside the \(vocabulary)-entry table \(weight.name)")
      let source = weight.value + id * dim
      let destination = output + row * dim
      if accumulate {
        for c in 0..<dim { destination[c] += source[c] }
      } else {
        destination.update(from: source, count: dim)
      }
    }
  }

  /// Scatter-adds `dOutput` `[ids.count, D]` into the rows of the gradient.
  public func backward(dOutput: UnsafePointer<Float>, ids: [Int]) {
    for (row, id) in ids.enumerated() {
      let gradient = weight.gradient + id * dim
      let source = dOutput + row * dim
      for c in 0..<dim { gradient[c] += source[c] }
    }
  }
}

/// Learned additive positions: `tokens[b, n, :] += table[n, :]` for `n < N`
/// (the first `N` rows of a `[maximumTokens, D]` table).
public struct LearnedPositions {
  public let table: ParameterView
  public var maximumTokens: Int { table.shape[0] }
  public var dim: Int { table.shape[1] }

  public init(table: ParameterView) {
    precondition(table.shape.count == 2, "position table \(table.name) must be [tokens, D], is \(table.shape)")
    self.table = table
  }

  public static func specs(_ name: String, tokens: Int, dim: Int) -> [ParameterSpec] {
    [ParameterSpec(name, [tokens, dim], decays: false)]
  }

  /// timm/ViT initialisation: truncated normal, std 0.02.
  public func initialise(_ rng: inout SeededRNG) {
    for index in 0..<table.count { table.value[index] = rng.truncatedNormal(std: 0.02, low: -0.04, high: 0.04) }
  }

  /// Adds positions to `tokens` `[B, N, D]`, `N ≤ maximumTokens`.
  public func forward(tokens: UnsafeMutablePointer<Float>, batch: Int, count: Int) {
    precondition(count <= maximumTokens, "\(count) tokens exceed the \(maximumTokens) learned positions of \(table.name)")
    for b in 0..<batch {
      Linalg.axpy(count: count * dim, alpha: 1, x: table.value, y: tokens + b * count * dim)
    }
  }

  /// Accumulates `Σ_b dTokens[b]` into the table's gradient.
  public func backward(dTokens: UnsafePointer<Float>, batch: Int, count: Int) {
    for b in 0..<batch {
      Linalg.axpy(count: count * dim, alpha: 1, x: dTokens + b * count * dim, y: table.gradient)
    }
  }
}

/// A learned token placed first in every sequence (ViT's class token).
public struct ClsToken {
  public let value: ParameterView
  public var dim: Int { value.shape[0] }

  public init(value: ParameterView) {
    precondition(value.shape.count == 1, "cls token \(value.name) must be [D], is \(value.shape)")
    self.value = value
  }

  public static func specs(_ name: String, dim: Int) -> [ParameterSpec] {
    [ParameterSpec(name, [dim], decays: false)]
  }

  public func initialise(_ rng: inout SeededRNG) {
    for index in 0..<dim { value.value[index] = rng.truncatedNormal(std: 0.02, low: -0.04, high: 0.04) }
  }

  /// Writes the cls token into position 0 of every sequence of `tokens` `[B, N, D]`.
  public func forward(tokens: UnsafeMutablePointer<Float>, batch: Int, count: Int) {
    for b in 0..<batch { (tokens + b * count * dim).update(from: value.value, count: dim) }
  }

  /// Accumulates `Σ_b dTokens[b, 0]` into the gradient.
  public func backward(dTokens: UnsafePointer<Float>, batch: Int, count: Int) {
    for b in 0..<batch { Linalg.axpy(count: dim, alpha: 1, x: dTokens + b * count * dim, y: value.gradient) }
  }
}
