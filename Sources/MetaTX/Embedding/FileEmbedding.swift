import Kernels
import Readers

/// Embeds files of a tokenized modality: tokenizer → shared encoder → pooling.
public enum FileEmbedding {
  /// One pooled embedding per sample of every file, in input order.
  ///
  /// - Parameters:
  ///   - filesPerPass: files tokenized and encoded together (bounds memory).
  /// - Returns: `[samples, width]`, `width = pooling.outputWidth(dim:)`.
  public static func embed(
    paths: [String], tokenizer: AnyTokenizer, encoder: Encoder, pooling: Pooling, filesPerPass: Int = 32,
    rng: inout SeededRNG
  ) throws -> NPYArray {
    precondition(pooling != .none, "FileEmbedding pools; token output goes through TokenEmbedding")
    precondition(tokenizer.dim == encoder.config.dim, "tokenizer width \(tokenizer.dim) ≠ encoder dim \(encoder.config.dim)")
    let width = pooling.outputWidth(dim: encoder.config.dim)
    var values: [Float] = []
    var samples = 0
    for start in stride(from: 0, to: paths.count, by: max(1, filesPerPass)) {
      let chunk = Array(paths[start..<min(paths.count, start + max(1, filesPerPass))])
      let batch = try tokenizer.tokenize(paths: chunk, rng: &rng)
      let encoded = encoder.forward(
        batch.tokens.data, batch: batch.batch, tokens: batch.count, keyMask: batch.mask?.data, keepActivations: false)
      let pooled = Tensor(shape: [batch.batch, width])
      pooling.forward(
        output: pooled.data, tokens: encoded, keyMask: batch.mask?.data, batch: batch.batch, count: batch.count,
        dim: encoder.config.dim)
      values += pooled.values
      samples += batch.batch
    }
    return NPYArray(shape: [samples, width], values: values)
  }
}
