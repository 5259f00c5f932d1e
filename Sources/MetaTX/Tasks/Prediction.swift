import Foundation
import Kernels

extension TaskModel {
  /// Head outputs for every sample, `batchSize` at a time: `[N, K]`
  /// probabilities (softmax for classification, sigmoid per label for
  /// multi-label) or values (regression).
  public func predictions(_ samples: [[AnySample]], batchSize: Int) -> Tensor {
    let width = head.outputs
    let result = Tensor(shape: [samples.count, width])
    var rng = SeededRNG(seed: 0)  // inference draws nothing; the tokenizers' API takes a generator
    for start in stride(from: 0, to: samples.count, by: max(1, batchSize)) {
      let batch = Array(samples[start..<min(samples.count, start + max(1, batchSize))])
      let outputs = forward(batch, training: false, rng: &rng)
      (result.data + start * width).update(from: outputs.data, count: outputs.count)
    }
    switch kind {
    case .classification:
      Elementwise.naiveSoftmaxRows(result.data, rows: samples.count, columns: width)
    case .multilabel:
      for index in 0..<result.count { result[index] = Float(1 / (1 + Foundation.exp(-Double(result[index])))) }
    case .regression:
      break
    }
    return result
  }
}
