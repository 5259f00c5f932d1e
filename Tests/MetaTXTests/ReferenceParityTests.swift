import MetaTX
import TestSupport
import XCTest

/// Agreement with the independent float64 reference and with PyTorch/timm
/// (fixtures from `Scripts/reference/make_fixtures.py`): the proof that the
/// encoder, its gradients, the losses and AdamW are the real ones.
final class ReferenceParityTests: XCTestCase {
  func testEncoderMatchesTimmForwardAndBackward() throws {
    let fixture = try openFixture("encoder_d64_l2_h4.safetensors")
    let encoder = try Encoder.load(from: fixture, allowOtherTensors: true)
    XCTAssertEqual(encoder.config, EncoderConfig(dim: 64, depth: 2, heads: 4, mlpHidden: 256, eps: 1e-5))
    let x = try fixture.tensor("x")
    let dy = try fixture.tensor("dy")
    for (maskName, suffix) in [(nil, ""), ("mask", "_masked")] as [(String?, String)] {
      let mask = try maskName.map { try fixture.tensor($0) }
      let y = encoder.forward(x.data, batch: 2, tokens: 10, keyMask: mask?.data, keepActivations: true)
      let output = Array(UnsafeBufferPointer(start: y, count: x.count))
      XCTAssertLessThan(relativeError(output, try fixture.floats("y\(suffix)")), 1e-5, "forward\(suffix)")
      encoder.parameters.zeroGradients()
      let dx = Array(UnsafeBufferPointer(start: encoder.backward(dy.data), count: x.count))
      XCTAssertLessThan(relativeError(dx, try fixture.floats("dx\(suffix)")), 1e-4, "dx\(suffix)")
      let gradientPrefix = maskName == nil ? "grad." : "grad_masked."
      for entry in encoder.parameters.entries {
        let ours = Array(UnsafeBufferPointer(start: encoder.parameters.gradients.data + entry.offset, count: entry.count))
        let error = relativeError(ours, try fixture.floats(gradientPrefix + entry.name))
        XCTAssertLessThan(error, 1e-4, "\(gradientPrefix)\(entry.name)")
      }
    }
  }

  func testEncoderFileRoundTripAndHeadsFromMetadata() throws {
    let fixture = try openFixture("encoder_d64_l2_h4.safetensors")
    let encoder = try Encoder.load(from: fixture, allowOtherTensors: true)
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("metatx-\(UUID())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let path = folder.appendingPathComponent("encoder.safetensors").path
    try encoder.write(to: path)
    let reloaded = try Encoder.load(path: path, heads: 1)  // metadata wins over the argument
    XCTAssertEqual(reloaded.config, encoder.config)
    XCTAssertEqual(reloaded.parameters.values.values, encoder.parameters.values.values)
    // A pure encoder file refuses tensors that are not the encoder's.
    XCTAssertThrowsError(try Encoder.load(from: fixture)) { error in
      XCTAssertTrue("\(error)".contains("not part of a 2-block encoder"), "\(error)")
    }
  }

  func testAdamWMatchesTorch() throws {
    let golden = try openFixture("adamw_golden.safetensors")
    let set = ParameterSet([
      ParameterSpec("p0", [3, 4], decays: true), ParameterSpec("p1", [5], decays: true),
      ParameterSpec("p2", [4], decays: false),
    ])
    for name in ["p0", "p1", "p2"] {
      let view = set.view(name)
      let initial = try golden.floats("init.\(name)")
      view.value.update(from: initial, count: initial.count)
    }
    let optimiser = AdamW(groups: [ParameterGroup(set)], beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1)
    for step in 1...5 {
      for name in ["p0", "p1", "p2"] {
        let gradient = try golden.floats("grad.t\(step).\(name)")
        set.view(name).gradient.update(from: gradient, count: gradient.count)
      }
      optimiser.update(learningRate: 0.01)
      for name in ["p0", "p1", "p2"] {
        let view = set.view(name)
        let ours = Array(UnsafeBufferPointer(start: view.value, count: view.count))
        let worst = worstDifference(ours, try golden.floats("after.t\(step).\(name)"))
        XCTAssertLessThan(worst.absolute, 2e-6, "step \(step) \(name) element \(worst.index)")
      }
    }
  }

  func testLossesMatchTorch() throws {
    let golden = try openFixture("losses_golden.safetensors")
    let logits = try golden.tensor("ce.logits")
    let targets = try golden.floats("ce.target").map { Int($0) }
    let d = Tensor(shape: logits.shape)
    let weighted = Loss.softmaxCrossEntropy(logits: logits.data, targets: targets, classes: 5,
      classWeights: try golden.floats("ce.weights"), labelSmoothing: 0.1, dLogits: d.data)
    XCTAssertEqual(weighted, try golden.floats("ce.loss")[0], accuracy: 1e-6)
    XCTAssertLessThan(worstDifference(d.values, try golden.floats("ce.dlogits")).absolute, 1e-6)
    let plain = Loss.softmaxCrossEntropy(logits: logits.data, targets: targets, classes: 5, dLogits: d.data)
    XCTAssertEqual(plain, try golden.floats("ce_plain.loss")[0], accuracy: 1e-6)
    XCTAssertLessThan(worstDifference(d.values, try golden.floats("ce_plain.dlogits")).absolute, 1e-6)

    let bceLogits = try golden.tensor("bce.logits")
    let bceTargets = try golden.tensor("bce.targets")
    let dBCE = Tensor(shape: bceLogits.shape)
    let bce = Loss.binaryCrossEntropyWithLogits(logits: bceLogits.data, targets: bceTargets.data,
      count: bceLogits.count, dLogits: dBCE.data)
    XCTAssertEqual(bce, try golden.floats("bce.loss")[0], accuracy: 1e-6)
    XCTAssertLessThan(worstDifference(dBCE.values, try golden.floats("bce.dlogits")).absolute, 1e-7)

    let predictions = try golden.tensor("mse.pred")
    let truth = try golden.tensor("mse.target")
    let dMSE = Tensor(shape: predictions.shape)
    let mse = Loss.meanSquaredError(predictions: predictions.data, targets: truth.data,
      count: predictions.count, dPredictions: dMSE.data)
    XCTAssertEqual(mse, try golden.floats("mse.loss")[0], accuracy: 1e-6)
    XCTAssertLessThan(worstDifference(dMSE.values, try golden.floats("mse.dpred")).absolute, 1e-6)

    let a = try golden.tensor("infonce.a")
    let b = try golden.tensor("infonce.b")
    let dA = Tensor(shape: a.shape), dB = Tensor(shape: b.shape)
    let result = InfoNCE.loss(a: a.data, b: b.data, batch: 6, width: 8,
      logitScale: try golden.floats("infonce.logit_scale")[0], dA: dA.data, dB: dB.data)
    XCTAssertEqual(result.loss, try golden.floats("infonce.loss")[0], accuracy: 1e-5)
    XCTAssertEqual(result.dLogitScale, try golden.floats("infonce.dlogit_scale")[0], accuracy: 1e-5)
    XCTAssertLessThan(worstDifference(dA.values, try golden.floats("infonce.da")).absolute, 1e-5)
    XCTAssertLessThan(worstDifference(dB.values, try golden.floats("infonce.db")).absolute, 1e-5)
  }
}
