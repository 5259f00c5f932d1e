import Kernels

/// A fully connected layer, `y = x · Wᵀ + b` (PyTorch `nn.Linear`).
///
/// `W` is `[outputs, inputs]`, `b` is `[outputs]`. All rows of a batch go
/// through one GEMM (rows = batch × tokens).
public struct Linear {
  public let inputs: Int
  public let outputs: Int
  public let weight: ParameterView
  public let bias: ParameterView?

  public init(weight: ParameterView, bias: ParameterView?) {
    precondition(weight.shape.count == 2, "Linear weight \(weight.name) must be 2-D, is \(weight.shape)")
    outputs = weight.shape[0]
    inputs = weight.shape[1]
    if let bias {
      precondition(bias.shape == [outputs], "Linear bias \(bias.name) \(bias.shape) ≠ [\(outputs)]")
    }
    self.weight = weight
    self.bias = bias
  }

  /// The parameters of a Linear called `prefix` (`prefix.weight`, `prefix.bias`).
  public static func specs(_ prefix: String, inputs: Int, outputs: Int, bias: Bool = true)
    -> [ParameterSpec]
  {
    var specs = [ParameterSpec("\(prefix).weight", [outputs, inputs], decays: true)]
    if bias { specs.append(ParameterSpec("\(prefix).bias", [outputs], decays: false)) }
    return specs
  }

  /// timm's ViT initialisation: truncated normal (std 0.02) weights, zero bias.
  public func initialise(_ rng: inout SeededRNG, std: Float = 0.02) {
    for index in 0..<weight.count {
      weight.value[index] = rng.truncatedNormal(std: std, low: -2 * std, high: 2 * std)
    }
    bias?.value.update(repeating: 0, count: outputs)
  }

  /// `output = x · Wᵀ + b`, or `residual + x · Wᵀ + b` with a residual.
  ///
  /// Bias and residual are written into `output` first and the GEMM adds onto
  /// them with beta 1: OpenBLAS clears C in a separate pass for beta 0 anyway,
  /// so this costs one pass where a GEMM and then an add would cost two.
  ///
  /// - Parameters:
  ///   - output: `[rows, outputs]`, overwritten; may alias `residual`.
  ///   - input: `[rows, inputs]`.
  ///   - residual: `[rows, outputs]` added to the result (a skip connection), or nil.
  public func forward(
    output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, rows: Int,
    residual: UnsafePointer<Float>? = nil
  ) {
    switch (bias, residual) {
    case (let bias?, let residual?):
      Elementwise.addRowVector(
        output: output, residual, rows: rows, columns: outputs, vector: bias.value)
    case (let bias?, nil):
      Elementwise.broadcastRows(output: output, rows: rows, columns: outputs, vector: bias.value)
    case (nil, let residual?):
      if output != UnsafeMutablePointer(mutating: residual) {
        output.update(from: residual, count: rows * outputs)
      }
    case (nil, nil):
      break
    }
    Linalg.gemm(
      .none, .transposed, m: rows, n: outputs, k: inputs, a: input, lda: inputs,
      b: weight.value, ldb: inputs, beta: bias == nil && residual == nil ? 0 : 1, c: output,
      ldc: outputs)
  }

  /// - Parameters:
  ///   - dInput: `[rows, inputs]`; receives `dy · W`, added when `accumulate`,
  ///     else overwritten. Nil when no upstream layer needs it.
  ///   - dOutput: `[rows, outputs]`.
  ///   - input: `[rows, inputs]`, the forward input.
  ///   - parameterGradients: false for a frozen layer (`dW`, `db` untouched).
  public func backward(
    dInput: UnsafeMutablePointer<Float>?, accumulate: Bool, dOutput: UnsafePointer<Float>,
    input: UnsafePointer<Float>, rows: Int, parameterGradients: Bool
  ) {
    if let dInput {
      Linalg.gemm(
        .none, .none, m: rows, n: inputs, k: outputs, a: dOutput, lda: outputs,
        b: weight.value, ldb: inputs, beta: accumulate ? 1 : 0, c: dInput, ldc: inputs)
    }
    guard parameterGradients else { return }
    // dW[outputs, inputs] += dyᵀ[outputs, rows] · x[rows, inputs]
    Linalg.gemm(
      .transposed, .none, m: outputs, n: inputs, k: rows, a: dOutput, lda: outputs,
      b: input, ldb: inputs, beta: 1, c: weight.gradient, ldc: inputs)
    if let bias {
      Elementwise.accumulateColumnSums(bias.gradient, of: dOutput, rows: rows, columns: outputs)
    }
  }
}
