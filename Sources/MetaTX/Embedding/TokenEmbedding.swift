import Kernels
import Readers

/// Runs the shared encoder on token embeddings a user supplies directly (the
/// pass-through `tokens` modality): `[N, D]` for one sequence or `[B, N, D]`.
public enum TokenEmbedding {
  /// Checks that `array` holds token sequences the encoder can take.
  /// - Returns: `(batch, tokens)`; a 2-D array is one sequence.
  public static func validate(_ array: NPYArray, file: String, dim: Int) throws -> (batch: Int, tokens: Int) {
    let shape = array.shape
    guard shape.count == 2 || shape.count == 3 else {
      throw ReaderError(file: file, "token array has shape \(shape); expected [tokens, \(dim)] or [batch, tokens, \(dim)]")
    }
    guard shape.last == dim else {
      throw ReaderError(file: file, "tokens have width \(shape.last!), but the encoder's dim is \(dim)")
    }
    let batch = shape.count == 3 ? shape[0] : 1
    let tokens = shape[shape.count - 2]
    guard batch > 0, tokens > 0 else {
      throw ReaderError(file: file, "token array \(shape) is empty")
    }
    if let bad = array.values.firstIndex(where: { !$0.isFinite }) {
      let position = decompose(bad, shape: shape).map(String.init).joined(separator: ", ")
      throw ReaderError(file: file, "value at [\(position)] is \(array.values[bad]); tokens must be finite")
    }
    return (batch, tokens)
  }

  /// Encodes every sequence of `array` and pools it.
  ///
  /// - Returns: `[B, N, D]` (or `[N, D]` for 2-D input) with `.none`, else
  ///   `[B, width]` (or `[width]`), `width = pooling.outputWidth(dim:)`.
  ///   Sequences go through the encoder `batchSize` at a time.
  public static func embed(
    _ array: NPYArray, file: String, encoder: Encoder, pooling: Pooling, batchSize: Int = 32
  ) throws -> NPYArray {
    let dim = encoder.config.dim
    let (batch, tokens) = try validate(array, file: file, dim: dim)
    let width = pooling.outputWidth(dim: dim)
    let perSequence = pooling == .none ? tokens * dim : width
    var output = [Float](repeating: 0, count: batch * perSequence)
    let chunk = max(1, batchSize)
    array.values.withUnsafeBufferPointer { input in
      output.withUnsafeMutableBufferPointer { pooled in
        for start in stride(from: 0, to: batch, by: chunk) {
          let count = min(chunk, batch - start)
          let encoded = encoder.forward(
            input.baseAddress! + start * tokens * dim, batch: count, tokens: tokens, keepActivations: false)
          pooling.forward(
            output: pooled.baseAddress! + start * perSequence, tokens: encoded, keyMask: nil, batch: count,
            count: tokens, dim: dim)
        }
      }
    }
    let batchShape = array.shape.count == 3 ? [batch] : []
    let shape = pooling == .none ? batchShape + [tokens, dim] : batchShape + [width]
    return NPYArray(shape: shape, values: output)
  }

  private static func decompose(_ index: Int, shape: [Int]) -> [Int] {
    var remainder = index
    var position = [Int](repeating: 0, count: shape.count)
    for axis in stride(from: shape.count - 1, through: 0, by: -1) {
      position[axis] = remainder % shape[axis]
      remainder /= shape[axis]
    }
    return position
  }
}
