import Kernels

/// The outcome of comparing analytic gradients with central differences.
public struct GradientCheckResult: CustomStringConvertible {
  public var worstError: Double
  public var worstIndex: Int
  public var analytic: Double
  public var numeric: Double
  public var description: String {
    "worst relative error \(worstError) at element \(worstIndex): analytic \(analytic), numeric \(numeric)"
  }
}

/// Compares `analytic[i]` with `(L(x + h e_i) − L(x − h e_i)) / 2h` for each
/// checked element `i` of the buffer `values` (restored afterwards).
///
/// The error of element `i` is `|a − n| / max(|a|, |n|, floor)`, with `floor`
/// a fraction of the largest analytic magnitude so that near-zero entries do
/// not dominate through Float32 rounding.
public func checkGradient(
  values: UnsafeMutablePointer<Float>, analytic: [Float], indices: [Int]? = nil,
  step: Float = 1e-2, floorFraction: Double = 1e-2, loss: () -> Double
) -> GradientCheckResult {
  let checked = indices ?? Array(0..<analytic.count)
  let largest = analytic.reduce(0.0) { max($0, abs(Double($1))) }
  let floor = max(largest * floorFraction, 1e-6)
  var result = GradientCheckResult(worstError: 0, worstIndex: -1, analytic: 0, numeric: 0)
  for index in checked {
    let original = values[index]
    values[index] = original + step
    let plus = loss()
    values[index] = original - step
    let minus = loss()
    values[index] = original
    let numeric = (plus - minus) / (2 * Double(step))
    let error = abs(numeric - Double(analytic[index])) / max(abs(numeric), abs(Double(analytic[index])), floor)
    if error > result.worstError || result.worstIndex < 0 {
      result = GradientCheckResult(
        worstError: error, worstIndex: index, analytic: Double(analytic[index]), numeric: numeric)
    }
  }
  return result
}

/// `Σ_i a_i · b_i` in Double: the scalar loss `L = Σ y ∘ dy` used by gradient checks.
public func weightedSum(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Double {
  var sum = 0.0
  for index in 0..<count { sum += Double(a[index]) * Double(b[index]) }
  return sum
}

/// A tensor of Uniform(−scale, scale) values.
public func randomTensor(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
  var rng = SeededRNG(seed: seed)
  let tensor = Tensor(shape: shape)
  rng.fillUniform(tensor, -scale, scale)
  return tensor
}

/// Every `stride`-th index below `count` (a spread-out subset for big tensors).
public func sampledIndices(_ count: Int, maximum: Int = 64) -> [Int] {
  let stride = max(1, count / maximum)
  return Array(Swift.stride(from: 0, to: count, by: stride))
}
