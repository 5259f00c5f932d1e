/// Row reductions (sum, dot products, maximum) written on `SIMD8<Float>` lanes.
///
/// A loop that folds into one `Float` accumulator is a serial dependence chain
/// that LLVM may not reorder (Swift has no fast-math), so it runs one element
/// per add latency; eight independent lanes let it vectorise. The additions
/// happen in another order than a left-to-right sum, which changes rounding
/// only; the kernels that use these are compared with their Double twins.
enum Reduce {
  private typealias Lanes = SIMD8<Float>

  @inline(__always)
  private static func load(_ pointer: UnsafePointer<Float>) -> Lanes {
    UnsafeRawPointer(pointer).loadUnaligned(as: Lanes.self)
  }

  /// `Σ x[i]` over `count` elements.
  @inline(__always)
  static func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
    var lanes = Lanes()
    var index = 0
    while index + Lanes.scalarCount <= count {
      lanes += load(x + index)
      index += Lanes.scalarCount
    }
    var total = lanes.sum()
    while index < count {
      total += x[index]
      index += 1
    }
    return total
  }

  /// `Σ x[i] y[i]` over `count` elements.
  @inline(__always)
  static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count: Int) -> Float {
    var lanes = Lanes()
    var index = 0
    while index + Lanes.scalarCount <= count {
      lanes += load(x + index) * load(y + index)
      index += Lanes.scalarCount
    }
    var total = lanes.sum()
    while index < count {
      total += x[index] * y[index]
      index += 1
    }
    return total
  }

  /// `Σ (x[i] − centre)²` over `count` elements.
  @inline(__always)
  static func squaredDeviation(_ x: UnsafePointer<Float>, from centre: Float, count: Int) -> Float {
    var lanes = Lanes()
    var index = 0
    while index + Lanes.scalarCount <= count {
      let centred = load(x + index) - centre
      lanes += centred * centred
      index += Lanes.scalarCount
    }
    var total = lanes.sum()
    while index < count {
      let centred = x[index] - centre
      total += centred * centred
      index += 1
    }
    return total
  }

  /// `Σ x[i] y[i] (z[i] − centre)` over `count` elements.
  @inline(__always)
  static func centredProduct(
    _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ z: UnsafePointer<Float>,
    centre: Float, count: Int
  ) -> Float {
    var lanes = Lanes()
    var index = 0
    while index + Lanes.scalarCount <= count {
      lanes += load(x + index) * load(y + index) * (load(z + index) - centre)
      index += Lanes.scalarCount
    }
    var total = lanes.sum()
    while index < count {
      total += x[index] * y[index] * (z[index] - centre)
      index += 1
    }
    return total
  }

  /// The largest `x[i]` over `count` elements, among those with `keep[i] != 0`
  /// when `keep` is given; `-infinity` when none is kept.
  @inline(__always)
  static func maximum(_ x: UnsafePointer<Float>, count: Int, keeping keep: UnsafePointer<Float>?)
    -> Float
  {
    var lanes = Lanes(repeating: -.infinity)
    var index = 0
    // `replace(with:where:)` inlines to a compare and a blend; `pointwiseMax`
    // and `SIMD.max()` are out-of-line calls into the standard library.
    if let keep {
      while index + Lanes.scalarCount <= count {
        let values = load(x + index)
        lanes.replace(with: values, where: (values .> lanes) .& (load(keep + index) .!= 0))
        index += Lanes.scalarCount
      }
    } else {
      while index + Lanes.scalarCount <= count {
        let values = load(x + index)
        lanes.replace(with: values, where: values .> lanes)
        index += Lanes.scalarCount
      }
    }
    var result = lanes[0]
    for lane in 1..<Lanes.scalarCount { result = Swift.max(result, lanes[lane]) }
    while index < count {
      if keep.map({ $0[index] != 0 }) ?? true { result = Swift.max(result, x[index]) }
      index += 1
    }
    return result
  }
}
