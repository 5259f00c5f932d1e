import Kernels

/// Multi-head self-attention as in timm's ViT `Attention`:
/// `qkv = x · Wqkvᵀ + b` split as `[B, N, 3, H, D/H]` (q, k, v; heads contiguous),
/// `P = softmax(q kᵀ · (D/H)^-½)` per head with padded keys masked out,
/// `context = P v` with heads concatenated back to `[B, N, D]`, then `proj`.
public struct Attention {
  public let dim: Int
  public let heads: Int
  public let qkv: Linear
  public let proj: Linear

  public var headDim: Int { dim / heads }
  public var scale: Float { 1 / Float(headDim).squareRoot() }

  public init(qkv: Linear, proj: Linear, heads: Int) {
    dim = proj.outputs
    precondition(heads > 0 && dim % heads == 0, "dim \(dim) is not divisible by \(heads) heads")
    precondition(qkv.inputs == dim && qkv.outputs == 3 * dim && proj.inputs == dim,
      "attention shapes: qkv \(qkv.outputs)×\(qkv.inputs), proj \(proj.outputs)×\(proj.inputs), dim \(dim)")
    self.heads = heads
    self.qkv = qkv
    self.proj = proj
  }

  public static func specs(_ prefix: String, dim: Int) -> [ParameterSpec] {
    Linear.specs("\(prefix).qkv", inputs: dim, outputs: 3 * dim)
      + Linear.specs("\(prefix).proj", inputs: dim, outputs: dim)
  }

  /// How many blocks of query rows the forward splits each (sequence, head)
  /// into. Few sequences × heads (batch 1 of a 3-head encoder) would leave
  /// workers idle, so rows are split until there are about 16 work items,
  /// keeping at least 16 rows per block. The split depends on the shape only,
  /// never on the thread count, so results do not either.
  public static func queryRowBlocks(sequenceHeads: Int, tokens: Int) -> Int {
    let wanted = (16 + sequenceHeads - 1) / sequenceHeads
    return max(1, min(wanted, tokens / 16))
  }

  /// Offsets of head `h` of sequence `b` inside the `[B, N, 3D]` qkv buffer.
  private func qkvOffset(batch b: Int, tokens: Int, part: Int, head h: Int) -> Int {
    b * tokens * 3 * dim + part * dim + h * headDim
  }

  /// - Parameters:
  ///   - output: `[B, N, D]`, overwritten with `proj(context)`, plus `residual` if given.
  ///   - qkvOut: `[B, N, 3D]`, saved for backward.
  ///   - probabilities: `[B, H, N, N]`, saved for backward.
  ///   - context: `[B, N, D]`, heads concatenated, saved for backward.
  ///   - input: `[B, N, D]`.
  ///   - keyMask: `[B, N]`, 1 = real token, 0 = padding (nil: none padded).
  ///   - residual: `[B, N, D]` added to the output (the block's skip connection), or nil.
  public func forward(
    output: UnsafeMutablePointer<Float>, qkvOut: UnsafeMutablePointer<Float>,
    probabilities: UnsafeMutablePointer<Float>, context: UnsafeMutablePointer<Float>,
    input: UnsafePointer<Float>, keyMask: UnsafePointer<Float>?, batch: Int, tokens: Int,
    residual: UnsafePointer<Float>? = nil
  ) {
    let n = tokens
    qkv.forward(output: qkvOut, input: input, rows: batch * n)
    // One work item per (sequence, head, block of query rows): its score GEMM,
    // softmax and value GEMM run back to back while the block is still in cache.
    let rowBlocks = Attention.queryRowBlocks(sequenceHeads: batch * heads, tokens: n)
    Threads.parallelFor(batch * heads * rowBlocks) { item in
      let sequenceHead = item / rowBlocks
      let block = item % rowBlocks
      let b = sequenceHead / heads
      let h = sequenceHead % heads
      let firstRow = n * block / rowBlocks
      let rows = n * (block + 1) / rowBlocks - firstRow
      let p = probabilities + sequenceHead * n * n + firstRow * n
      Linalg.gemm(
        .none, .transposed, m: rows, n: n, k: headDim, alpha: scale,
        a: qkvOut + qkvOffset(batch: b, tokens: n, part: 0, head: h) + firstRow * 3 * dim,
        lda: 3 * dim,
        b: qkvOut + qkvOffset(batch: b, tokens: n, part: 1, head: h), ldb: 3 * dim,
        beta: 0, c: p, ldc: n)
      Elementwise.softmaxRows(
        p, rows: rows, columns: n, keyMask: keyMask.map { $0 + b * n }, rowsPerMaskRow: n)
      Linalg.gemm(
        .none, .none, m: rows, n: headDim, k: n, a: p, lda: n,
        b: qkvOut + qkvOffset(batch: b, tokens: n, part: 2, head: h), ldb: 3 * dim,
        beta: 0, c: context + (b * n + firstRow) * dim + h * headDim, ldc: dim)
    }
    proj.forward(output: output, input: context, rows: batch * n, residual: residual)
  }

