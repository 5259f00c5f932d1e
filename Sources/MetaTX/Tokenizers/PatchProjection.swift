import Kernels

/// The learned half most tokenizers share: a linear map of each raw patch
/// (`[P]` features: flattened pixels, mel patch, sensor window, band group…)
/// to a D-dimensional token, an optional cls token in front, and learned
/// positions. A strided convolution with kernel = stride (ViT's patch embed)
/// is exactly this linear map on flattened patches.
///
/// `[B, N, P]` raw → `[B, N (+1), D]` tokens.
public final class PatchProjection {
  public let projection: Linear
  public let cls: ClsToken?
  public let positions: LearnedPositions?
  public var patchWidth: Int { projection.inputs }
  public var dim: Int { projection.outputs }
  /// The last forward's raw input, `[B, N, P]`, which backward needs.
  private var lastRaw: Tensor?

  /// Parameter specs: `prefix.proj.weight/bias`, `prefix.cls`, `prefix.positions`.
  public static func specs(
    _ prefix: String, patchWidth: Int, dim: Int, cls: Bool, maximumPositions: Int?
  ) -> [ParameterSpec] {
    var specs = Linear.specs("\(prefix).proj", inputs: patchWidth, outputs: dim)
    if cls { specs += ClsToken.specs("\(prefix).cls", dim: dim) }
    if let maximumPositions {
      specs += LearnedPositions.specs("\(prefix).positions", tokens: maximumPositions, dim: dim)
    }
    return specs
  }

  public init(_ prefix: String, parameters: ParameterSet) {
    projection = Linear(weight: parameters.view("\(prefix).proj.weight"), bias: parameters.view("\(prefix).proj.bias"))
    cls = parameters.entry("\(prefix).cls").map { _ in ClsToken(value: parameters.view("\(prefix).cls")) }
    positions = parameters.entry("\(prefix).positions").map { _ in
      LearnedPositions(table: parameters.view("\(prefix).positions"))
    }
  }

  /// Xavier-uniform projection (as ViT/MAE initialise the patch embedding
  /// viewed as a matrix), zero bias, truncated-normal cls and positions.
  public func initialise(_ rng: inout SeededRNG) {
    let bound = (6 / Float(patchWidth + dim)).squareRoot()
    for index in 0..<projection.weight.count { projection.weight.value[index] = rng.uniform(-bound, bound) }
    projection.bias?.value.update(repeating: 0, count: dim)
    cls?.initialise(&rng)
    positions?.initialise(&rng)
  }

  /// The token count for `patches` raw patches.
  public func tokenCount(patches: Int) -> Int { patches + (cls == nil ? 0 : 1) }

  /// - Parameters:
  ///   - raw: `[B, N, P]` patches (kept for backward).
  ///   - mask: `[B, N]` patch mask (1 real, 0 padding) or nil; the cls token is always real.
  /// - Returns: tokens `[B, N (+1), D]` and the mask over them.
  public func forward(raw: Tensor, mask: Tensor?) -> TokenBatch {
    precondition(raw.rank == 3 && raw.shape[2] == patchWidth, "raw patches \(raw.shape) are not [B, N, \(patchWidth)]")
    let batch = raw.shape[0], patches = raw.shape[1]
    let count = tokenCount(patches: patches)
    let offset = count - patches
    let tokens = Tensor(shape: [batch, count, dim])
    let projected = Tensor(shape: [batch * patches, dim])
    projection.forward(output: projected.data, input: raw.data, rows: batch * patches)
    for b in 0..<batch {
      (tokens.data + (b * count + offset) * dim).update(from: projected.data + b * patches * dim, count: patches * dim)
    }
    cls?.forward(tokens: tokens.data, batch: batch, count: count)
    positions?.forward(tokens: tokens.data, batch: batch, count: count)
    lastRaw = raw
    var tokenMask: Tensor? = nil
    if let mask {
      let full = Tensor(shape: [batch, count])
      for b in 0..<batch {
        if offset == 1 { full[b * count] = 1 }
        for n in 0..<patches { full[b * count + offset + n] = mask[b * patches + n] }
      }
      tokenMask = full
    }
    return TokenBatch(tokens: tokens, mask: tokenMask)
  }

  /// Accumulates parameter gradients from `dTokens` `[B, N (+1), D]` of the last forward.
  public func backward(_ dTokens: UnsafePointer<Float>, parameterGradients: Bool = true) {
    guard parameterGradients, let raw = lastRaw else { return }
    let batch = raw.shape[0], patches = raw.shape[1]
    let count = tokenCount(patches: patches)
    let offset = count - patches
    positions?.backward(dTokens: dTokens, batch: batch, count: count)
    cls?.backward(dTokens: dTokens, batch: batch, count: count)
    let dProjected = Tensor(shape: [batch * patches, dim])
    for b in 0..<batch {
      (dProjected.data + b * patches * dim).update(from: dTokens + (b * count + offset) * dim, count: patches * dim)
    }
    projection.backward(dInput: nil, accumulate: false, dOutput: dProjected.data, input: raw.data,
      rows: batch * patches, parameterGradients: true)
  }
}
