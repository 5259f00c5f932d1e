import Foundation
import Kernels

/// How `train-head` trains (saved in the task file).
public struct TrainingOptions: Codable, Equatable, Sendable {
  public var epochs = 10
  public var batchSize = 32
  public var learningRate: Float = 1e-3
  public var weightDecay: Float = 0.05
  public var labelSmoothing: Float = 0
  /// Fraction of all steps spent warming up linearly.
  public var warmupFraction: Float = 0.1
  /// Train the encoder too (else it stays frozen and only passes gradients through).
  public var tuneEncoder = false
  /// The encoder's learning rate relative to `learningRate` when tuned.
  public var encoderLearningRateScale: Float = 0.1
  public var clipNorm: Float = 1
  /// Epochs without validation improvement before stopping (nil: never stop early).
  public var patience: Int? = nil
  /// Ridge penalty (relative to the mean Gram diagonal) for `--head ridge`.
  public var ridgePenalty: Float = 1e-3
  public var seed: UInt64 = 0
  public init() {}
}

/// One epoch of training as logged (JSONL with `--log`).
public struct EpochRecord: Codable, Equatable, Sendable {
  public var epoch: Int
  public var trainLoss: Float
  public var validationLoss: Float?
  /// Accuracy for classification; negative validation loss otherwise (higher is better).
  public var validationScore: Float?
  public var learningRate: Float
  public var seconds: Double
  public var samplesPerSecond: Double
  public var isBest: Bool
}

/// Trains a `TaskModel`'s trainable parts with AdamW (warm-up + cosine),
/// validating every epoch and keeping the best parameters.
public enum HeadTraining {
  /// A training step's progress, for a terminal progress line.
  public struct Progress {
    public var epoch: Int
    public var step: Int
    public var stepsPerEpoch: Int
    public var loss: Float
    public var samplesPerSecond: Double
  }

  /// Trains `model` on `train`; returns the epoch records. The model ends
  /// with the parameters of the best validation epoch (the last epoch when
  /// there is no validation set).
  public static func train(
    _ model: TaskModel, train: [LabelledSample], validation: [LabelledSample], options: TrainingOptions,
    onProgress: (Progress) -> Void = { _ in }, onEpoch: (EpochRecord) -> Void = { _ in }
  ) -> [EpochRecord] {
    model.encoder.isFrozen = !options.tuneEncoder
    return run(model, train: train, validation: validation, options: options, restoring: nil,
      shouldStop: { _ in false }, onProgress: onProgress, onEpoch: onEpoch, afterEpoch: { _, _ in }).records
  }

  /// How a checkpointed run ended.
  public struct Outcome {
    /// Every epoch's record, those restored from the checkpoint included.
    public var records: [EpochRecord]
    /// The epoch the run continued after; nil when it started afresh.
    public var resumedAfterEpoch: Int?
    /// True when `shouldStop` ended the run before it finished.
    public var wasStopped: Bool
  }

  /// Trains as `train(_:train:validation:options:onProgress:onEpoch:)` and
  /// after every epoch writes the complete training state to `checkpoint`
  /// atomically (see `TrainingCheckpoint`).
  ///
  /// - Parameters:
  ///   - resume: continue from `checkpoint` when it exists; the result is then bit for bit
  ///     that of a run never stopped. A checkpoint of other options or data is an error.
  ///   - shouldStop: asked before every step with the number of epochs completed; true ends
  ///     the run there, the last epoch's checkpoint staying as it was (the unfinished epoch
  ///     is redone on resume).
  ///   - onImprovement: called with all records so far after an epoch that is the
  ///     best yet (and after its checkpoint is written), while the model holds its parameters.
  /// - Returns: the records; the model holds the best epoch's parameters so far, stopped or not.
  ///   The checkpoint stays in place: removing it once the result is saved is the caller's part.
  public static func train(
    _ model: TaskModel, train: [LabelledSample], validation: [LabelledSample], options: TrainingOptions,
    checkpoint: String, resume: Bool, shouldStop: (_ completedEpochs: Int) -> Bool = { _ in false },
    onProgress: (Progress) -> Void = { _ in }, onEpoch: (EpochRecord) -> Void = { _ in },
    onImprovement: (_ records: [EpochRecord]) throws -> Void = { _ in }
  ) throws -> Outcome {
    model.encoder.isFrozen = !options.tuneEncoder
    let fingerprint = TrainingFingerprint(model: model, train: train, validation: validation, options: options)
    let restored = resume && FileManager.default.fileExists(atPath: checkpoint)
      ? try TrainingCheckpoint.read(path: checkpoint, expecting: fingerprint) : nil
    let sets = model.parameterSets
    let (records, wasStopped) = try run(model, train: train, validation: validation, options: options,
      restoring: restored, shouldStop: shouldStop, onProgress: onProgress, onEpoch: onEpoch,
      afterEpoch: { state, optimiser in
        try TrainingCheckpoint.write(to: checkpoint, fingerprint: fingerprint, sets: sets, optimiser: optimiser,
          state: state)
        if state.records.last!.isBest { try onImprovement(state.records) }
      })
    return Outcome(records: records, resumedAfterEpoch: restored?.record.epoch, wasStopped: wasStopped)
  }

