import Foundation
import Kernels

/// Parameters that train together with one learning-rate multiplier.
public struct ParameterGroup {
  public let parameters: ParameterSet
  /// The group's learning rate is the schedule's rate times this.
  public var learningRateScale: Float
  public init(_ parameters: ParameterSet, learningRateScale: Float = 1) {
    self.parameters = parameters
    self.learningRateScale = learningRateScale
  }
}

/// AdamW exactly as `torch.optim.AdamW` (amsgrad off, not maximising):
///
/// ```
/// p ← p − lr·λ·p                          (decoupled decay; only where entry.decays)
/// m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²
/// p ← p − (lr / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + ε)
/// ```
/// Loshchilov & Hutter, "Decoupled Weight Decay Regularization" (2019).
/// Frozen sets (`isTrainable == false`) are skipped, their state untouched.
public final class AdamW {
  public var beta1: Float
  public var beta2: Float
  public var eps: Float
  public var weightDecay: Float
  public let groups: [ParameterGroup]
  /// First and second moments, one flat pair per group, laid out like the values.
  public let firstMoments: [Tensor]
  public let secondMoments: [Tensor]
  /// Steps taken so far (bias correction uses `step` after incrementing).
  public private(set) var step: Int = 0

  public init(
    groups: [ParameterGroup], beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8,
    weightDecay: Float = 0.05
  ) {
    self.groups = groups
    self.beta1 = beta1
    self.beta2 = beta2
    self.eps = eps
    self.weightDecay = weightDecay
    firstMoments = groups.map { Tensor(shape: [$0.parameters.count]) }
    secondMoments = groups.map { Tensor(shape: [$0.parameters.count]) }
  }

  /// Restores the step counter (moments are restored by copying into the tensors).
  public func restore(step: Int) {
    self.step = step
  }

  /// One update of every trainable group at the schedule's `learningRate`.
  public func update(learningRate: Float) {
    step += 1
    let biasCorrection1 = 1 - Foundation.pow(beta1, Float(step))
    let biasCorrection2Root = (1 - Foundation.pow(beta2, Float(step))).squareRoot()
    for (index, group) in groups.enumerated() where group.parameters.isTrainable {
      let rate = learningRate * group.learningRateScale
      let stepSize = rate / biasCorrection1
      let values = group.parameters.values.data
      let gradients = group.parameters.gradients.data
      let m = firstMoments[index].data
      let v = secondMoments[index].data
      let entries = group.parameters.entries
      let total = entries.map { $0.offset + $0.count }.max() ?? 0
      // Every element's update is independent of the others', so the workers'
      // split cannot change a result: the same bits on any thread count.
      Threads.parallelRanges(total, minimumChunk: 1 << 15) { range in
        for entry in entries {
          let start = max(range.lowerBound, entry.offset), end = min(range.upperBound, entry.offset + entry.count)
          guard start < end else { continue }
          let decayFactor = entry.decays ? 1 - rate * weightDecay : 1
          for element in start..<end {
            let g = gradients[element]
            values[element] *= decayFactor
            m[element] = beta1 * m[element] + (1 - beta1) * g
            v[element] = beta2 * v[element] + (1 - beta2) * g * g
            let denominator = v[element].squareRoot() / biasCorrection2Root + eps
            values[element] -= stepSize * m[element] / denominator
          }
        }
      }
    }
  }
}

/// Linear warm-up from 0 to `peak` over `warmupSteps`, then a cosine decay to
/// `minimum` at `totalSteps` (and `minimum` after).
public struct WarmupCosineSchedule: Sendable {
  public var peak: Float
  public var minimum: Float
  public var warmupSteps: Int
  public var totalSteps: Int

  public init(peak: Float, minimum: Float = 0, warmupSteps: Int, totalSteps: Int) {
    self.peak = peak
    self.minimum = minimum
    self.warmupSteps = warmupSteps
    self.totalSteps = totalSteps
  }

  /// The learning rate of step `step` (0-based).
  public func learningRate(at step: Int) -> Float {
    if step < warmupSteps { return peak * Float(step + 1) / Float(warmupSteps) }
    let decaySteps = Swift.max(1, totalSteps - warmupSteps)
    let progress = Swift.min(1, Float(step - warmupSteps) / Float(decaySteps))
    return minimum + (peak - minimum) * 0.5 * (1 + Foundation.cos(Float.pi * progress))
  }
}

/// Scales the gradients of all trainable sets so that their global L2 norm is
/// at most `maximumNorm` (`torch.nn.utils.clip_grad_norm_`).
/// - Returns: the norm before clipping.
@discardableResult
public func clipGradientNorm(_ sets: [ParameterSet], maximumNorm: Float) -> Float {
  let trainable = sets.filter(\.isTrainable)
  var squares = 0.0
  for set in trainable {
    let g = set.gradients.data
    for index in 0..<set.count { squares += Double(g[index]) * Double(g[index]) }
  }
  let norm = Float(squares.squareRoot())
  if norm > maximumNorm {
    let factor = maximumNorm / (norm + 1e-6)
    for set in trainable { Elementwise.scale(set.gradients.data, count: set.count, by: factor) }
  }
  return norm
}
