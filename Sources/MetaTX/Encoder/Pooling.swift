import Kernels

/// How a sequence of contextual tokens becomes one embedding.
public enum Pooling: String, CaseIterable, Codable, Sendable {
  /// No pooling: every token is kept, `[B, N, D]`.
  case none
  /// The first token (the tokenizer's cls token), `[B, D]`.
  case cls
  /// The mean over real (unpadded) tokens, `[B, D]`.
  case mean
  /// The elementwise maximum over real tokens, `[B, D]`.
  case max
  /// The cls token and the mean of the other real tokens, concatenated, `[B, 2D]`.
  case clsMean = "cls+mean"

  /// Width of one pooled embedding for tokens of width `dim` (per token for `.none`).
  public func outputWidth(dim: Int) -> Int {
    switch self {
    case .none, .cls, .mean, .max: return dim
    case .clsMean: return 2 * dim
    }
  }

  /// Pools `tokens` `[B, N, D]` into `output` (`[B, N, D]` for `.none`, else
  /// `[B, outputWidth]`), skipping padded tokens (`keyMask` `[B, N]`, 1 = real).
  public func forward(
    output: UnsafeMutablePointer<Float>, tokens: UnsafePointer<Float>, keyMask: UnsafePointer<Float>?,
    batch: Int, count n: Int, dim: Int
  ) {
    let width = outputWidth(dim: dim)
    for b in 0..<batch {
      let sequence = tokens + b * n * dim
      let isReal: (Int) -> Bool = { t in keyMask.map { $0[b * n + t] != 0 } ?? true }
      switch self {
      case .none:
        (output + b * n * dim).update(from: sequence, count: n * dim)
      case .cls:
        (output + b * width).update(from: sequence, count: dim)
      case .mean:
        meanOfTokens(output + b * width, sequence, tokens: 0..<n, isReal: isReal, dim: dim)
      case .max:
        let pooled = output + b * width
        pooled.update(repeating: -.infinity, count: dim)
        for t in 0..<n where isReal(t) {
          for c in 0..<dim { pooled[c] = Swift.max(pooled[c], sequence[t * dim + c]) }
        }
      case .clsMean:
        (output + b * width).update(from: sequence, count: dim)
        meanOfTokens(output + b * width + dim, sequence, tokens: 1..<n, isReal: isReal, dim: dim)
      }
    }
  }

  /// Accumulates the gradient of `forward` into `dTokens` `[B, N, D]`;
  /// `tokens` is the forward input (max pooling routes to the arg-max).
  public func backward(
    dTokens: UnsafeMutablePointer<Float>, dOutput: UnsafePointer<Float>,
    tokens: UnsafePointer<Float>, keyMask: UnsafePointer<Float>?, batch: Int, count n: Int, dim: Int
  ) {
    let width = outputWidth(dim: dim)
    for b in 0..<batch {
      let sequence = tokens + b * n * dim
      let dSequence = dTokens + b * n * dim
      let isReal: (Int) -> Bool = { t in keyMask.map { $0[b * n + t] != 0 } ?? true }
      switch self {
      case .none:
        for index in 0..<(n * dim) { dSequence[index] += dOutput[b * n * dim + index] }
      case .cls:
        for c in 0..<dim { dSequence[c] += dOutput[b * width + c] }
      case .mean:
        spreadMean(dSequence, dOutput + b * width, tokens: 0..<n, isReal: isReal, dim: dim)
      case .max:
        for c in 0..<dim {
          var best = -1
          for t in 0..<n where isReal(t) && (best < 0 || sequence[t * dim + c] > sequence[best * dim + c]) {
            best = t
          }
          if best >= 0 { dSequence[best * dim + c] += dOutput[b * width + c] }
        }
      case .clsMean:
        for c in 0..<dim { dSequence[c] += dOutput[b * width + c] }
        spreadMean(dSequence, dOutput + b * width + dim, tokens: 1..<n, isReal: isReal, dim: dim)
      }
    }
  }

  private func meanOfTokens(
    _ pooled: UnsafeMutablePointer<Float>, _ sequence: UnsafePointer<Float>, tokens: Range<Int>,
    isReal: (Int) -> Bool, dim: Int
  ) {
    pooled.update(repeating: 0, count: dim)
    let real = tokens.filter(isReal)
    for t in real {
      for c in 0..<dim { pooled[c] += sequence[t * dim + c] }
    }
    let inverse = real.isEmpty ? 0 : 1 / Float(real.count)
    for c in 0..<dim { pooled[c] *= inverse }
  }

  private func spreadMean(
    _ dSequence: UnsafeMutablePointer<Float>, _ dPooled: UnsafePointer<Float>, tokens: Range<Int>,
    isReal: (Int) -> Bool, dim: Int
  ) {
    let real = tokens.filter(isReal)
    guard !real.isEmpty else { return }
    let inverse = 1 / Float(real.count)
    for t in real {
      for c in 0..<dim { dSequence[t * dim + c] += dPooled[c] * inverse }
    }
  }
}
