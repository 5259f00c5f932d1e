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

  /// `erf(x)` with absolute error below 3e-7: the odd/even rational minimax
  /// fit `x·P(x²)/Q(x²)` on [-4, 4] (outside, erf is ±1 in Float) that Eigen
  /// (`generic_fast_erf_float`) and XLA use. No `exp` and one division, about
  /// half the work of the Abramowitz–Stegun 7.1.26 form with `exp`, which
  /// matters because GELU evaluates it on every hidden activation.
  @inline(__always)
  public static func erf(_ x: Float) -> Float {
    let clamped = Swift.min(Swift.max(x, -4), 4)
    let x2 = clamped * clamped
    var p: Float = -2.726_142_258_013_06e-10
    p = p * x2 + 2.770_681_424_959_02e-08
    p = p * x2 - 2.101_024_020_825_08e-06
    p = p * x2 - 5.692_506_394_623_46e-05
    p = p * x2 - 7.349_906_303_268_55e-04
    p = p * x2 - 2.954_599_808_540_25e-03
    p = p * x2 - 1.609_603_332_624_15e-02
    var q: Float = -1.456_607_184_649_96e-05
    q = q * x2 - 2.133_740_552_789_05e-04
    q = q * x2 - 1.682_826_974_382_03e-03
    q = q * x2 - 7.373_329_167_204_68e-03
    q = q * x2 - 1.426_473_905_141_89e-02
    return clamped * p / q
  }
}
