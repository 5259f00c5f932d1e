import Foundation
import Kernels
import TestSupport
import XCTest

final class ElementwiseTests: XCTestCase {
  private func random(_ count: Int, seed: UInt64, scale: Float = 3) -> Tensor {
    var rng = SeededRNG(seed: seed)
    let tensor = Tensor(shape: [count])
    rng.fillUniform(tensor, -scale, scale)
    return tensor
  }

  func testFastExpAndErfAgainstFoundation() {
    var worstExp = 0.0
    var worstErf = 0.0
    for step in -8000...8000 {
      let x = Float(step) * 0.01
      let relative = abs(Double(FastMath.exp(x)) - Foundation.exp(Double(x))) / Foundation.exp(Double(x))
      worstExp = max(worstExp, relative)
      worstErf = max(worstErf, abs(Double(FastMath.erf(x)) - Foundation.erf(Double(x))))
    }
    XCTAssertLessThan(worstExp, 5e-7, "exp relative error")
    XCTAssertLessThan(worstErf, 3e-7, "erf absolute error")
    XCTAssertEqual(FastMath.erf(0), 0)
    XCTAssertEqual(FastMath.erf(-1), -FastMath.erf(1))
  }

  func testSoftmaxMatchesTwinWithAndWithoutMask() {
    let rows = 12, columns = 7
    for threads in [1, 2] {
      Threads.configure(threads)
      let mask = Tensor(shape: [3, columns], values: [
        1, 1, 1, 1, 1, 1, 1,
        1, 1, 0, 0, 1, 0, 1,
        0, 0, 0, 0, 0, 0, 0,
      ])
      for useMask in [false, true] {
        let fast = random(rows * columns, seed: 5, scale: 20)
        let plain = Tensor(shape: fast.shape, values: fast.values)
        Elementwise.softmaxRows(fast.data, rows: rows, columns: columns,
          keyMask: useMask ? UnsafePointer(mask.data) : nil, rowsPerMaskRow: 4)
        Elementwise.naiveSoftmaxRows(plain.data, rows: rows, columns: columns,
          keyMask: useMask ? UnsafePointer(mask.data) : nil, rowsPerMaskRow: 4)
        XCTAssertLessThan(worstDifference(fast.values, plain.values).absolute, 1e-6)
        if useMask {
          // Rows 4..<8 use mask row 1: masked columns are exactly zero; rows 8..<12 all masked.
          for row in 4..<8 {
            for column in [2, 3, 5] { XCTAssertEqual(fast[row * columns + column], 0) }
          }
          for index in (8 * columns)..<(12 * columns) { XCTAssertEqual(fast[index], 0) }
        } else {
          for row in 0..<rows {
            let sum = (0..<columns).reduce(Float(0)) { $0 + fast[row * columns + $1] }
            XCTAssertEqual(sum, 1, accuracy: 1e-5)
          }
        }
      }
    }
    Threads.configure()
  }

  func testSoftmaxBackwardMatchesTwin() {
    let rows = 9, columns = 11
    let p = random(rows * columns, seed: 1)
    Elementwise.naiveSoftmaxRows(p.data, rows: rows, columns: columns)
    let fast = random(rows * columns, seed: 2)
    let plain = Tensor(shape: fast.shape, values: fast.values)
    Elementwise.softmaxRowsBackward(fast.data, probabilities: p.data, rows: rows, columns: columns)
    Elementwise.naiveSoftmaxRowsBackward(plain.data, probabilities: p.data, rows: rows, columns: columns)
    XCTAssertLessThan(worstDifference(fast.values, plain.values).absolute, 1e-6)
  }