  /// What the loop carries from epoch to epoch besides the parameters and the optimiser.
  struct LoopState {
    /// Epochs completed.
    var epoch = 0
    /// Optimiser steps taken.
    var step = 0
    var rng: SeededRNG
    /// The best score and the trainable sets' values at it (in `parameterSets` order, frozen sets left out).
    var best: (score: Float, values: [[Float]])?
    var epochsWithoutImprovement = 0
    var records: [EpochRecord] = []

    /// Whether the last epoch is done or patience ran out.
    func isFinished(_ options: TrainingOptions, validates: Bool) -> Bool {
      if epoch >= options.epochs { return true }
      guard let patience = options.patience, validates else { return false }
      return epochsWithoutImprovement >= patience
    }
  }

  /// The training loop, from scratch or from `checkpoint`; `afterEpoch` sees
  /// the state after each completed epoch. Sets the best parameters at the end.
  private static func run(
    _ model: TaskModel, train: [LabelledSample], validation: [LabelledSample], options: TrainingOptions,
    restoring checkpoint: TrainingCheckpoint?, shouldStop: (Int) -> Bool, onProgress: (Progress) -> Void,
    onEpoch: (EpochRecord) -> Void, afterEpoch: (LoopState, AdamW) throws -> Void
  ) rethrows -> (records: [EpochRecord], wasStopped: Bool) {
    precondition(!train.isEmpty, "no training samples")
    let sets = model.parameterSets
    let trainable = sets.indices.filter { sets[$0].isTrainable }
    // One group per parameter set, in `parameterSets` order (checkpoints index moments by set).
    let groups = model.tokenizers.map { ParameterGroup($0.parameters) }
      + [ParameterGroup(model.encoder.parameters, learningRateScale: options.encoderLearningRateScale),
         ParameterGroup(model.head.parameters)]
    let optimiser = AdamW(groups: groups, weightDecay: options.weightDecay)
    let stepsPerEpoch = (train.count + options.batchSize - 1) / options.batchSize
    let totalSteps = stepsPerEpoch * options.epochs
    let schedule = WarmupCosineSchedule(
      peak: options.learningRate, warmupSteps: Int(Float(totalSteps) * options.warmupFraction), totalSteps: totalSteps)
    var state = checkpoint?.restore(into: sets, optimiser: optimiser)
      ?? LoopState(rng: SeededRNG(seed: options.seed).derived("train-head"))
    var wasStopped = false
    training: while !state.isFinished(options, validates: !validation.isEmpty) {
      let epoch = state.epoch + 1
      let started = Date()
      let order = state.rng.permutation(train.count)
      var lossSum = 0.0
      for batchStart in stride(from: 0, to: train.count, by: options.batchSize) {
        if shouldStop(state.epoch) {
          wasStopped = true
          break training
        }
        let indices = order[batchStart..<min(train.count, batchStart + options.batchSize)]
        let batch = indices.map { train[$0] }
        for set in sets { set.zeroGradients() }
        let outputs = model.forward(batch.map(\.inputs), training: true, rng: &state.rng)
        let dOutputs = Tensor(shape: outputs.shape)
        let loss = lossAndGradient(model.kind, outputs: outputs, targets: batch.map(\.target),
          labelSmoothing: options.labelSmoothing, dOutputs: dOutputs)
        model.backward(dOutputs.data)
        clipGradientNorm(sets, maximumNorm: options.clipNorm)
        optimiser.update(learningRate: schedule.learningRate(at: state.step))
        state.step += 1
        lossSum += Double(loss) * Double(batch.count)
        let elapsed = Date().timeIntervalSince(started)
        onProgress(Progress(epoch: epoch, step: batchStart / options.batchSize + 1, stepsPerEpoch: stepsPerEpoch,
          loss: loss, samplesPerSecond: Double(batchStart + batch.count) / max(elapsed, 1e-9)))
      }
      let seconds = Date().timeIntervalSince(started)
      var record = EpochRecord(
        epoch: epoch, trainLoss: Float(lossSum / Double(train.count)), validationLoss: nil, validationScore: nil,
        learningRate: schedule.learningRate(at: max(0, state.step - 1)), seconds: seconds,
        samplesPerSecond: Double(train.count) / max(seconds, 1e-9), isBest: false)
      if !validation.isEmpty {
        let (loss, score) = evaluate(model, validation, batchSize: options.batchSize, rng: &state.rng)
        record.validationLoss = loss
        record.validationScore = score
      }
      let score = record.validationScore ?? Float(epoch)
      // On a small validation set accuracy often ties; a lower validation loss then decides.
      let bestLoss = state.records.last(where: \.isBest)?.validationLoss ?? .infinity
      let improves = state.best.map { best in
        score > best.score || (score == best.score && (record.validationLoss ?? .infinity) < bestLoss)
      } ?? true
      if improves {
        state.best = (score, trainable.map { sets[$0].values.values })
        record.isBest = true
        state.epochsWithoutImprovement = 0
      } else {
        state.epochsWithoutImprovement += 1
      }
      state.epoch = epoch
      state.records.append(record)
      try afterEpoch(state, optimiser)
      onEpoch(record)
    }
    if let best = state.best {
      for (index, values) in zip(trainable, best.values) {
        sets[index].values.data.update(from: values, count: values.count)
      }
    }
    return (state.records, wasStopped)
  }

