import Foundation
import Kernels

/// Paired samples of two modalities (e.g. an image and its caption).
public struct PairSet {
  public var first: Modality
  public var second: Modality
  public var pairs: [(AnySample, AnySample)]
  public init(first: Modality, second: Modality, pairs: [(AnySample, AnySample)]) {
    precondition(first != second, "a pair set joins two different modalities")
    self.first = first
    self.second = second
    self.pairs = pairs
  }
}

/// How `metatx pretrain` trains (saved with the model).
public struct PretrainingOptions: Codable, Equatable, Sendable {
  public var epochs = 10
  public var batchSize = 64
  public var learningRate: Float = 5e-4
  public var warmupSteps = 100
  public var weightDecay: Float = 0.1
  public var clipNorm: Float = 1
  public var seed: UInt64 = 0
  public init() {}
}

/// One pretraining epoch as logged.
public struct PretrainingEpoch: Codable, Equatable, Sendable {
  public var epoch: Int
  public var loss: Float
  public var logitScale: Float
  public var learningRate: Float
  public var seconds: Double
  public var samplesPerSecond: Double
  /// Validation recall@1 (first → second, second → first) per pair type, "first-second".
  public var validationRecallAt1: [String: [Double]]
}

/// Contrastive pretraining of the shared encoder, every modality's tokenizer
/// and projection, with the symmetric InfoNCE loss and a learnable logit
/// scale (CLIP; clamped to ≤ ln 100 after every step, as OpenCLIP does).
///
/// Several pair types (image–text, audio–text, …) train one model: each step
/// takes one batch of one pair type, cycling through the types in order
/// (round-robin, interleaved over each epoch), so every modality is aligned
/// with the others through the one shared encoder and the common anchor (text).
public final class Pretraining {
  public let encoder: Encoder
  public let tokenizers: [Modality: AnyTokenizer]
  public let projections: ContrastiveProjections
  public let pooling: Pooling
  /// The second view of the encoder, for the other side of each pair.
  private let otherView: Encoder

  public init(encoder: Encoder, tokenizers: [Modality: AnyTokenizer], projections: ContrastiveProjections, pooling: Pooling) {
    precondition(pooling != .none, "pretraining pools each input")
    self.encoder = encoder
    self.tokenizers = tokenizers
    self.projections = projections
    self.pooling = pooling
    otherView = Encoder(sharingParametersWith: encoder)
  }

  /// Every trained parameter set: tokenizers (by modality name), encoder, projections.
  public var parameterSets: [ParameterSet] {
    tokenizers.keys.sorted { $0.rawValue < $1.rawValue }.map { tokenizers[$0]!.parameters }
      + [encoder.parameters, projections.parameters]
  }

  private func sampleEncoder(_ modality: Modality, view: Encoder) -> SampleEncoder {
    SampleEncoder(tokenizers: [tokenizers[modality]!], encoder: view, pooling: pooling)
  }

  /// Unit embeddings `[N, E]` of samples of one modality in the shared space.
  public func embed(_ samples: [AnySample], modality: Modality, batchSize: Int) -> Tensor {
    let pipeline = sampleEncoder(modality, view: encoder)
    let result = Tensor(shape: [samples.count, projections.embeddingWidth])
    var rng = SeededRNG(seed: 0)
    for start in stride(from: 0, to: samples.count, by: max(1, batchSize)) {
      let batch = samples[start..<min(samples.count, start + max(1, batchSize))].map { [$0] }
      let embedded = projections.embed(pipeline.embed(batch, rng: &rng), modality: modality)
      (result.data + start * projections.embeddingWidth).update(from: embedded.data, count: embedded.count)
    }
    return result
  }

  /// Retrieval between the two sides of `set`: the cosine-similarity matrix's report.
  public func retrieval(_ set: PairSet, batchSize: Int) throws -> RetrievalReport {
    let first = embed(set.pairs.map(\.0), modality: set.first, batchSize: batchSize)
    let second = embed(set.pairs.map(\.1), modality: set.second, batchSize: batchSize)
    let n = set.pairs.count, width = projections.embeddingWidth
    let similarity = Tensor(shape: [n, n])
    Linalg.gemm(.none, .transposed, m: n, n: n, k: width, a: first.data, lda: width, b: second.data, ldb: width,
      beta: 0, c: similarity.data, ldc: n)
    return try RetrievalReport(similarity: similarity, rowsName: set.first.rawValue, columnsName: set.second.rawValue)
  }

