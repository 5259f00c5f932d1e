import Foundation
import Kernels
import Readers

/// Evaluation of a pretrained model's shared space: cross-modal retrieval and
/// zero-shot classification by similarity to text prompts.
public enum PretrainedEvaluation {
  static func loadPretrained(_ path: String) throws -> (Model, ContrastiveProjections, Pooling) {
    let model = try Model.load(path: path)
    guard let (projections, pooling) = model.projections else {
      throw ReaderError(file: path, "has no shared embedding space (train one with `metatx pretrain`)")
    }
    return (model, projections, pooling)
  }

  /// Recall@1/5/10 both ways and median rank on a pair manifest.
  public static func retrieval(
    modelPath: String, pairs: String, batchSize: Int, policy: BadRowPolicy, say: (String) -> Void
  ) throws -> RetrievalReport {
    let (model, projections, pooling) = try loadPretrained(modelPath)
    var report = BadRowReport(policy: policy)
    let manifest = try Manifest.read(path: pairs, kind: .regression, inputColumns: PairManifest.columns(of: pairs),
      requiresTarget: false, report: &report)
    guard let set = try PairManifest.pairs(manifest, tokenizers: model.tokenizers, report: &report),
      set.pairs.count >= 2
    else { throw ReaderError(file: pairs, "needs at least two usable pairs") }
    if let summary = report.summary { say(summary) }
    let pretraining = Pretraining(encoder: model.encoder, tokenizers: model.tokenizers, projections: projections,
      pooling: pooling)
    do {
      return try pretraining.retrieval(set, batchSize: batchSize)
    } catch let error as MetricInputError {
      throw ReaderError(file: pairs, error.problem)
    }
  }

  /// Zero-shot classification: each class is the mean of its prompts' unit
  /// text embeddings (templates with `{}` → class name), renormalised; each
  /// input takes the class of highest cosine similarity.
  public static func zeroShot(
    modelPath: String, samples: [LabelledSample], modality: Modality, classNames: [String], templates: [String],
    batchSize: Int, topK: Int
  ) throws -> ClassificationReport {
    let (model, projections, pooling) = try loadPretrained(modelPath)
    guard let text = model.tokenizers[.text], projections.modalities.contains(.text) else {
      throw ReaderError(file: modelPath, "has no text tokenizer in its shared space, so it cannot embed class prompts")
    }
    guard projections.modalities.contains(modality) else {
      throw ReaderError(file: modelPath, "has no \(modality.rawValue) projection in its shared space")
    }
    let pretraining = Pretraining(encoder: model.encoder, tokenizers: model.tokenizers, projections: projections,
      pooling: pooling)
    let width = projections.embeddingWidth
    let classEmbeddings = Tensor(shape: [classNames.count, width])
    for (index, name) in classNames.enumerated() {
      let prompts = templates.map { text.sample(text: $0.replacingOccurrences(of: "{}", with: name))! }
      let embedded = pretraining.embed(prompts, modality: .text, batchSize: batchSize)
      let row = classEmbeddings.data + index * width
      for p in 0..<prompts.count { for c in 0..<width { row[c] += embedded[p * width + c] } }
      let norm = (0..<width).reduce(Float(0)) { $0 + row[$1] * row[$1] }.squareRoot()
      if norm > 0 { for c in 0..<width { row[c] /= norm } }
    }
    let inputs = pretraining.embed(samples.map { $0.inputs[0] }, modality: modality, batchSize: batchSize)
    let scores = Tensor(shape: [samples.count, classNames.count])
    Linalg.gemm(.none, .transposed, m: samples.count, n: classNames.count, k: width, a: inputs.data, lda: width,
      b: classEmbeddings.data, ldb: width, beta: 0, c: scores.data, ldc: classNames.count)
    return try ClassificationReport(scores: scores, targets: samples.map { Int($0.target[0]) }, classNames: classNames,
      topK: [topK])
  }
}