  /// Backward of `forward`.
  ///
  /// - Parameters:
  ///   - dInput: `[B, N, D]`, receives `dx` (added when `accumulate`).
  ///   - dOutput: `[B, N, D]`.
  ///   - scratchContext: `[B, N, D]`, scratchQKV: `[B, N, 3D]`,
  ///     scratchProbabilities: `[B, H, N, N]` — overwritten.
  public func backward(
    dInput: UnsafeMutablePointer<Float>, accumulate: Bool, dOutput: UnsafePointer<Float>,
    input: UnsafePointer<Float>, qkvOut: UnsafePointer<Float>,
    probabilities: UnsafePointer<Float>, context: UnsafePointer<Float>,
    scratchContext dContext: UnsafeMutablePointer<Float>,
    scratchQKV dQKV: UnsafeMutablePointer<Float>,
    scratchProbabilities dScores: UnsafeMutablePointer<Float>,
    batch: Int, tokens: Int, parameterGradients: Bool
  ) {
    let n = tokens
    let rows = batch * n
    proj.backward(
      dInput: dContext, accumulate: false, dOutput: dOutput, input: context, rows: rows,
      parameterGradients: parameterGradients)
    Threads.parallelFor(batch * heads) { item in
      let b = item / heads
      let h = item % heads
      let p = probabilities + item * n * n
      let dS = dScores + item * n * n
      let dContextHead = dContext + b * n * dim + h * headDim
      let q = qkvOut + qkvOffset(batch: b, tokens: n, part: 0, head: h)
      let k = qkvOut + qkvOffset(batch: b, tokens: n, part: 1, head: h)
      let v = qkvOut + qkvOffset(batch: b, tokens: n, part: 2, head: h)
      // context = P v  ⇒  dP = dcontext · vᵀ,  dv = Pᵀ · dcontext
      Linalg.gemm(
        .none, .transposed, m: n, n: n, k: headDim, a: dContextHead, lda: dim, b: v,
        ldb: 3 * dim, beta: 0, c: dS, ldc: n)
      Linalg.gemm(
        .transposed, .none, m: n, n: headDim, k: n, a: p, lda: n, b: dContextHead, ldb: dim,
        beta: 0, c: dQKV + qkvOffset(batch: b, tokens: n, part: 2, head: h), ldc: 3 * dim)
      Elementwise.softmaxRowsBackward(dS, probabilities: p, rows: n, columns: n)
      // S = scale · q kᵀ  ⇒  dq = scale · dS · k,  dk = scale · dSᵀ · q
      Linalg.gemm(
        .none, .none, m: n, n: headDim, k: n, alpha: scale, a: dS, lda: n, b: k, ldb: 3 * dim,
        beta: 0, c: dQKV + qkvOffset(batch: b, tokens: n, part: 0, head: h), ldc: 3 * dim)
      Linalg.gemm(
        .transposed, .none, m: n, n: headDim, k: n, alpha: scale, a: dS, lda: n, b: q,
        ldb: 3 * dim, beta: 0, c: dQKV + qkvOffset(batch: b, tokens: n, part: 1, head: h),
        ldc: 3 * dim)
    }
    qkv.backward(
      dInput: dInput, accumulate: accumulate, dOutput: dQKV, input: input, rows: rows,
      parameterGradients: parameterGradients)
  }
}