  /// Trains on `training`, validating retrieval on `validation` (same pair
  /// types, same order) after every epoch.
  public func train(
    _ training: [PairSet], validation: [PairSet], options: PretrainingOptions,
    onStep: (_ step: Int, _ total: Int, _ loss: Float) -> Void = { _, _, _ in },
    onEpoch: (PretrainingEpoch) -> Void = { _ in }
  ) throws -> [PretrainingEpoch] {
    precondition(training.allSatisfy { $0.pairs.count >= 2 }, "InfoNCE needs at least two pairs per set")
    var rng = SeededRNG(seed: options.seed).derived("pretrain")
    let optimiser = AdamW(groups: parameterSets.map { ParameterGroup($0) }, weightDecay: options.weightDecay)
    let batchesPerSet = training.map { ($0.pairs.count + options.batchSize - 1) / options.batchSize }
    let stepsPerEpoch = batchesPerSet.reduce(0, +)
    let totalSteps = stepsPerEpoch * options.epochs
    let schedule = WarmupCosineSchedule(peak: options.learningRate, warmupSteps: min(options.warmupSteps, totalSteps / 2),
      totalSteps: totalSteps)
    var step = 0
    var epochs: [PretrainingEpoch] = []
    for epoch in 1...options.epochs {
      let started = Date()
      // Each set's batches in a fresh order, then interleaved round-robin across sets.
      var queues = training.enumerated().map { index, set -> [[Int]] in
        let order = rng.permutation(set.pairs.count)
        return stride(from: 0, to: order.count, by: options.batchSize).map {
          Array(order[$0..<min(order.count, $0 + options.batchSize)])
        }.filter { $0.count >= 2 }
      }
      var lossSum = 0.0, pairsSeen = 0
      while queues.contains(where: { !$0.isEmpty }) {
        for setIndex in queues.indices where !queues[setIndex].isEmpty {
          let batch = queues[setIndex].removeFirst()
          let loss = self.step(training[setIndex], batch: batch, rng: &rng)
          clipGradientNorm(parameterSets, maximumNorm: options.clipNorm)
          optimiser.update(learningRate: schedule.learningRate(at: step))
          projections.logitScale = min(projections.logitScale, InfoNCE.maximumLogitScale)
          step += 1
          lossSum += Double(loss) * Double(batch.count)
          pairsSeen += batch.count
          onStep(step, totalSteps, loss)
        }
      }
      let seconds = Date().timeIntervalSince(started)
      var recalls: [String: [Double]] = [:]
      for set in validation where set.pairs.count >= 2 {
        let report = try retrieval(set, batchSize: options.batchSize)
        recalls["\(set.first.rawValue)-\(set.second.rawValue)"] = report.directions.map {
          $0.recallAtK.first { $0.k == 1 }?.recall ?? 0
        }
      }
      let record = PretrainingEpoch(
        epoch: epoch, loss: Float(lossSum / Double(max(pairsSeen, 1))), logitScale: projections.logitScale,
        learningRate: schedule.learningRate(at: max(0, step - 1)), seconds: seconds,
        samplesPerSecond: Double(pairsSeen) / max(seconds, 1e-9), validationRecallAt1: recalls)
      epochs.append(record)
      onEpoch(record)
    }
    return epochs
  }

  /// One InfoNCE step on the pairs `batch` of `set`: gradients into every set.
  private func step(_ set: PairSet, batch: [Int], rng: inout SeededRNG) -> Float {
    for parameters in parameterSets { parameters.zeroGradients() }
    let firstEncoder = sampleEncoder(set.first, view: encoder)
    let secondEncoder = sampleEncoder(set.second, view: otherView)
    let pooledFirst = firstEncoder.forward(batch.map { [set.pairs[$0].0] }, training: true, keepActivations: true, rng: &rng)
    let pooledSecond = secondEncoder.forward(batch.map { [set.pairs[$0].1] }, training: true, keepActivations: true, rng: &rng)
    let width = projections.embeddingWidth, rows = batch.count
    let firstProjection = projections.projection(set.first)!, secondProjection = projections.projection(set.second)!
    let projectedFirst = Tensor(shape: [rows, width]), projectedSecond = Tensor(shape: [rows, width])
    firstProjection.forward(output: projectedFirst.data, input: pooledFirst.data, rows: rows)
    secondProjection.forward(output: projectedSecond.data, input: pooledSecond.data, rows: rows)
    let dFirst = Tensor(shape: [rows, width]), dSecond = Tensor(shape: [rows, width])
    let result = InfoNCE.loss(a: projectedFirst.data, b: projectedSecond.data, batch: rows, width: width,
      logitScale: projections.logitScale, dA: dFirst.data, dB: dSecond.data)
    projections.parameters.view("logit_scale").gradient[0] += result.dLogitScale
    let dPooledFirst = Tensor(shape: pooledFirst.shape), dPooledSecond = Tensor(shape: pooledSecond.shape)
    firstProjection.backward(dInput: dPooledFirst.data, accumulate: false, dOutput: dFirst.data,
      input: pooledFirst.data, rows: rows, parameterGradients: true)
    secondProjection.backward(dInput: dPooledSecond.data, accumulate: false, dOutput: dSecond.data,
      input: pooledSecond.data, rows: rows, parameterGradients: true)
    firstEncoder.backward(dPooledFirst.data)
    secondEncoder.backward(dPooledSecond.data)
    return result.loss
  }
}
