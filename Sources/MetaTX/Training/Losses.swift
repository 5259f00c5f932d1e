import Foundation
import Kernels

/// Training objectives. Each returns the mean loss over the batch and, when
/// `dLogits`/`dPredictions` is given, overwrites it with the loss's gradient
/// (gradients start at the loss, so there is nothing to accumulate into).
public enum Loss {
  /// Softmax cross-entropy with optional class weights and label smoothing,
  /// matching `torch.nn.functional.cross_entropy(weight:, label_smoothing:,
  /// reduction: "mean")`:
  ///
  /// `ℓ_i = (1 − ε)·w[y_i]·(−log p_{i,y_i}) + (ε/C)·Σ_c w[c]·(−log p_{i,c})`,
  /// loss `= Σ_i ℓ_i / Σ_i w[y_i]` (all `w = 1` without weights).
  ///
  /// - Parameters:
  ///   - logits: `[batch, classes]`.
  ///   - targets: `batch` class indices in `0..<classes`.
  ///   - classWeights: `[classes]` or nil.
  ///   - dLogits: `[batch, classes]`, receives `∂loss/∂logits`.
  public static func softmaxCrossEntropy(
    logits: UnsafePointer<Float>, targets: [Int], classes: Int, classWeights: [Float]? = nil,
    labelSmoothing epsilon: Float = 0, dLogits: UnsafeMutablePointer<Float>? = nil
  ) -> Float {
    let batch = targets.count
    precondition(classWeights == nil || classWeights!.count == classes, "class weights need \(classes) values")
    precondition(targets.allSatisfy { (0..<classes).contains($0) }, "a target is outside 0..<\(classes)")
    let weight: (Int) -> Double = { c in Double(classWeights?[c] ?? 1) }
    let smoothing = Double(epsilon)
    let normaliser = targets.reduce(0.0) { $0 + weight($1) }
    var total = 0.0
    var probabilities = [Double](repeating: 0, count: classes)
    for i in 0..<batch {
      let row = logits + i * classes
      var maximum = -Double.infinity
      for c in 0..<classes { maximum = Swift.max(maximum, Double(row[c])) }
      var sum = 0.0
      for c in 0..<classes {
        probabilities[c] = Foundation.exp(Double(row[c]) - maximum)
        sum += probabilities[c]
      }
      let logSum = Foundation.log(sum) + maximum
      let target = targets[i]
      var smoothTerm = 0.0
      for c in 0..<classes { smoothTerm += weight(c) * (logSum - Double(row[c])) }
      total += (1 - smoothing) * weight(target) * (logSum - Double(row[target]))
        + smoothing / Double(classes) * smoothTerm
      guard let dLogits else { continue }
      // ∂ℓ_i/∂z_c = p_c·[(1−ε)w[y] + (ε/C)Σw] − (1−ε)w[y]·[c = y] − (ε/C)·w[c]
      let weightSum = (0..<classes).reduce(0.0) { $0 + weight($1) }
      let massOnSoftmax = (1 - smoothing) * weight(target) + smoothing / Double(classes) * weightSum
      for c in 0..<classes {
        var gradient = probabilities[c] / sum * massOnSoftmax - smoothing / Double(classes) * weight(c)
        if c == target { gradient -= (1 - smoothing) * weight(target) }
        dLogits[i * classes + c] = Float(gradient / normaliser)
      }
    }
    return Float(total / normaliser)
  }

  /// Mean binary cross-entropy with logits over every element (multi-label),
  /// `torch.nn.functional.binary_cross_entropy_with_logits(reduction: "mean")`:
  /// `ℓ = max(z, 0) − z·t + log(1 + e^{−|z|})`.
  ///
  /// - Parameters: logits, targets, dLogits: `count` elements; targets in [0, 1].
  public static func binaryCrossEntropyWithLogits(
    logits: UnsafePointer<Float>, targets: UnsafePointer<Float>, count: Int,
    dLogits: UnsafeMutablePointer<Float>? = nil
  ) -> Float {
    var total = 0.0
    for index in 0..<count {
      let z = Double(logits[index])
      let t = Double(targets[index])
      total += Swift.max(z, 0) - z * t + Foundation.log1p(Foundation.exp(-Swift.abs(z)))
      let sigmoid = 1 / (1 + Foundation.exp(-z))
      dLogits?[index] = Float((sigmoid - t) / Double(count))
    }
    return Float(total / Double(count))
  }

  /// Mean squared error over every element, `mean((p − t)²)`.
  public static func meanSquaredError(
    predictions: UnsafePointer<Float>, targets: UnsafePointer<Float>, count: Int,
    dPredictions: UnsafeMutablePointer<Float>? = nil
  ) -> Float {
    var total = 0.0
    for index in 0..<count {
      let difference = Double(predictions[index]) - Double(targets[index])
      total += difference * difference
      dPredictions?[index] = Float(2 * difference / Double(count))
    }
    return Float(total / Double(count))
  }
}

