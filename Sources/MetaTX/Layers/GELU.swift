import Kernels

/// The exact (erf) Gaussian error linear unit, `y = x · Φ(x)`
/// (PyTorch `nn.GELU(approximate="none")`, as in timm's ViT MLP). No parameters.
public enum GELU {
  /// - Parameters: output, input: `count` elements.
  public static func forward(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, count: Int) {
    Elementwise.geluForward(output: output, input: input, count: count)
  }

  /// Accumulates `dy · (Φ(x) + x φ(x))` into `dInput` (`count` elements), or
  /// overwrites it when `accumulate` is false.
  public static func backward(
    dInput: UnsafeMutablePointer<Float>, dOutput: UnsafePointer<Float>,
    input: UnsafePointer<Float>, count: Int, accumulate: Bool = true
  ) {
    Elementwise.geluBackward(
      dInput: dInput, dOutput: dOutput, input: input, count: count, accumulate: accumulate)
  }
}
