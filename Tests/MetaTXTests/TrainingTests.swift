import Kernels
import MetaTX
import TestSupport
import XCTest

/// The training core end to end: a tiny encoder and a linear head learn a
/// small sequence-classification task with AdamW, and the loss goes down.
final class TrainingTests: XCTestCase {
  /// Sequences of noise where one random position carries the class prototype.
  private func makeBatch(_ rng: inout SeededRNG, prototypes: [[Float]], batch: Int, tokens: Int, dim: Int)
    -> (Tensor, [Int])
  {
    let input = Tensor(shape: [batch, tokens, dim])
    var labels: [Int] = []
    for b in 0..<batch {
      let label = Int(rng.next() % UInt64(prototypes.count))
      labels.append(label)
      let position = Int(rng.next() % UInt64(tokens))
      for t in 0..<tokens {
        for c in 0..<dim {
          let signal = t == position ? prototypes[label][c] : 0
          input[(b * tokens + t) * dim + c] = signal + rng.normal(mean: 0, std: 0.5)
        }
      }
    }
    return (input, labels)
  }

  private func train(frozenEncoder: Bool) -> (first: Float, last: Float, accuracy: Float) {
    let config = EncoderConfig(dim: 16, depth: 2, heads: 2)
    var rng = SeededRNG(seed: 1)
    let encoder = Encoder(config: config, rng: &rng)
    encoder.isFrozen = frozenEncoder
    let classes = 3, batch = 32, tokens = 6
    let headParameters = ParameterSet(Linear.specs("head", inputs: config.dim, outputs: classes))
    let head = Linear(weight: headParameters.view("head.weight"), bias: headParameters.view("head.bias"))
    head.initialise(&rng, std: 0.1)
    let prototypes = (0..<classes).map { _ in (0..<config.dim).map { _ in rng.normal(mean: 0, std: 1.5) } }
    let optimiser = AdamW(groups: [ParameterGroup(encoder.parameters), ParameterGroup(headParameters)], weightDecay: 0.01)
    let steps = 150
    let schedule = WarmupCosineSchedule(peak: 3e-3, warmupSteps: 5, totalSteps: steps)
    let pooled = Tensor(shape: [batch, config.dim]), logits = Tensor(shape: [batch, classes])
    let dLogits = Tensor(shape: [batch, classes]), dPooled = Tensor(shape: [batch, config.dim])
    let dTokens = Tensor(shape: [batch, tokens, config.dim])
    var losses: [Float] = []
    var correct = 0
    for step in 0..<steps {
      let (input, labels) = makeBatch(&rng, prototypes: prototypes, batch: batch, tokens: tokens, dim: config.dim)
      encoder.parameters.zeroGradients()
      headParameters.zeroGradients()
      let encoded = encoder.forward(input.data, batch: batch, tokens: tokens, keepActivations: true)
      Pooling.mean.forward(output: pooled.data, tokens: encoded, keyMask: nil, batch: batch, count: tokens, dim: config.dim)
      head.forward(output: logits.data, input: pooled.data, rows: batch)
      losses.append(Loss.softmaxCrossEntropy(logits: logits.data, targets: labels, classes: classes, dLogits: dLogits.data))
      if step >= steps - 10 {
        for b in 0..<batch {
          let row = (0..<classes).map { logits[b * classes + $0] }
          if row.firstIndex(of: row.max()!) == labels[b] { correct += 1 }
        }
      }
      head.backward(dInput: dPooled.data, accumulate: false, dOutput: dLogits.data, input: pooled.data, rows: batch,
        parameterGradients: true)
      dTokens.zero()
      Pooling.mean.backward(dTokens: dTokens.data, dOutput: dPooled.data, tokens: encoded, keyMask: nil, batch: batch,
        count: tokens, dim: config.dim)
      _ = encoder.backward(dTokens.data)
      clipGradientNorm([encoder.parameters, headParameters], maximumNorm: 1)
      optimiser.update(learningRate: schedule.learningRate(at: step))
    }
    let first = losses.prefix(5).reduce(0, +) / 5
    let last = losses.suffix(10).reduce(0, +) / 10
    return (first, last, Float(correct) / Float(10 * batch))
  }

  func testLossGoesDownWhenTheEncoderTrains() {
    let (first, last, accuracy) = train(frozenEncoder: false)
    XCTAssertLessThan(last, first * 0.3, "loss \(first) → \(last)")
    XCTAssertGreaterThan(accuracy, 0.9)
  }

  func testLossGoesDownWithAFrozenEncoder() {
    let (first, last, _) = train(frozenEncoder: true)
    XCTAssertLessThan(last, first * 0.8, "loss \(first) → \(last)")
  }

  func testFrozenParametersAreNotUpdated() {
    var rng = SeededRNG(seed: 2)
    let encoder = Encoder(config: EncoderConfig(dim: 8, depth: 1, heads: 2), rng: &rng)
    encoder.isFrozen = true
    let before = encoder.parameters.values.values
    rng.fillUniform(encoder.parameters.gradients, -1, 1)
    AdamW(groups: [ParameterGroup(encoder.parameters)]).update(learningRate: 0.1)
    XCTAssertEqual(encoder.parameters.values.values, before)
  }

