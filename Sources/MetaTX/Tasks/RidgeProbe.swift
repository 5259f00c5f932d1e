import Kernels

/// The closed-form linear probe: ridge regression of targets on frozen
/// embeddings, `W = argmin ‖Y − XWᵀ − b‖² + λ‖W‖²`, with the bias unpenalised.
///
/// Centring X and Y removes the bias from the problem; the normal equations
/// `(XcᵀXc + λI) Wᵀ = XcᵀYc` are symmetric positive definite for λ > 0 and
/// solved by Cholesky (LAPACK `dposv`); then `b = ȳ − W x̄`.
/// For classification Y is one-hot, and the class is the arg-max of `XWᵀ + b`.
public enum RidgeProbe {
  /// - Parameters:
  ///   - features: `[N, W]` embeddings.
  ///   - targets: `[N, K]` regression targets or one-hot classes.
  ///   - penalty: λ, relative to the mean diagonal of `XcᵀXc` (scale-free).
  /// - Returns: weight `[K, W]` and bias `[K]`.
  public static func fit(features: [Float], targets: [Float], count n: Int, width: Int, outputs: Int, penalty: Float)
    throws -> (weight: [Float], bias: [Float])
  {
    precondition(features.count == n * width && targets.count == n * outputs, "ridge: shapes do not match N = \(n)")
    let featureMean = (0..<width).map { c in (0..<n).reduce(0.0) { $0 + Double(features[$1 * width + c]) } / Double(max(n, 1)) }
    let targetMean = (0..<outputs).map { k in (0..<n).reduce(0.0) { $0 + Double(targets[$1 * outputs + k]) } / Double(max(n, 1)) }
    let centred = Tensor(shape: [n, width])
    let centredTargets = Tensor(shape: [n, outputs])
    for i in 0..<n {
      for c in 0..<width { centred[i * width + c] = Float(Double(features[i * width + c]) - featureMean[c]) }
      for k in 0..<outputs { centredTargets[i * outputs + k] = Float(Double(targets[i * outputs + k]) - targetMean[k]) }
    }
    // Gram [W, W] = Xcᵀ Xc and right-hand sides [W, K] = Xcᵀ Yc, one GEMM each.
    let gram = Tensor(shape: [width, width])
    Linalg.gemm(.transposed, .none, m: width, n: width, k: n, a: centred.data, lda: width, b: centred.data,
      ldb: width, beta: 0, c: gram.data, ldc: width)
    let rightHandSides = Tensor(shape: [width, outputs])
    Linalg.gemm(.transposed, .none, m: width, n: outputs, k: n, a: centred.data, lda: width, b: centredTargets.data,
      ldb: outputs, beta: 0, c: rightHandSides.data, ldc: outputs)
    let meanDiagonal = (0..<width).reduce(Float(0)) { $0 + gram[$1 * width + $1] } / Float(max(width, 1))
    let lambda = max(penalty * max(meanDiagonal, 1e-12), 1e-12)
    for c in 0..<width { gram[c * width + c] += lambda }
    let solution = try LAPACK.solvePositiveDefinite(gram.values, n: width, rightHandSides.values, rightHandSides: outputs)
    var weight = [Float](repeating: 0, count: outputs * width)
    for c in 0..<width {
      for k in 0..<outputs { weight[k * width + c] = solution[c * outputs + k] }
    }
    let bias = (0..<outputs).map { k in
      Float(targetMean[k] - (0..<width).reduce(0.0) { $0 + Double(weight[k * width + $1]) * featureMean[$1] })
    }
    return (weight, bias)
  }
}
