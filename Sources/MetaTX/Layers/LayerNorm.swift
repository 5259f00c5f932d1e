import Kernels

/// Layer normalisation over the channel dimension (PyTorch `nn.LayerNorm`,
/// biased variance), `y = (x − μ)/√(σ² + eps) · w + b`.
public struct LayerNorm {
  public let channels: Int
  public let eps: Float
  public let weight: ParameterView
  public let bias: ParameterView

  public init(weight: ParameterView, bias: ParameterView, eps: Float) {
    precondition(weight.shape.count == 1 && weight.shape == bias.shape,
      "LayerNorm \(weight.name) \(weight.shape) and \(bias.name) \(bias.shape) must be equal vectors")
    channels = weight.shape[0]
    self.eps = eps
    self.weight = weight
    self.bias = bias
  }

  public static func specs(_ prefix: String, channels: Int) -> [ParameterSpec] {
    [
      ParameterSpec("\(prefix).weight", [channels], decays: false),
      ParameterSpec("\(prefix).bias", [channels], decays: false),
    ]
  }

  /// Identity initialisation: weight 1, bias 0.
  public func initialise() {
    weight.value.update(repeating: 1, count: channels)
    bias.value.update(repeating: 0, count: channels)
  }

  /// - Parameters:
  ///   - output, input: `[rows, channels]`.
  ///   - mean, rstd: `[rows]`, saved for backward.
  public func forward(
    output: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>,
    rstd: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, rows: Int
  ) {
    Elementwise.layerNormForward(
      output: output, mean: mean, rstd: rstd, input: input, weight: weight.value,
      bias: bias.value, rows: rows, channels: channels, eps: eps)
  }

  /// Accumulates `dx` into `dInput` `[rows, channels]` and, unless frozen, `dw`, `db`.
  public func backward(
    dInput: UnsafeMutablePointer<Float>, dOutput: UnsafePointer<Float>,
    input: UnsafePointer<Float>, mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
    rows: Int, parameterGradients: Bool
  ) {
    Elementwise.layerNormBackward(
      dInput: dInput, dWeight: parameterGradients ? weight.gradient : nil,
      dBias: parameterGradients ? bias.gradient : nil, dOutput: dOutput, input: input,
      weight: weight.value, mean: mean, rstd: rstd, rows: rows, channels: channels)
  }
}
