import Foundation
import Kernels
import Readers

/// What a checkpoint must match to be continued: the training options, the
/// data (sample counts and a checksum of the targets), and the model's
/// parameter layout, trainable sets and frozen values.
public struct TrainingFingerprint: Codable, Equatable, Sendable, RunFingerprint {
  public var options: TrainingOptions
  public var trainingSamples: Int
  public var validationSamples: Int
  /// FNV-1a over the bits of every target value, training then validation (hex).
  public var targetChecksum: String
  /// Scalar count of each of `TaskModel.parameterSets`, in that order.
  public var parameterCounts: [Int]
  /// Which of those sets train.
  public var trainable: [Bool]
  /// FNV-1a over the frozen sets' values (hex): another frozen encoder is another run.
  public var frozenChecksum: String

  /// The fingerprint of training `model` (its sets already frozen or not as `options` say).
  init(model: TaskModel, train: [LabelledSample], validation: [LabelledSample], options: TrainingOptions) {
    let sets = model.parameterSets
    var targets = FNV1a()
    for sample in train + validation { for value in sample.target { targets.add(value) } }
    var frozen = FNV1a()
    for set in sets where !set.isTrainable { for index in 0..<set.count { frozen.add(set.values[index]) } }
    self.options = options
    trainingSamples = train.count
    validationSamples = validation.count
    targetChecksum = targets.hex
    parameterCounts = sets.map(\.count)
    trainable = sets.map(\.isTrainable)
    frozenChecksum = frozen.hex
  }
}

/// A training run's complete state after a whole epoch, in one safetensors
/// file: continuing from it gives, bit for bit, the parameters of a run that
/// was never stopped.
///
/// Tensors, flat F32 `[count]`, one per trainable parameter set `i` (its index
/// in `TaskModel.parameterSets`): `values.i`, `adamw.m.i`, `adamw.v.i`,
/// `best.i`, and `best.score` `[1]` (stored as a tensor so the float is exact).
/// `__metadata__["checkpoint"]` holds the `Record` as JSON. Frozen sets are
/// not stored: they never change, and the fingerprint checks they are the same.
public struct TrainingCheckpoint {
  public static let format = "metatx-checkpoint"
  public static let formatVersion = 1

  /// The checkpoint's JSON part.
  public struct Record: Codable, Equatable, Sendable {
    public var fingerprint: TrainingFingerprint
    /// Epochs completed.
    public var epoch: Int
    /// Optimiser steps taken: AdamW's step count and the schedule's position.
    public var step: Int
    /// The training generator after the epoch's shuffling, tokenizer randomness and validation.
    public var rng: SeededRNG.Snapshot
    public var epochsWithoutImprovement: Int
    /// The records of the completed epochs.
    public var epochs: [EpochRecord]
  }

  public let record: Record
  /// Per trainable set, in `record.fingerprint.trainable` order: values, AdamW moments, best-epoch values.
  let values: [[Float]]
  let firstMoments: [[Float]]
  let secondMoments: [[Float]]
  let bestValues: [[Float]]
  let bestScore: Float

  /// The checkpoint beside a task file: `TASK.checkpoint`.
  public static func path(besideTaskFile taskFile: String) -> String { taskFile + ".checkpoint" }

  /// Writes the loop's state after an epoch atomically (temporary file, then rename).
  static func write(
    to path: String, fingerprint: TrainingFingerprint, sets: [ParameterSet], optimiser: AdamW,
    state: HeadTraining.LoopState
  ) throws {
    guard let best = state.best else { preconditionFailure("a checkpoint follows a completed epoch, which sets a best") }
    let record = Record(fingerprint: fingerprint, epoch: state.epoch, step: state.step, rng: state.rng.snapshot,
      epochsWithoutImprovement: state.epochsWithoutImprovement, epochs: state.records)
    try CheckpointFile.write(to: path, format: format, version: formatVersion, record: record) { writer in
      for (position, index) in fingerprint.trainableIndices.enumerated() {
        writer.add("values.\(index)", tensor: sets[index].values)
        writer.add("adamw.m.\(index)", tensor: optimiser.firstMoments[index])
        writer.add("adamw.v.\(index)", tensor: optimiser.secondMoments[index])
        writer.add("best.\(index)", shape: [best.values[position].count], floats: best.values[position])
      }
      writer.add("best.score", shape: [1], floats: [best.score])
    }
  }

  /// Reads the checkpoint at `path` and checks that it continues the run
  /// `fingerprint` describes; a mismatch is an error naming what differs.
  public static func read(path: String, expecting fingerprint: TrainingFingerprint) throws -> TrainingCheckpoint {
    let (file, record) = try CheckpointFile.read(path: path, format: format, version: formatVersion, as: Record.self,
      expecting: fingerprint, fingerprintOf: \.fingerprint)
    guard SeededRNG(restoring: record.rng) != nil, record.epoch >= 1, record.epoch == record.epochs.count,
      record.step >= 0
    else { throw ReaderError(file: path, "the checkpoint's progress record is inconsistent") }
    func floats(_ name: String, count: Int) throws -> [Float] { try CheckpointFile.floats(file, name, count: count) }
    let indices = fingerprint.trainableIndices
    let counts = indices.map { fingerprint.parameterCounts[$0] }
    return TrainingCheckpoint(
      record: record,
      values: try zip(indices, counts).map { try floats("values.\($0)", count: $1) },
      firstMoments: try zip(indices, counts).map { try floats("adamw.m.\($0)", count: $1) },
      secondMoments: try zip(indices, counts).map { try floats("adamw.v.\($0)", count: $1) },
      bestValues: try zip(indices, counts).map { try floats("best.\($0)", count: $1) },
      bestScore: try floats("best.score", count: 1)[0])
  }

  /// Puts the checkpoint's values and moments into `sets` and `optimiser`
  /// (laid out as the fingerprint this checkpoint was read against) and
  /// returns the loop state to continue from.
  func restore(into sets: [ParameterSet], optimiser: AdamW) -> HeadTraining.LoopState {
    for (position, index) in record.fingerprint.trainableIndices.enumerated() {
      sets[index].values.data.update(from: values[position], count: values[position].count)
      optimiser.firstMoments[index].data.update(from: firstMoments[position], count: firstMoments[position].count)
      optimiser.secondMoments[index].data.update(from: secondMoments[position], count: secondMoments[position].count)
    }
    optimiser.restore(step: record.step)
    return HeadTraining.LoopState(
      epoch: record.epoch, step: record.step, rng: SeededRNG(restoring: record.rng)!,
      best: (bestScore, bestValues), epochsWithoutImprovement: record.epochsWithoutImprovement,
      records: record.epochs)
  }
}

extension TrainingFingerprint {
  /// Indices into `TaskModel.parameterSets` of the sets that train.
  var trainableIndices: [Int] { trainable.indices.filter { trainable[$0] } }
}
