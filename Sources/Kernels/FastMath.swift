import Foundation

/// Branch-free scalar approximations of `exp` and `erf`, written so that LLVM
/// vectorises the loops that call them (no traps, no library calls).
/// `Foundation.exp`/`erf` are their plain twins in the tests.
public enum FastMath {
  /// `e^x` to about 2 ulp for x in [-87, 88]; inputs are clamped to that range
  /// (so `exp(-inf)` gives ~1e-38, not 0: callers that need exact zeros mask them).
  ///
  /// Cody–Waite reduction `x = k·ln2 + r`, |r| ≤ ln2/2, then a degree-6
  /// polynomial for `e^r`, scaled by `2^k` built in the exponent bits.
  @inline(__always)
  public static func exp(_ x: Float) -> Float {
    let clamped = Swift.min(Swift.max(x, -87.0), 88.0)
    // Adding 1.5·2^23 rounds to the nearest integer in the low mantissa bits.
    let magic: Float = 12_582_912
    let shifted = clamped * 1.442_695_04 + magic
    let k = shifted - magic
    let r = clamped - k * 0.693_145_75 - k * 1.428_606_8e-6
    var p: Float = 1.0 / 720
    p = p * r + 1.0 / 120
    p = p * r + 1.0 / 24
    p = p * r + 1.0 / 6
    p = p * r + 0.5
    p = p * r + 1
    p = p * r + 1
    let integerK = shifted.bitPattern &- magic.bitPattern
    let scale = Float(bitPattern: (integerK &+ 127) &<< 23)
    return p * scale
  }

  /// `erf(x)` with absolute error below 2e-7 (Abramowitz & Stegun 7.1.26, the
  /// same formula PyTorch's vectorised CPU erf uses).
  @inline(__always)
  public static func erf(_ x: Float) -> Float {
    let magnitude = Swift.abs(x)
    let t = 1 / (1 + 0.327_591_1 * magnitude)
    var poly: Float = 1.061_405_429
    poly = poly * t - 1.453_152_027
    poly = poly * t + 1.421_413_741
    poly = poly * t - 0.284_496_736
    poly = poly * t + 0.254_829_592
    let result = 1 - poly * t * exp(-magnitude * magnitude)
    return Float(sign: x.sign, exponent: result.exponent, significand: result.significand)
  }
}