  /// Fits a ridge head in closed form on the frozen model's pooled embeddings.
  public static func fitRidge(_ model: TaskModel, train: [LabelledSample], options: TrainingOptions) throws {
    guard let layer = model.head.ridgeLayer else { preconditionFailure("fitRidge needs a ridge head") }
    var rng = SeededRNG(seed: options.seed).derived("ridge")
    var features: [Float] = []
    for start in stride(from: 0, to: train.count, by: options.batchSize) {
      let batch = train[start..<min(train.count, start + options.batchSize)]
      features += model.embed(batch.map(\.inputs), rng: &rng).values
    }
    let outputs = model.head.outputs
    var targets = [Float](repeating: 0, count: train.count * outputs)
    for (i, sample) in train.enumerated() {
      switch model.kind {
      case .classification: targets[i * outputs + Int(sample.target[0])] = 1
      case .multilabel, .regression:
        for k in 0..<outputs { targets[i * outputs + k] = sample.target[k] }
      }
    }
    let (weight, bias) = try RidgeProbe.fit(features: features, targets: targets, count: train.count,
      width: model.embeddingWidth, outputs: outputs, penalty: options.ridgePenalty)
    layer.weight.value.update(from: weight, count: weight.count)
    layer.bias!.value.update(from: bias, count: bias.count)
  }

  /// Mean loss and score (accuracy for classification, −loss otherwise) on `samples`.
  public static func evaluate(_ model: TaskModel, _ samples: [LabelledSample], batchSize: Int, rng: inout SeededRNG)
    -> (loss: Float, score: Float)
  {
    var lossSum = 0.0
    var correct = 0
    for start in stride(from: 0, to: samples.count, by: batchSize) {
      let batch = Array(samples[start..<min(samples.count, start + batchSize)])
      let outputs = model.forward(batch.map(\.inputs), training: false, rng: &rng)
      let loss = lossAndGradient(model.kind, outputs: outputs, targets: batch.map(\.target), labelSmoothing: 0,
        dOutputs: nil)
      lossSum += Double(loss) * Double(batch.count)
      if model.kind == .classification {
        let classes = outputs.shape[1]
        for (row, sample) in batch.enumerated() {
          let scores = UnsafeBufferPointer(start: outputs.data + row * classes, count: classes)
          if scores.firstIndex(of: scores.max()!) == Int(sample.target[0]) { correct += 1 }
        }
      }
    }
    let loss = Float(lossSum / Double(samples.count))
    return (loss, model.kind == .classification ? Float(correct) / Float(samples.count) : -loss)
  }

  /// The task's loss on `outputs` `[B, K]`; writes its gradient into `dOutputs` when given.
  public static func lossAndGradient(
    _ kind: TaskKind, outputs: Tensor, targets: [[Float]], labelSmoothing: Float, dOutputs: Tensor?
  ) -> Float {
    let width = outputs.shape[1]
    switch kind {
    case .classification:
      return Loss.softmaxCrossEntropy(logits: outputs.data, targets: targets.map { Int($0[0]) }, classes: width,
        labelSmoothing: labelSmoothing, dLogits: dOutputs?.data)
    case .multilabel:
      let flat = Tensor(shape: outputs.shape, values: targets.flatMap { $0 })
      return Loss.binaryCrossEntropyWithLogits(logits: outputs.data, targets: flat.data, count: outputs.count,
        dLogits: dOutputs?.data)
    case .regression:
      let flat = Tensor(shape: outputs.shape, values: targets.flatMap { $0 })
      return Loss.meanSquaredError(predictions: outputs.data, targets: flat.data, count: outputs.count,
        dPredictions: dOutputs?.data)
    }
  }
}
