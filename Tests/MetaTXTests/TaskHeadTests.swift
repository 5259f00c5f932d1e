import MetaTX
import TestSupport
import XCTest

final class TaskHeadTests: XCTestCase {
  func testLinearAndMLPHeadGradients() {
    for kind in [HeadKind.linear, .mlp] {
      let batch = 3, width = 5, outputs = 4
      let head = TaskHead(kind: kind, inputWidth: width, outputs: outputs)
      var rng = SeededRNG(seed: 1)
      rng.fillUniform(head.parameters.values, -0.5, 0.5)
      let x = randomTensor([batch, width], seed: 2)
      let dy = randomTensor([batch, outputs], seed: 3)
      let loss = { () -> Double in
        let y = head.forward(x.data, batch: batch)
        return weightedSum(y.data, dy.data, count: y.count)
      }
      _ = head.forward(x.data, batch: batch)
      head.parameters.zeroGradients()
      let dx = head.backward(dy.data).values
      let inputCheck = checkGradient(values: x.data, analytic: dx, step: 1e-3, loss: loss)
      XCTAssertLessThan(inputCheck.worstError, 2e-2, "\(kind) input: \(inputCheck)")
      let parameterCheck = checkGradient(values: head.parameters.values.data, analytic: head.parameters.gradients.values,
        step: 1e-3, loss: loss)
      XCTAssertLessThan(parameterCheck.worstError, 2e-2, "\(kind) parameters: \(parameterCheck)")
    }
  }

  func testRidgeRecoversAnExactLinearMap() throws {
    // y = x · [[1, −2], [0.5, 3]]ᵀ... with weight rows per output and bias (0.25, −1).
    var rng = SeededRNG(seed: 4)
    let n = 50, width = 2, outputs = 2
    let trueWeight: [Float] = [1, -2, 0.5, 3]
    let trueBias: [Float] = [0.25, -1]
    var features: [Float] = [], targets: [Float] = []
    for _ in 0..<n {
      let x = [rng.uniform(-1, 1), rng.uniform(-1, 1)]
      features += x
      for k in 0..<outputs { targets.append(trueWeight[k * width] * x[0] + trueWeight[k * width + 1] * x[1] + trueBias[k]) }
    }
    let (weight, bias) = try RidgeProbe.fit(features: features, targets: targets, count: n, width: width,
      outputs: outputs, penalty: 1e-6)
    XCTAssertLessThan(worstDifference(weight, trueWeight).absolute, 1e-3)
    XCTAssertLessThan(worstDifference(bias, trueBias).absolute, 1e-3)
    // A large penalty shrinks the weights towards zero and the bias towards the target mean.
    let (shrunk, _) = try RidgeProbe.fit(features: features, targets: targets, count: n, width: width,
      outputs: outputs, penalty: 1e3)
    XCTAssertLessThan(shrunk.map(abs).max()!, 0.01)
  }
}
