import MetaTX
import TestSupport
import XCTest

/// `Linear.forward` with a skip connection equals the plain forward followed by
/// an add, with and without bias, also when the output overwrites the residual.
final class LinearResidualTests: XCTestCase {
  func testResidualEqualsForwardThenAdd() {
    let rows = 7, inputs = 5, outputs = 6
    for hasBias in [true, false] {
      let set = ParameterSet(Linear.specs("fc", inputs: inputs, outputs: outputs, bias: hasBias))
      var rng = SeededRNG(seed: 21)
      rng.fillUniform(set.values, -1, 1)
      let linear = Linear(weight: set.view("fc.weight"), bias: hasBias ? set.view("fc.bias") : nil)
      let x = randomTensor([rows, inputs], seed: 22)
      let residual = randomTensor([rows, outputs], seed: 23)
      let plain = Tensor(shape: [rows, outputs])
      linear.forward(output: plain.data, input: x.data, rows: rows)
      let expected = zip(plain.values, residual.values).map { $0 + $1 }

      let fused = Tensor(shape: [rows, outputs])
      linear.forward(output: fused.data, input: x.data, rows: rows, residual: residual.data)
      XCTAssertLessThan(worstDifference(fused.values, expected).absolute, 1e-6, "bias \(hasBias)")

      // In place: the residual stream is overwritten by its updated value.
      linear.forward(output: residual.data, input: x.data, rows: rows, residual: residual.data)
      XCTAssertLessThan(
        worstDifference(residual.values, expected).absolute, 1e-6, "in place, bias \(hasBias)")
    }
  }
}