/// The symmetric InfoNCE loss of CLIP with a learnable temperature.
///
/// With `â`, `b̂` the L2-normalised rows of `a`, `b` `[B, E]` and `s = exp(logitScale)`:
/// `S = s · â b̂ᵀ`, loss `= ½ (CE(S, diag) + CE(Sᵀ, diag))` — pair `i` of `a`
/// must pick pair `i` of `b` among the batch, and the other way round.
/// Reference: Radford et al. 2021 (CLIP); OpenCLIP `ClipLoss`.
public enum InfoNCE {
  /// `ln(1/0.07)`, CLIP's initial logit scale.
  public static let initialLogitScale = Float(Foundation.log(1 / 0.07))
  /// `ln 100`: the logit scale is clamped to at most this after every step.
  public static let maximumLogitScale = Float(Foundation.log(100.0))

  public struct Result {
    public var loss: Float
    /// `∂loss/∂logitScale`.
    public var dLogitScale: Float
    /// Row-to-column top-1 accuracy within the batch (a for b).
    public var accuracy: Float
  }

  /// - Parameters:
  ///   - a, b: `[batch, width]` raw (unnormalised) embeddings of the two sides.
  ///   - dA, dB: `[batch, width]`, overwritten with the gradients w.r.t. raw `a`, `b`.
  public static func loss(
    a: UnsafePointer<Float>, b: UnsafePointer<Float>, batch: Int, width: Int, logitScale: Float,
    dA: UnsafeMutablePointer<Float>?, dB: UnsafeMutablePointer<Float>?
  ) -> Result {
    let aNorms = rowNorms(a, batch: batch, width: width)
    let bNorms = rowNorms(b, batch: batch, width: width)
    let scale = Foundation.exp(Double(logitScale))
    // similarity[i][j] = â_i · b̂_j
    var similarity = [Double](repeating: 0, count: batch * batch)
    for i in 0..<batch {
      for j in 0..<batch {
        var dot = 0.0
        for e in 0..<width { dot += Double(a[i * width + e]) * Double(b[j * width + e]) }
        similarity[i * batch + j] = dot / (aNorms[i] * bNorms[j])
      }
    }
    var dLogits = [Double](repeating: 0, count: batch * batch)
    var total = 0.0
    var correct = 0
    // Rows: a_i against every b_j; columns: b_j against every a_i.
    for direction in 0..<2 {
      for i in 0..<batch {
        let logit: (Int) -> Double = { j in
          scale * (direction == 0 ? similarity[i * batch + j] : similarity[j * batch + i])
        }
        let maximum = (0..<batch).map(logit).max() ?? 0
        let sum = (0..<batch).reduce(0.0) { $0 + Foundation.exp(logit($1) - maximum) }
        total += Foundation.log(sum) + maximum - logit(i)
        if direction == 0, (0..<batch).allSatisfy({ logit($0) <= logit(i) }) { correct += 1 }
        for j in 0..<batch {
          let gradient = (Foundation.exp(logit(j) - maximum) / sum - (i == j ? 1 : 0)) / Double(2 * batch)
          dLogits[direction == 0 ? i * batch + j : j * batch + i] += gradient
        }
      }
    }
    var dLogitScale = 0.0
    for index in 0..<(batch * batch) { dLogitScale += dLogits[index] * scale * similarity[index] }
    if let dA, let dB {
      // ∂/∂â_i = s Σ_j dS_ij b̂_j ; ∂/∂b̂_j = s Σ_i dS_ij â_i ; then through x/‖x‖.
      for i in 0..<batch {
        var dNormalised = [Double](repeating: 0, count: width)
        for j in 0..<batch {
          let factor = scale * dLogits[i * batch + j] / bNorms[j]
          for e in 0..<width { dNormalised[e] += factor * Double(b[j * width + e]) }
        }
        writeNormalisationBackward(dA + i * width, dNormalised, a + i * width, norm: aNorms[i], width: width)
      }
      for j in 0..<batch {
        var dNormalised = [Double](repeating: 0, count: width)
        for i in 0..<batch {
          let factor = scale * dLogits[i * batch + j] / aNorms[i]
          for e in 0..<width { dNormalised[e] += factor * Double(a[i * width + e]) }
        }
        writeNormalisationBackward(dB + j * width, dNormalised, b + j * width, norm: bNorms[j], width: width)
      }
    }
    return Result(
      loss: Float(total / Double(2 * batch)), dLogitScale: Float(dLogitScale),
      accuracy: Float(correct) / Float(batch))
  }

  private static func rowNorms(_ x: UnsafePointer<Float>, batch: Int, width: Int) -> [Double] {
    (0..<batch).map { i in
      let squares = (0..<width).reduce(0.0) { $0 + Double(x[i * width + $1]) * Double(x[i * width + $1]) }
      return Swift.max(squares.squareRoot(), 1e-12)
    }
  }

  /// `dx = (dx̂ − x̂ (x̂·dx̂)) / ‖x‖` for `x̂ = x/‖x‖`.
  private static func writeNormalisationBackward(
    _ dX: UnsafeMutablePointer<Float>, _ dNormalised: [Double], _ x: UnsafePointer<Float>,
    norm: Double, width: Int
  ) {
    var projection = 0.0
    for e in 0..<width { projection += dNormalised[e] * Double(x[e]) / norm }
    for e in 0..<width {
      dX[e] = Float((dNormalised[e] - Double(x[e]) / norm * projection) / norm)
    }
  }
}
