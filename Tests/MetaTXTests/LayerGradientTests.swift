import MetaTX
import TestSupport
import XCTest

/// Finite-difference checks of every layer's backward (central differences,
/// L = Σ y ∘ dy, worst element reported).
final class LayerGradientTests: XCTestCase {
  private let tolerance = 2e-2

  private func randomise(_ set: ParameterSet, seed: UInt64) {
    var rng = SeededRNG(seed: seed)
    rng.fillUniform(set.values, -0.5, 0.5)
    for entry in set.entries where entry.name.contains("norm") && entry.name.hasSuffix("weight") {
      for i in entry.offset..<(entry.offset + entry.count) { set.values[i] += 1 }
    }
  }

  func testLinear() {
    let rows = 5, inputs = 4, outputs = 3
    let set = ParameterSet(Linear.specs("fc", inputs: inputs, outputs: outputs))
    randomise(set, seed: 1)
    let linear = Linear(weight: set.view("fc.weight"), bias: set.view("fc.bias"))
    let x = randomTensor([rows, inputs], seed: 2)
    let dy = randomTensor([rows, outputs], seed: 3)
    let y = Tensor(shape: [rows, outputs])
    let loss = { () -> Double in
      linear.forward(output: y.data, input: x.data, rows: rows)
      return weightedSum(y.data, dy.data, count: y.count)
    }
    _ = loss()
    let dx = randomTensor([rows, inputs], seed: 4)
    let dxBefore = dx.values
    set.zeroGradients()
    linear.backward(dInput: dx.data, accumulate: true, dOutput: dy.data, input: x.data, rows: rows,
      parameterGradients: true)
    let dxAdded = zip(dx.values, dxBefore).map { $0 - $1 }
    XCTAssertLessThan(checkGradient(values: x.data, analytic: dxAdded, loss: loss).worstError, tolerance)
    let grads = set.gradients.values
    XCTAssertLessThan(checkGradient(values: set.values.data, analytic: grads, loss: loss).worstError, tolerance)
    // Frozen: no parameter gradient is touched.
    set.zeroGradients()
    linear.backward(dInput: dx.data, accumulate: false, dOutput: dy.data, input: x.data, rows: rows,
      parameterGradients: false)
    XCTAssertEqual(set.gradients.values, [Float](repeating: 0, count: set.count))
  }

  func testLayerNorm() {
    let rows = 4, channels = 6
    let set = ParameterSet(LayerNorm.specs("norm", channels: channels))
    randomise(set, seed: 5)
    let norm = LayerNorm(weight: set.view("norm.weight"), bias: set.view("norm.bias"), eps: 1e-5)
    let x = randomTensor([rows, channels], seed: 6, scale: 2)
    let dy = randomTensor([rows, channels], seed: 7)
    let y = Tensor(shape: [rows, channels]), mean = Tensor(shape: [rows]), rstd = Tensor(shape: [rows])
    let loss = { () -> Double in
      norm.forward(output: y.data, mean: mean.data, rstd: rstd.data, input: x.data, rows: rows)
      return weightedSum(y.data, dy.data, count: y.count)
    }
    _ = loss()
    let dx = Tensor(shape: [rows, channels])
    set.zeroGradients()
    norm.backward(dInput: dx.data, dOutput: dy.data, input: x.data, mean: mean.data, rstd: rstd.data,
      rows: rows, parameterGradients: true)
    XCTAssertLessThan(checkGradient(values: x.data, analytic: dx.values, loss: loss).worstError, tolerance)
    XCTAssertLessThan(
      checkGradient(values: set.values.data, analytic: set.gradients.values, loss: loss).worstError, tolerance)
  }

  func testGELU() {
    let count = 40
    let x = randomTensor([count], seed: 8, scale: 4)
    let dy = randomTensor([count], seed: 9)
    let y = Tensor(shape: [count])
    let loss = { () -> Double in
      GELU.forward(output: y.data, input: x.data, count: count)
      return weightedSum(y.data, dy.data, count: count)
    }
    let dx = Tensor(shape: [count])
    GELU.backward(dInput: dx.data, dOutput: dy.data, input: x.data, count: count)
    XCTAssertLessThan(checkGradient(values: x.data, analytic: dx.values, step: 1e-3, loss: loss).worstError, tolerance)
  }

