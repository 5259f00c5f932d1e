import Kernels
import TestSupport
import XCTest

/// The kernels built on eight-lane reductions (`Reduce`) against their plain
/// twins at row widths that use both the lane loop and the scalar tail.
final class LaneReductionTests: XCTestCase {
  func testWideSoftmaxMatchesTwinWithAndWithoutMask() {
    let columns = 197, rowsPerMaskRow = 3
    let maskRows = 4
    let rows = maskRows * rowsPerMaskRow
    var rng = SeededRNG(seed: 31)
    // Mask row 0 keeps all, 1 drops columns in lane chunks and in the tail,
    // 2 keeps only the last (tail) column, 3 drops everything.
    var maskValues = [Float](repeating: 1, count: maskRows * columns)
    for column in 0..<columns where column % 5 == 0 || column >= 194 {
      maskValues[columns + column] = 0
    }
    for column in 0..<(columns - 1) { maskValues[2 * columns + column] = 0 }
    for column in 0..<columns { maskValues[3 * columns + column] = 0 }
    let mask = Tensor(shape: [maskRows, columns], values: maskValues)
    for threads in [1, 2] {
      Threads.configure(threads)
      for useMask in [false, true] {
        let fast = Tensor(shape: [rows, columns])
        rng.fillUniform(fast, -30, 30)
        let plain = Tensor(shape: fast.shape, values: fast.values)
        let keyMask = useMask ? UnsafePointer(mask.data) : nil
        Elementwise.softmaxRows(
          fast.data, rows: rows, columns: columns, keyMask: keyMask, rowsPerMaskRow: rowsPerMaskRow)
        Elementwise.naiveSoftmaxRows(
          plain.data, rows: rows, columns: columns, keyMask: keyMask, rowsPerMaskRow: rowsPerMaskRow)
        XCTAssertLessThan(
          worstDifference(fast.values, plain.values).absolute, 1e-6, "mask \(useMask)")
        if useMask {
          for row in 0..<rows {
            let maskRow = row / rowsPerMaskRow
            for column in 0..<columns where maskValues[maskRow * columns + column] == 0 {
              XCTAssertEqual(fast[row * columns + column], 0, "row \(row), column \(column)")
            }
          }
        }
      }
    }
    Threads.configure()
  }

  func testWideSoftmaxBackwardMatchesTwin() {
    let rows = 6, columns = 197
    var rng = SeededRNG(seed: 32)
    let p = Tensor(shape: [rows, columns])
    rng.fillUniform(p, -4, 4)
    Elementwise.naiveSoftmaxRows(p.data, rows: rows, columns: columns)
    let fast = Tensor(shape: [rows, columns])
    rng.fillUniform(fast, -1, 1)
    let plain = Tensor(shape: fast.shape, values: fast.values)
    Elementwise.softmaxRowsBackward(fast.data, probabilities: p.data, rows: rows, columns: columns)
    Elementwise.naiveSoftmaxRowsBackward(plain.data, probabilities: p.data, rows: rows, columns: columns)
    XCTAssertLessThan(worstDifference(fast.values, plain.values).absolute, 1e-6)
  }
}
