import Foundation
import Kernels

/// The shared embedding space of a pretrained model: one linear projection
/// per modality from pooled encoder output `[B, W]` to `[B, E]` (no bias, as
/// CLIP's), and the learnable InfoNCE temperature as a logit scale.
public final class ContrastiveProjections {
  public let modalities: [Modality]
  public let inputWidth: Int
  public let embeddingWidth: Int
  /// `projection.<modality>.weight` `[E, W]` and `logit_scale` `[1]`.
  public let parameters: ParameterSet

  public init(modalities: [Modality], inputWidth: Int, embeddingWidth: Int) {
    self.modalities = modalities
    self.inputWidth = inputWidth
    self.embeddingWidth = embeddingWidth
    parameters = ParameterSet(
      modalities.map { ParameterSpec("projection.\($0.rawValue).weight", [embeddingWidth, inputWidth], decays: true) }
        + [ParameterSpec("logit_scale", [1], decays: false)])
  }

  /// The projection of `modality`.
  public func projection(_ modality: Modality) -> Linear? {
    guard modalities.contains(modality) else { return nil }
    return Linear(weight: parameters.view("projection.\(modality.rawValue).weight"), bias: nil)
  }

  public var logitScale: Float {
    get { parameters.view("logit_scale").value[0] }
    set { parameters.view("logit_scale").value[0] = newValue }
  }

  /// CLIP's initialisation: projections Normal(0, W^-½), logit scale ln(1/0.07).
  public func initialise(_ rng: inout SeededRNG) {
    let std = 1 / Float(inputWidth).squareRoot()
    for modality in modalities {
      let weight = parameters.view("projection.\(modality.rawValue).weight")
      for index in 0..<weight.count { weight.value[index] = rng.normal(mean: 0, std: std) }
    }
    logitScale = InfoNCE.initialLogitScale
  }

  /// Projects `pooled` `[B, W]` of `modality` into the shared space and
  /// L2-normalises each row: `[B, E]` unit vectors.
  public func embed(_ pooled: Tensor, modality: Modality) -> Tensor {
    guard let projection = projection(modality) else { preconditionFailure("no projection for \(modality)") }
    let rows = pooled.shape[0]
    let output = Tensor(shape: [rows, embeddingWidth])
    projection.forward(output: output.data, input: pooled.data, rows: rows)
    for row in 0..<rows {
      let vector = output.data + row * embeddingWidth
      let norm = (0..<embeddingWidth).reduce(Float(0)) { $0 + vector[$1] * vector[$1] }.squareRoot()
      if norm > 0 { for c in 0..<embeddingWidth { vector[c] /= norm } }
    }
    return output
  }

  /// JSON description stored in model files (`projections` metadata).
  public struct Record: Codable, Equatable, Sendable {
    public var modalities: [Modality]
    public var inputWidth: Int
    public var embeddingWidth: Int
    public var pooling: Pooling
  }
}