  func testAttentionWithPaddingMask() {
    let batch = 2, tokens = 5, dim = 8, heads = 2
    let set = ParameterSet(Attention.specs("attn", dim: dim))
    randomise(set, seed: 10)
    let attention = Attention(
      qkv: Linear(weight: set.view("attn.qkv.weight"), bias: set.view("attn.qkv.bias")),
      proj: Linear(weight: set.view("attn.proj.weight"), bias: set.view("attn.proj.bias")), heads: heads)
    let x = randomTensor([batch, tokens, dim], seed: 11)
    let dy = randomTensor([batch, tokens, dim], seed: 12)
    let mask = Tensor(shape: [batch, tokens], values: [1, 1, 1, 1, 1, 1, 1, 0, 1, 0])
    let y = Tensor(shape: [batch, tokens, dim])
    let qkv = Tensor(shape: [batch, tokens, 3 * dim])
    let p = Tensor(shape: [batch, heads, tokens, tokens])
    let context = Tensor(shape: [batch, tokens, dim])
    let loss = { () -> Double in
      attention.forward(output: y.data, qkvOut: qkv.data, probabilities: p.data, context: context.data,
        input: x.data, keyMask: mask.data, batch: batch, tokens: tokens)
      return weightedSum(y.data, dy.data, count: y.count)
    }
    _ = loss()
    // Padded keys carry no attention weight.
    for b in 0..<batch {
      for h in 0..<heads {
        for query in 0..<tokens {
          for key in 0..<tokens where mask[b * tokens + key] == 0 {
            XCTAssertEqual(p[((b * heads + h) * tokens + query) * tokens + key], 0)
          }
        }
      }
    }
    let dx = Tensor(shape: x.shape)
    // Scratch kept in named constants: a temporary Tensor's pointer dies with it.
    let scratchContext = Tensor(shape: [batch, tokens, dim])
    let scratchQKV = Tensor(shape: [batch, tokens, 3 * dim])
    let scratchScores = Tensor(shape: [batch, heads, tokens, tokens])
    set.zeroGradients()
    attention.backward(dInput: dx.data, accumulate: false, dOutput: dy.data, input: x.data, qkvOut: qkv.data,
      probabilities: p.data, context: context.data, scratchContext: scratchContext.data,
      scratchQKV: scratchQKV.data, scratchProbabilities: scratchScores.data, batch: batch, tokens: tokens,
      parameterGradients: true)
    XCTAssertLessThan(checkGradient(values: x.data, analytic: dx.values, step: 1e-3, loss: loss).worstError, tolerance)
    XCTAssertLessThan(
      checkGradient(values: set.values.data, analytic: set.gradients.values, step: 1e-3, loss: loss).worstError,
      tolerance)
  }

  func testEncoderStackAndFrozenMode() {
    let config = EncoderConfig(dim: 8, depth: 2, heads: 2, mlpHidden: 12)
    let encoder = Encoder(config: config)
    randomise(encoder.parameters, seed: 13)
    let batch = 2, tokens = 4
    let x = randomTensor([batch, tokens, config.dim], seed: 14)
    let dy = randomTensor([batch, tokens, config.dim], seed: 15)
    let mask = Tensor(shape: [batch, tokens], values: [1, 1, 1, 1, 1, 1, 0, 0])
    let loss = { () -> Double in
      let y = encoder.forward(x.data, batch: batch, tokens: tokens, keyMask: mask.data, keepActivations: false)
      return weightedSum(y, dy.data, count: x.count)
    }
    _ = encoder.forward(x.data, batch: batch, tokens: tokens, keyMask: mask.data, keepActivations: true)
    encoder.parameters.zeroGradients()
    let dx = Array(UnsafeBufferPointer(start: encoder.backward(dy.data), count: x.count))
    let parameterGradients = encoder.parameters.gradients.values
    let inputCheck = checkGradient(values: x.data, analytic: dx, loss: loss)
    XCTAssertLessThan(inputCheck.worstError, tolerance, "\(inputCheck)")
    let check = checkGradient(
      values: encoder.parameters.values.data, analytic: parameterGradients,
      indices: sampledIndices(encoder.parameters.count, maximum: 300), loss: loss)
    XCTAssertLessThan(check.worstError, tolerance, "\(check)")

    // Frozen: the same input gradient, and no parameter gradient at all.
    encoder.isFrozen = true
    encoder.parameters.zeroGradients()
    _ = encoder.forward(x.data, batch: batch, tokens: tokens, keyMask: mask.data, keepActivations: true)
    let frozenDx = Array(UnsafeBufferPointer(start: encoder.backward(dy.data), count: x.count))
    XCTAssertEqual(frozenDx, dx)
    XCTAssertTrue(encoder.parameters.gradients.values.allSatisfy { $0 == 0 })
  }