  func testLayerNormForwardBackwardMatchTwins() {
    for (rows, channels) in [(1, 1), (5, 3), (300, 130)] {
      let input = random(rows * channels, seed: 4)
      let weight = random(channels, seed: 5)
      let bias = random(channels, seed: 6)
      let outFast = Tensor(shape: [rows * channels]), outPlain = Tensor(shape: [rows * channels])
      let meanFast = Tensor(shape: [rows]), meanPlain = Tensor(shape: [rows])
      let rstdFast = Tensor(shape: [rows]), rstdPlain = Tensor(shape: [rows])
      Elementwise.layerNormForward(output: outFast.data, mean: meanFast.data, rstd: rstdFast.data,
        input: input.data, weight: weight.data, bias: bias.data, rows: rows, channels: channels, eps: 1e-5)
      Elementwise.naiveLayerNormForward(output: outPlain.data, mean: meanPlain.data, rstd: rstdPlain.data,
        input: input.data, weight: weight.data, bias: bias.data, rows: rows, channels: channels, eps: 1e-5)
      XCTAssertLessThan(relativeError(outFast.values, outPlain.values), 1e-5, "\(rows)×\(channels)")
      let dOut = random(rows * channels, seed: 8)
      let dxFast = random(rows * channels, seed: 9), dxPlain = Tensor(shape: dxFast.shape, values: dxFast.values)
      let dwFast = random(channels, seed: 10), dwPlain = Tensor(shape: dwFast.shape, values: dwFast.values)
      let dbFast = random(channels, seed: 12), dbPlain = Tensor(shape: dbFast.shape, values: dbFast.values)
      Elementwise.layerNormBackward(dInput: dxFast.data, dWeight: dwFast.data, dBias: dbFast.data,
        dOutput: dOut.data, input: input.data, weight: weight.data, mean: meanPlain.data,
        rstd: rstdPlain.data, rows: rows, channels: channels)
      Elementwise.naiveLayerNormBackward(dInput: dxPlain.data, dWeight: dwPlain.data, dBias: dbPlain.data,
        dOutput: dOut.data, input: input.data, weight: weight.data, mean: meanPlain.data,
        rstd: rstdPlain.data, rows: rows, channels: channels)
      XCTAssertLessThan(relativeError(dxFast.values, dxPlain.values), 1e-4)
      XCTAssertLessThan(relativeError(dwFast.values, dwPlain.values), 1e-4)
      XCTAssertLessThan(relativeError(dbFast.values, dbPlain.values), 1e-5)
    }
  }

  func testGeluForwardBackwardMatchTwinsAndKnownValues() {
    let count = 70_001
    let input = random(count, seed: 13, scale: 6)
    let fast = Tensor(shape: [count]), plain = Tensor(shape: [count])
    Elementwise.geluForward(output: fast.data, input: input.data, count: count)
    Elementwise.naiveGeluForward(output: plain.data, input: input.data, count: count)
    XCTAssertLessThan(worstDifference(fast.values, plain.values).absolute, 2e-6)
    let dOut = random(count, seed: 14)
    let dFast = Tensor(shape: [count]), dPlain = Tensor(shape: [count])
    Elementwise.geluBackward(dInput: dFast.data, dOutput: dOut.data, input: input.data, count: count)
    Elementwise.naiveGeluBackward(dInput: dPlain.data, dOutput: dOut.data, input: input.data, count: count)
    XCTAssertLessThan(worstDifference(dFast.values, dPlain.values).absolute, 5e-6)
    // Overwriting ignores what the gradient buffers held (here the accumulated result).
    Elementwise.geluBackward(
      dInput: dFast.data, dOutput: dOut.data, input: input.data, count: count, accumulate: false)
    Elementwise.naiveGeluBackward(
      dInput: dPlain.data, dOutput: dOut.data, input: input.data, count: count, accumulate: false)
    XCTAssertLessThan(worstDifference(dFast.values, dPlain.values).absolute, 5e-6)
    // torch.nn.functional.gelu(torch.tensor([1.0, -0.5, 2.0])) = [0.8413447, -0.1542687, 1.9544997]
    let known = Tensor(shape: [3], values: [1, -0.5, 2])
    let knownOut = Tensor(shape: [3])
    Elementwise.geluForward(output: knownOut.data, input: known.data, count: 3)
    XCTAssertEqual(knownOut[0], 0.841_344_7, accuracy: 1e-6)
    XCTAssertEqual(knownOut[1], -0.154_268_7, accuracy: 1e-6)
    XCTAssertEqual(knownOut[2], 1.954_499_7, accuracy: 1e-6)
  }

  func testSimpleMaps() {
    let a = Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
    let b = Tensor(shape: [2, 3], values: [10, 20, 30, 40, 50, 60])
    Elementwise.scale(a.data, count: 6, by: 2)
    XCTAssertEqual(a.values, [2, 4, 6, 8, 10, 12])
    let bias = Tensor(shape: [3], values: [1, 0, -1])
    Elementwise.addRowVector(output: b.data, b.data, rows: 2, columns: 3, vector: bias.data)
    XCTAssertEqual(b.values, [11, 20, 29, 41, 50, 59])
    let rows = Tensor(shape: [2, 3])
    Elementwise.broadcastRows(output: rows.data, rows: 2, columns: 3, vector: bias.data)
    XCTAssertEqual(rows.values, [1, 0, -1, 1, 0, -1])
    let sums = Tensor(shape: [3], values: [1, 1, 1])
    Elementwise.accumulateColumnSums(sums.data, of: b.data, rows: 2, columns: 3)
    XCTAssertEqual(sums.values, [53, 71, 89])
  }
}
