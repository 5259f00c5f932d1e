import Kernels

/// Largest elementwise difference between two equally long sequences, with
/// the index where it occurs (for reporting the worst element).
public func worstDifference<A: Collection, B: Collection>(_ a: A, _ b: B) -> (
  absolute: Double, relative: Double, index: Int
) where A.Element: BinaryFloatingPoint, B.Element: BinaryFloatingPoint {
  precondition(a.count == b.count, "worstDifference: \(a.count) vs \(b.count) elements")
  var worst = (absolute: 0.0, relative: 0.0, index: -1)
  for (index, (x, y)) in zip(a, b).enumerated() {
    let difference = abs(Double(x) - Double(y))
    let relative = difference / max(abs(Double(x)), abs(Double(y)), 1e-30)
    if difference > worst.absolute || !difference.isFinite {
      worst = (difference, relative, index)
    }
  }
  return worst
}

/// Relative error of `actual` against `expected` as a whole: ‖a − e‖∞ / max(‖e‖∞, floor).
public func relativeError<A: Collection, B: Collection>(
  _ actual: A, _ expected: B, floor: Double = 1e-6
) -> Double where A.Element: BinaryFloatingPoint, B.Element: BinaryFloatingPoint {
  let worst = worstDifference(actual, expected)
  let scale = expected.reduce(0.0) { max($0, abs(Double($1))) }
  return worst.absolute / max(scale, floor)
}
