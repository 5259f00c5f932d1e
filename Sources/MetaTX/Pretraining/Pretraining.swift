import Foundation
import Kernels

/// Paired samples of two modalities (e.g. an image and its caption).
public struct PairSet {
  public var first: Modality
  public var second: Modality
  public var pairs: [(AnySample, AnySample)]
  /// Which pairs share an input on each side (equal numbers = the same file or
  /// text), so retrieval counts a duplicate of the match as the match; nil: all distinct.
  public var groups: (first: [Int], second: [Int])?

  public init(
    first: Modality, second: Modality, pairs: [(AnySample, AnySample)], groups: (first: [Int], second: [Int])? = nil
  ) {
    precondition(first != second, "a pair set joins two different modalities")
    precondition(groups.map { $0.first.count == pairs.count && $0.second.count == pairs.count } ?? true,
      "one group number per pair and side")
    self.first = first
    self.second = second
    self.pairs = pairs
    self.groups = groups
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

/// One pretraining step as logged (JSONL with `--log-every-step`), after OpenCLIP's step logs.
public struct PretrainingStep: Codable, Equatable, Sendable {
  /// The epoch in progress (from 1).
  public var epoch: Int
  /// Steps completed, this one included.
  public var step: Int
  public var totalSteps: Int
  /// The pair type of the step's batch, "first-second".
  public var pairs: String
  public var loss: Float
  /// After the step's update (and clamp).
  public var logitScale: Float
  /// The rate the step's update used.
  public var learningRate: Float
  public var samplesPerSecond: Double
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
    return try RetrievalReport(similarity: similarity, rowsName: set.first.rawValue, columnsName: set.second.rawValue,
      rowGroups: set.groups?.first, columnGroups: set.groups?.second)
  }

  /// Trains on `training`, validating retrieval on `validation` (same pair
  /// types, same order) after every epoch.
  public func train(
    _ training: [PairSet], validation: [PairSet], options: PretrainingOptions,
    onStep: (PretrainingStep) -> Void = { _ in }, onEpoch: (PretrainingEpoch) -> Void = { _ in }
  ) throws -> [PretrainingEpoch] {
    try run(training, validation: validation, options: options, restoring: nil, shouldStop: { _ in false },
      onStep: onStep, onEpoch: onEpoch, atBoundary: { _, _, _ in }).state.records
  }

  /// How a checkpointed run ended.
  public struct Outcome {
    /// Every completed epoch's record, those restored from the checkpoint included.
    public var epochs: [PretrainingEpoch]
    /// Optimiser steps completed, those restored included.
    public var steps: Int
    public var totalSteps: Int
    /// The step the run continued after; nil when it started afresh.
    public var resumedAfterStep: Int?
    /// True when `shouldStop` ended the run before it finished.
    public var wasStopped: Bool
  }

  /// Trains as `train(_:validation:options:onStep:onEpoch:)`, writing the
  /// complete training state to `checkpoint` atomically (see
  /// `PretrainingCheckpoint`) after every epoch, every `checkpointEvery`
  /// steps when given, and when stopped.
  ///
  /// - Parameters:
  ///   - resume: continue from `checkpoint` when it exists, mid-epoch or not; the result is
  ///     then bit for bit that of a run never stopped. A checkpoint of other options, data or
  ///     starting parameters is an error naming what differs.
  ///   - shouldStop: asked before every step with the number of steps completed; true ends the
  ///     run there, after a checkpoint of that last complete step.
  /// - Returns: the outcome; the parameters are those of the last complete step. The
  ///   checkpoint stays in place: removing it once the model is saved is the caller's part.
  public func train(
    _ training: [PairSet], validation: [PairSet], options: PretrainingOptions,
    checkpoint: String, checkpointEvery: Int? = nil, resume: Bool,
    shouldStop: (_ completedSteps: Int) -> Bool = { _ in false },
    onStep: (PretrainingStep) -> Void = { _ in }, onEpoch: (PretrainingEpoch) -> Void = { _ in }
  ) throws -> Outcome {
    precondition(checkpointEvery.map { $0 >= 1 } ?? true, "checkpoints come every one or more steps")
    let fingerprint = PretrainingFingerprint(training: training, validation: validation, options: options,
      parameterSets: parameterSets)
    let restored = resume && FileManager.default.fileExists(atPath: checkpoint)
      ? try PretrainingCheckpoint.read(path: checkpoint, expecting: fingerprint) : nil
    let write = { (state: LoopState, optimiser: AdamW) in
      try PretrainingCheckpoint.write(to: checkpoint, fingerprint: fingerprint, sets: self.parameterSets,
        optimiser: optimiser, state: state)
    }
    let (state, optimiser, wasStopped) = try run(training, validation: validation, options: options,
      restoring: restored, shouldStop: shouldStop, onStep: onStep, onEpoch: onEpoch,
      atBoundary: { state, optimiser, boundary in
        switch boundary {
        case .step: if let checkpointEvery, state.step % checkpointEvery == 0 { try write(state, optimiser) }
        case .epoch: try write(state, optimiser)
        }
      })
    if wasStopped { try write(state, optimiser) }
    return Outcome(epochs: state.records, steps: state.step, totalSteps: Self.totalSteps(training, options),
      resumedAfterStep: restored?.record.step, wasStopped: wasStopped)
  }

  /// Where the loop stands between two steps: with the parameters and the
  /// optimiser, everything that decides the rest of the run.
  struct LoopState {
    /// Epochs completed.
    var epoch = 0
    /// Optimiser steps taken.
    var step = 0
    var rng: SeededRNG
    /// The epoch in progress: per training set, its batches (pair indices) not yet taken;
    /// nil between epochs (the next one shuffles afresh).
    var queues: [[[Int]]]?
    /// The set whose turn it is in the round-robin (the first with batches left from here on).
    var nextSet = 0
    /// The epoch in progress so far: Σ loss × batch size, pairs trained, seconds spent.
    var lossSum = 0.0
    var pairsSeen = 0
    var seconds = 0.0
    var records: [PretrainingEpoch] = []

    /// The set the next step takes a batch of; nil when the epoch's queues are empty.
    var setWithNextBatch: Int? {
      guard let queues else { return nil }
      return (0..<queues.count).lazy.map { (nextSet + $0) % queues.count }.first { !queues[$0].isEmpty }
    }
  }

  /// Points where the loop's state is whole and may be saved.
  enum Boundary {
    /// After a step inside an epoch.
    case step
    /// After an epoch's last step, its validation and its record.
    case epoch
  }

  static func totalSteps(_ training: [PairSet], _ options: PretrainingOptions) -> Int {
    training.map { ($0.pairs.count + options.batchSize - 1) / options.batchSize }.reduce(0, +) * options.epochs
  }

  /// The training loop, from scratch or from `checkpoint`.
  private func run(
    _ training: [PairSet], validation: [PairSet], options: PretrainingOptions,
    restoring checkpoint: PretrainingCheckpoint?, shouldStop: (Int) -> Bool, onStep: (PretrainingStep) -> Void,
    onEpoch: (PretrainingEpoch) -> Void, atBoundary: (LoopState, AdamW, Boundary) throws -> Void
  ) throws -> (state: LoopState, optimiser: AdamW, wasStopped: Bool) {
    precondition(training.allSatisfy { $0.pairs.count >= 2 }, "InfoNCE needs at least two pairs per set")
    let optimiser = AdamW(groups: parameterSets.map { ParameterGroup($0) }, weightDecay: options.weightDecay)
    let totalSteps = Self.totalSteps(training, options)
    let schedule = WarmupCosineSchedule(peak: options.learningRate, warmupSteps: min(options.warmupSteps, totalSteps / 2),
      totalSteps: totalSteps)
    var state = checkpoint?.restore(into: parameterSets, optimiser: optimiser)
      ?? LoopState(rng: SeededRNG(seed: options.seed).derived("pretrain"))
    while state.epoch < options.epochs {
      if state.queues == nil {
        // Each set's batches in a fresh order, then interleaved round-robin across sets.
        state.queues = training.map { set -> [[Int]] in
          let order = state.rng.permutation(set.pairs.count)
          return stride(from: 0, to: order.count, by: options.batchSize).map {
            Array(order[$0..<min(order.count, $0 + options.batchSize)])
          }.filter { $0.count >= 2 }
        }
        state.nextSet = 0
        (state.lossSum, state.pairsSeen, state.seconds) = (0, 0, 0)
      }
      while let setIndex = state.setWithNextBatch {
        if shouldStop(state.step) { return (state, optimiser, true) }
        let started = Date()
        let batch = state.queues![setIndex].removeFirst()
        state.nextSet = (setIndex + 1) % training.count
        let learningRate = schedule.learningRate(at: state.step)
        let loss = step(training[setIndex], batch: batch, rng: &state.rng)
        clipGradientNorm(parameterSets, maximumNorm: options.clipNorm)
        optimiser.update(learningRate: learningRate)
        projections.logitScale = min(projections.logitScale, InfoNCE.maximumLogitScale)
        state.step += 1
        state.lossSum += Double(loss) * Double(batch.count)
        state.pairsSeen += batch.count
        let seconds = Date().timeIntervalSince(started)
        state.seconds += seconds
        onStep(PretrainingStep(
          epoch: state.epoch + 1, step: state.step, totalSteps: totalSteps,
          pairs: "\(training[setIndex].first.rawValue)-\(training[setIndex].second.rawValue)", loss: loss,
          logitScale: projections.logitScale, learningRate: learningRate,
          samplesPerSecond: Double(batch.count) / max(seconds, 1e-9)))
        if state.setWithNextBatch != nil { try atBoundary(state, optimiser, .step) }
      }
      var recalls: [String: [Double]] = [:]
      for set in validation where set.pairs.count >= 2 {
        let report = try retrieval(set, batchSize: options.batchSize)
        recalls["\(set.first.rawValue)-\(set.second.rawValue)"] = report.directions.map {
          $0.recallAtK.first { $0.k == 1 }?.recall ?? 0
        }
      }
      state.epoch += 1
      let record = PretrainingEpoch(
        epoch: state.epoch, loss: Float(state.lossSum / Double(max(state.pairsSeen, 1))),
        logitScale: projections.logitScale, learningRate: schedule.learningRate(at: max(0, state.step - 1)),
        seconds: state.seconds, samplesPerSecond: Double(state.pairsSeen) / max(state.seconds, 1e-9),
        validationRecallAt1: recalls)
      state.queues = nil
      state.records.append(record)
      try atBoundary(state, optimiser, .epoch)
      onEpoch(record)
    }
    return (state, optimiser, false)
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