  func testPoolingModes() {
    let batch = 2, tokens = 4, dim = 3
    let x = randomTensor([batch, tokens, dim], seed: 16)
    let mask = Tensor(shape: [batch, tokens], values: [1, 1, 1, 1, 1, 1, 1, 0])
    for pooling in Pooling.allCases {
      let width = pooling.outputWidth(dim: dim)
      let outputCount = pooling == .none ? batch * tokens * dim : batch * width
      let y = Tensor(shape: [outputCount])
      let dy = randomTensor([outputCount], seed: 17)
      let loss = { () -> Double in
        pooling.forward(output: y.data, tokens: x.data, keyMask: mask.data, batch: batch, count: tokens, dim: dim)
        return weightedSum(y.data, dy.data, count: outputCount)
      }
      _ = loss()
      let dx = Tensor(shape: x.shape)
      pooling.backward(dTokens: dx.data, dOutput: dy.data, tokens: x.data, keyMask: mask.data, batch: batch,
        count: tokens, dim: dim)
      let check = checkGradient(values: x.data, analytic: dx.values, step: 1e-3, loss: loss)
      XCTAssertLessThan(check.worstError, tolerance, "\(pooling): \(check)")
      // The padded token of sequence 1 receives nothing (`.none` keeps every token).
      if pooling != .none {
        for c in 0..<dim { XCTAssertEqual(dx[(1 * tokens + 3) * dim + c], 0, "\(pooling)") }
      }
    }
    // Known values: mean of sequence 1 ignores its padded last token.
    let y = Tensor(shape: [batch * dim])
    Pooling.mean.forward(output: y.data, tokens: x.data, keyMask: mask.data, batch: batch, count: tokens, dim: dim)
    for c in 0..<dim {
      let expected = (0..<3).reduce(Float(0)) { $0 + x[(tokens + $1) * dim + c] } / 3
      XCTAssertEqual(y[dim + c], expected, accuracy: 1e-6)
    }
  }

  func testEmbeddingTablePositionsAndClsToken() {
    let batch = 2, count = 4, dim = 3, vocabulary = 5
    let set = ParameterSet(
      EmbeddingTable.specs("embed", vocabulary: vocabulary, dim: dim)
        + LearnedPositions.specs("positions", tokens: 6, dim: dim) + ClsToken.specs("cls", dim: dim))
    randomise(set, seed: 20)
    let table = EmbeddingTable(weight: set.view("embed"))
    let positions = LearnedPositions(table: set.view("positions"))
    let cls = ClsToken(value: set.view("cls"))
    let ids = [4, 1, 1, 0, 2, 3]  // 3 content tokens per sequence after the cls token; id 1 twice
    let dy = randomTensor([batch, count, dim], seed: 21)
    let tokens = Tensor(shape: [batch, count, dim])
    let forward = {
      cls.forward(tokens: tokens.data, batch: batch, count: count)
      for b in 0..<batch {
        table.forward(output: tokens.data + (b * count + 1) * dim, ids: Array(ids[(b * 3)..<(b * 3 + 3)]))
      }
      positions.forward(tokens: tokens.data, batch: batch, count: count)
    }
    let loss = { () -> Double in
      forward()
      return weightedSum(tokens.data, dy.data, count: tokens.count)
    }
    forward()
    set.zeroGradients()
    positions.backward(dTokens: dy.data, batch: batch, count: count)
    for b in 0..<batch {
      table.backward(dOutput: dy.data + (b * count + 1) * dim, ids: Array(ids[(b * 3)..<(b * 3 + 3)]))
    }
    cls.backward(dTokens: dy.data, batch: batch, count: count)
    let check = checkGradient(values: set.values.data, analytic: set.gradients.values, loss: loss)
    XCTAssertLessThan(check.worstError, tolerance, "\(check)")
    // Known values: row 1 of sequence 0 is embedding 4 plus position 1.
    for c in 0..<dim {
      XCTAssertEqual(tokens[(0 * count + 1) * dim + c], table.weight.value[4 * dim + c] + positions.table.value[dim + c],
        accuracy: 1e-6)
    }
  }

  func testPatchProjectionWithClsPositionsAndMask() {
    let batch = 2, patches = 3, width = 4, dim = 5
    let set = ParameterSet(PatchProjection.specs("patch", patchWidth: width, dim: dim, cls: true, maximumPositions: 6))
    randomise(set, seed: 30)
    let projection = PatchProjection("patch", parameters: set)
    let raw = randomTensor([batch, patches, width], seed: 31)
    let mask = Tensor(shape: [batch, patches], values: [1, 1, 1, 1, 0, 0])
    let dy = randomTensor([batch, patches + 1, dim], seed: 32)
    let loss = { () -> Double in
      let tokens = projection.forward(raw: raw, mask: mask).tokens
      return weightedSum(tokens.data, dy.data, count: tokens.count)
    }
    let output = projection.forward(raw: raw, mask: mask)
    XCTAssertEqual(output.tokens.shape, [batch, patches + 1, dim])
    XCTAssertEqual(output.mask?.values, [1, 1, 1, 1, 1, 1, 0, 0])
    set.zeroGradients()
    projection.backward(dy.data)
    let check = checkGradient(values: set.values.data, analytic: set.gradients.values, loss: loss)
    XCTAssertLessThan(check.worstError, tolerance, "\(check)")
  }
}
