import MetaTX
import TestSupport
import XCTest

final class LossGradientTests: XCTestCase {
  private let tolerance = 2e-2

  func testCrossEntropyWithWeightsAndSmoothing() {
    let batch = 5, classes = 4
    let logits = randomTensor([batch, classes], seed: 1, scale: 3)
    let targets = [0, 3, 1, 1, 2]
    let weights: [Float] = [0.5, 2, 1, 1.5]
    for (classWeights, smoothing) in [(nil, Float(0)), (weights, Float(0.1)), (nil, Float(0.2))] as [([Float]?, Float)] {
      let loss = { () -> Double in
        Double(Loss.softmaxCrossEntropy(logits: logits.data, targets: targets, classes: classes,
          classWeights: classWeights, labelSmoothing: smoothing))
      }
      let d = Tensor(shape: logits.shape)
      _ = Loss.softmaxCrossEntropy(logits: logits.data, targets: targets, classes: classes,
        classWeights: classWeights, labelSmoothing: smoothing, dLogits: d.data)
      XCTAssertLessThan(checkGradient(values: logits.data, analytic: d.values, step: 1e-2, loss: loss).worstError, tolerance)
    }
    // Known value: uniform logits over 4 classes give ln 4.
    let uniform = Tensor(shape: [1, 4])
    XCTAssertEqual(Loss.softmaxCrossEntropy(logits: uniform.data, targets: [2], classes: 4), Float(log(4.0)), accuracy: 1e-6)
  }

  func testBinaryCrossEntropyAndMeanSquaredError() {
    let logits = randomTensor([12], seed: 2, scale: 4)
    let targets = Tensor(shape: [12], values: [1, 0, 0, 1, 1, 1, 0, 0, 1, 0, 1, 0])
    let d = Tensor(shape: [12])
    _ = Loss.binaryCrossEntropyWithLogits(logits: logits.data, targets: targets.data, count: 12, dLogits: d.data)
    let bce = { Double(Loss.binaryCrossEntropyWithLogits(logits: logits.data, targets: targets.data, count: 12)) }
    XCTAssertLessThan(checkGradient(values: logits.data, analytic: d.values, loss: bce).worstError, tolerance)
    let predictions = randomTensor([7], seed: 3)
    let truth = randomTensor([7], seed: 4)
    let dp = Tensor(shape: [7])
    _ = Loss.meanSquaredError(predictions: predictions.data, targets: truth.data, count: 7, dPredictions: dp.data)
    let mse = { Double(Loss.meanSquaredError(predictions: predictions.data, targets: truth.data, count: 7)) }
    XCTAssertLessThan(checkGradient(values: predictions.data, analytic: dp.values, loss: mse).worstError, tolerance)
  }

  func testInfoNCEGradientsIncludingLogitScale() {
    let batch = 4, width = 5
    let a = randomTensor([batch, width], seed: 5)
    let b = randomTensor([batch, width], seed: 6)
    let scale = Tensor(shape: [1], values: [2.3])
    let loss = { () -> Double in
      Double(InfoNCE.loss(a: a.data, b: b.data, batch: batch, width: width, logitScale: scale[0], dA: nil, dB: nil).loss)
    }
    let dA = Tensor(shape: a.shape), dB = Tensor(shape: b.shape)
    let result = InfoNCE.loss(a: a.data, b: b.data, batch: batch, width: width, logitScale: scale[0], dA: dA.data, dB: dB.data)
    XCTAssertLessThan(checkGradient(values: a.data, analytic: dA.values, step: 1e-3, loss: loss).worstError, tolerance)
    XCTAssertLessThan(checkGradient(values: b.data, analytic: dB.values, step: 1e-3, loss: loss).worstError, tolerance)
    XCTAssertLessThan(checkGradient(values: scale.data, analytic: [result.dLogitScale], step: 1e-3, loss: loss).worstError, tolerance)
    // Perfectly aligned pairs with a sharp temperature give a near-zero loss.
    let identity = Tensor(shape: [3, 3], values: [1, 0, 0, 0, 1, 0, 0, 0, 1])
    let aligned = InfoNCE.loss(a: identity.data, b: identity.data, batch: 3, width: 3,
      logitScale: InfoNCE.maximumLogitScale, dA: nil, dB: nil)
    XCTAssertLessThan(aligned.loss, 1e-6)
    XCTAssertEqual(aligned.accuracy, 1)
  }
}
