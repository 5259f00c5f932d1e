import Foundation
import MetaTX
import TestSupport
import XCTest

/// The attention forward against a plain double-precision twin, on shapes
/// where the forward splits query rows into blocks (batch 1, few heads).
final class AttentionTests: XCTestCase {
  func testRowBlockedForwardMatchesPlainAttention() {
    let dim = 8, heads = 2
    for (batch, tokens) in [(1, 37), (1, 100), (2, 33), (3, 5)] {
      let blocks = Attention.queryRowBlocks(sequenceHeads: batch * heads, tokens: tokens)
      if tokens >= 32 { XCTAssertGreaterThan(blocks, 1, "\(batch)×\(tokens) should split rows") }
      let set = ParameterSet(Attention.specs("attn", dim: dim))
      var rng = SeededRNG(seed: 21)
      rng.fillUniform(set.values, -0.5, 0.5)
      let attention = Attention(
        qkv: Linear(weight: set.view("attn.qkv.weight"), bias: set.view("attn.qkv.bias")),
        proj: Linear(weight: set.view("attn.proj.weight"), bias: set.view("attn.proj.bias")), heads: heads)
      let x = randomTensor([batch, tokens, dim], seed: 22)
      // The last sequence pads its last third of keys.
      var maskValues = [Float](repeating: 1, count: batch * tokens)
      for key in (tokens - tokens / 3)..<tokens { maskValues[(batch - 1) * tokens + key] = 0 }
      let mask = Tensor(shape: [batch, tokens], values: maskValues)
      let y = Tensor(shape: [batch, tokens, dim])
      let qkv = Tensor(shape: [batch, tokens, 3 * dim])
      let p = Tensor(shape: [batch, heads, tokens, tokens])
      let context = Tensor(shape: [batch, tokens, dim])
      attention.forward(
        output: y.data, qkvOut: qkv.data, probabilities: p.data, context: context.data,
        input: x.data, keyMask: mask.data, batch: batch, tokens: tokens)

      let expected = plainAttention(
        x: x, weights: set, dim: dim, heads: heads, batch: batch, tokens: tokens, mask: maskValues)
      var worst = 0.0
      for i in 0..<y.count { worst = max(worst, abs(Double(y[i]) - expected[i])) }
      XCTAssertLessThan(worst, 1e-5, "batch \(batch), tokens \(tokens), \(blocks) row blocks")
    }
  }

  /// timm's attention written out in doubles, one loop per formula.
  private func plainAttention(
    x: Tensor, weights: ParameterSet, dim: Int, heads: Int, batch: Int, tokens: Int, mask: [Float]
  ) -> [Double] {
    let wQKV = weights.view("attn.qkv.weight").value, bQKV = weights.view("attn.qkv.bias").value
    let wProj = weights.view("attn.proj.weight").value, bProj = weights.view("attn.proj.bias").value
    let headDim = dim / heads
    let scale = 1 / Double(headDim).squareRoot()
    var output = [Double](repeating: 0, count: batch * tokens * dim)
    for b in 0..<batch {
      var qkv = [[Double]](repeating: [Double](repeating: 0, count: 3 * dim), count: tokens)
      for t in 0..<tokens {
        for o in 0..<(3 * dim) {
          var sum = Double(bQKV[o])
          for i in 0..<dim { sum += Double(wQKV[o * dim + i]) * Double(x[(b * tokens + t) * dim + i]) }
          qkv[t][o] = sum
        }
      }
      var context = [[Double]](repeating: [Double](repeating: 0, count: dim), count: tokens)
      for h in 0..<heads {
        for query in 0..<tokens {
          var scores = [Double](repeating: -Double.infinity, count: tokens)
          for key in 0..<tokens where mask[b * tokens + key] != 0 {
            var dot = 0.0
            for d in 0..<headDim { dot += qkv[query][h * headDim + d] * qkv[key][dim + h * headDim + d] }
            scores[key] = dot * scale
          }
          let maximum = scores.max()!
          let exps = scores.map { $0 == -Double.infinity ? 0 : exp($0 - maximum) }
          let total = exps.reduce(0, +)
          for key in 0..<tokens {
            for d in 0..<headDim {
              context[query][h * headDim + d] += exps[key] / total * qkv[key][2 * dim + h * headDim + d]
            }
          }
        }
      }
      for t in 0..<tokens {
        for o in 0..<dim {
          var sum = Double(bProj[o])
          for i in 0..<dim { sum += Double(wProj[o * dim + i]) * context[t][i] }
          output[(b * tokens + t) * dim + o] = sum
        }
      }
    }
    return output
  }
}