  /// The update is split over workers in chunks; every element is
  /// independent, so 1 and 2 workers give the same bits (agreement with
  /// torch.optim.AdamW is the golden test's).
  func testAdamWUpdateIsTheSameOnAnyThreadCount() {
    func run(threads: Int) -> [Float] {
      Threads.configure(threads)
      defer { Threads.configure() }
      var rng = SeededRNG(seed: 7)
      // Big enough for several chunks, with a no-decay entry between decaying ones.
      let parameters = ParameterSet([
        ParameterSpec("a", [300, 400], decays: true), ParameterSpec("b", [1000], decays: false),
        ParameterSpec("c", [200, 300], decays: true),
      ])
      rng.fillUniform(parameters.values, -1, 1)
      let optimiser = AdamW(groups: [ParameterGroup(parameters)], weightDecay: 0.1)
      for _ in 0..<3 {
        rng.fillUniform(parameters.gradients, -1, 1)
        optimiser.update(learningRate: 0.01)
      }
      return parameters.values.values
    }
    let one = run(threads: 1), two = run(threads: 2)
    XCTAssertEqual(one.count, 300 * 400 + 1000 + 200 * 300)
    XCTAssertEqual(one.map(\.bitPattern), two.map(\.bitPattern))
  }

  /// Training steps of an encoder (forward, backward, AdamW) give the same bits
  /// on 1, 2 and 3 threads: GEMMs are split by rows of the output, never along
  /// the summed dimension, and the per-head and elementwise work is independent
  /// per slice. (With OpenBLAS's own threads the weight gradients' long sums
  /// were blocked differently by thread count.) Batch × tokens = 1576 rows, as
  /// at the benchmark's batch 8, with padding in one sequence.
  func testEncoderTrainingStepsAreTheSameOnAnyThreadCount() {
    func run(threads: Int) -> (parameters: [Float], dInput: [Float]) {
      Threads.configure(threads)
      defer { Threads.configure() }
      var rng = SeededRNG(seed: 21)
      let encoder = Encoder(config: EncoderConfig(dim: 96, depth: 2, heads: 3), rng: &rng)
      let (batch, tokens) = (8, 197)
      let input = Tensor(shape: [batch, tokens, 96])
      let dOutput = Tensor(shape: input.shape)
      let mask = Tensor(shape: [batch, tokens], values: (0..<(batch * tokens)).map { $0 < 150 ? 1 : ($0 < tokens ? 0 : 1) })
      let optimiser = AdamW(groups: [ParameterGroup(encoder.parameters)], weightDecay: 0.05)
      var dInput: [Float] = []
      // The raw pointers below do not keep their tensors alive.
      withExtendedLifetime((input, dOutput, mask)) {
        for _ in 0..<2 {
          rng.fillNormal(input, std: 1)
          rng.fillNormal(dOutput, std: 1)
          _ = encoder.forward(input.data, batch: batch, tokens: tokens, keyMask: mask.data, keepActivations: true)
          let gradient = encoder.backward(dOutput.data)
          dInput = Array(UnsafeBufferPointer(start: gradient, count: input.count))
          optimiser.update(learningRate: 1e-3)
          encoder.parameters.zeroGradients()
        }
      }
      return (encoder.parameters.values.values, dInput)
    }
    func differing(_ a: [Float], _ b: [Float]) -> Int {
      zip(a, b).filter { $0.bitPattern != $1.bitPattern }.count
    }
    let one = run(threads: 1)
    for threads in [2, 3] {
      let other = run(threads: threads)
      XCTAssertEqual(one.parameters.count, other.parameters.count)
      XCTAssertEqual(differing(one.parameters, other.parameters), 0, "\(threads) threads: parameters differing from 1 thread")
      XCTAssertEqual(differing(one.dInput, other.dInput), 0, "\(threads) threads: input-gradient values differing from 1 thread")
    }
  }

  func testScheduleWarmsUpThenDecaysToTheMinimum() {
    let schedule = WarmupCosineSchedule(peak: 1, minimum: 0.1, warmupSteps: 4, totalSteps: 14)
    XCTAssertEqual(schedule.learningRate(at: 0), 0.25, accuracy: 1e-6)
    XCTAssertEqual(schedule.learningRate(at: 3), 1, accuracy: 1e-6)
    XCTAssertEqual(schedule.learningRate(at: 9), 0.55, accuracy: 1e-6)
    XCTAssertEqual(schedule.learningRate(at: 14), 0.1, accuracy: 1e-6)
    XCTAssertEqual(schedule.learningRate(at: 100), 0.1, accuracy: 1e-6)
  }

  func testGradientClippingBoundsTheGlobalNorm() {
    let a = ParameterSet([ParameterSpec("a", [2], decays: true)])
    let b = ParameterSet([ParameterSpec("b", [1], decays: true)])
    a.gradients[0] = 3; a.gradients[1] = 0; b.gradients[0] = 4
    XCTAssertEqual(clipGradientNorm([a, b], maximumNorm: 1), 5, accuracy: 1e-6)
    XCTAssertEqual(a.gradients[0], 0.6, accuracy: 1e-5)
    XCTAssertEqual(b.gradients[0], 0.8, accuracy: 1e-5)
    XCTAssertEqual(clipGradientNorm([a, b], maximumNorm: 10), 1, accuracy: 1e-5)
    XCTAssertEqual(b.gradients[0], 0.8, accuracy: 1e-5)
  }
}
