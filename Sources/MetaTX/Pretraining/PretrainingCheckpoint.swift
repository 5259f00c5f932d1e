import Foundation
import Kernels
import Readers

/// What a pretraining checkpoint must match to be continued: the options,
/// the data (pair types and counts), the parameter layout, and the
/// parameters the run started from.
public struct PretrainingFingerprint: Codable, Equatable, Sendable, RunFingerprint {
  public var options: PretrainingOptions
  /// Each training set's pair type, "first-second", in training order.
  public var pairTypes: [String]
  public var trainingPairs: [Int]
  public var validationPairs: [Int]
  /// Scalar count of each of `Pretraining.parameterSets`, in that order.
  public var parameterCounts: [Int]
  /// FNV-1a over every parameter's value before training (hex): another
  /// `--init` encoder, seed or tokenizer fit is another run.
  public var initialChecksum: String

  /// The fingerprint of pretraining `parameterSets` (still at their starting values) on `training`.
  public init(training: [PairSet], validation: [PairSet], options: PretrainingOptions, parameterSets: [ParameterSet]) {
    var initial = FNV1a()
    for set in parameterSets { for index in 0..<set.count { initial.add(set.values[index]) } }
    self.options = options
    pairTypes = training.map { "\($0.first.rawValue)-\($0.second.rawValue)" }
    trainingPairs = training.map(\.pairs.count)
    validationPairs = validation.map(\.pairs.count)
    parameterCounts = parameterSets.map(\.count)
    initialChecksum = initial.hex
  }
}

/// A pretraining run's complete state between two steps, in one safetensors
/// file: continuing from it gives, bit for bit, the parameters of a run that
/// was never stopped, also from the middle of an epoch.
///
/// Tensors, flat F32 `[count]`, per parameter set `i` (its index in
/// `Pretraining.parameterSets`): `values.i`, `adamw.m.i`, `adamw.v.i`.
/// `__metadata__["checkpoint"]` holds the `Record` as JSON: the step, the
/// generator, and the epoch in progress as its untaken batches.
public struct PretrainingCheckpoint {
  public static let format = "metatx-pretraining-checkpoint"
  public static let formatVersion = 1

  /// The checkpoint's JSON part.
  public struct Record: Codable, Equatable, Sendable {
    public var fingerprint: PretrainingFingerprint
    /// Epochs completed.
    public var epoch: Int
    /// Optimiser steps taken: AdamW's step count and the schedule's position.
    public var step: Int
    /// The training generator after the last complete step (and the epoch's shuffle).
    public var rng: SeededRNG.Snapshot
    /// The epoch in progress: per training set, its batches (pair indices) not yet taken;
    /// nil between epochs.
    public var queues: [[[Int]]]?
    /// The set whose turn it is in the round-robin.
    public var nextSet: Int
    /// The epoch in progress so far: Σ loss × batch size, pairs trained, seconds spent.
    public var lossSum: Double
    public var pairsSeen: Int
    public var seconds: Double
    /// The records of the completed epochs.
    public var epochs: [PretrainingEpoch]
  }

  public let record: Record
  /// Per parameter set, in `Pretraining.parameterSets` order.
  let values: [[Float]]
  let firstMoments: [[Float]]
  let secondMoments: [[Float]]

  /// The checkpoint beside a model file: `MODEL.checkpoint`.
  public static func path(besideModelFile modelFile: String) -> String { modelFile + ".checkpoint" }

  /// Writes the loop's state atomically (temporary file, then rename).
  static func write(
    to path: String, fingerprint: PretrainingFingerprint, sets: [ParameterSet], optimiser: AdamW,
    state: Pretraining.LoopState
  ) throws {
    let record = Record(fingerprint: fingerprint, epoch: state.epoch, step: state.step, rng: state.rng.snapshot,
      queues: state.queues, nextSet: state.nextSet, lossSum: state.lossSum, pairsSeen: state.pairsSeen,
      seconds: state.seconds, epochs: state.records)
    try CheckpointFile.write(to: path, format: format, version: formatVersion, record: record) { writer in
      for (index, set) in sets.enumerated() {
        writer.add("values.\(index)", tensor: set.values)
        writer.add("adamw.m.\(index)", tensor: optimiser.firstMoments[index])
        writer.add("adamw.v.\(index)", tensor: optimiser.secondMoments[index])
      }
    }
  }

  /// Reads the checkpoint at `path` and checks that it continues the run
  /// `fingerprint` describes; a mismatch is an error naming what differs.
  public static func read(path: String, expecting fingerprint: PretrainingFingerprint) throws -> PretrainingCheckpoint {
    let (file, record) = try CheckpointFile.read(path: path, format: format, version: formatVersion, as: Record.self,
      expecting: fingerprint, fingerprintOf: \.fingerprint)
    let sets = fingerprint.trainingPairs.count
    let queuesFit = record.queues.map { queues in
      queues.count == sets && zip(queues, fingerprint.trainingPairs).allSatisfy { batches, pairs in
        batches.allSatisfy { batch in batch.allSatisfy { (0..<pairs).contains($0) } }
      }
    } ?? true
    guard SeededRNG(restoring: record.rng) != nil, record.epoch >= 0, record.epoch == record.epochs.count,
      record.step >= 0, queuesFit, (0..<max(sets, 1)).contains(record.nextSet)
    else { throw ReaderError(file: path, "the checkpoint's progress record is inconsistent") }
    let counts = fingerprint.parameterCounts
    return PretrainingCheckpoint(
      record: record,
      values: try counts.indices.map { try CheckpointFile.floats(file, "values.\($0)", count: counts[$0]) },
      firstMoments: try counts.indices.map { try CheckpointFile.floats(file, "adamw.m.\($0)", count: counts[$0]) },
      secondMoments: try counts.indices.map { try CheckpointFile.floats(file, "adamw.v.\($0)", count: counts[$0]) })
  }

  /// Puts the checkpoint's values and moments into `sets` and `optimiser`
  /// and returns the loop state to continue from.
  func restore(into sets: [ParameterSet], optimiser: AdamW) -> Pretraining.LoopState {
    for index in sets.indices {
      sets[index].values.data.update(from: values[index], count: values[index].count)
      optimiser.firstMoments[index].data.update(from: firstMoments[index], count: firstMoments[index].count)
      optimiser.secondMoments[index].data.update(from: secondMoments[index], count: secondMoments[index].count)
    }
    optimiser.restore(step: record.step)
    return Pretraining.LoopState(
      epoch: record.epoch, step: record.step, rng: SeededRNG(restoring: record.rng)!, queues: record.queues,
      nextSet: record.nextSet, lossSum: record.lossSum, pairsSeen: record.pairsSeen, seconds: record.seconds,
      records: record.epochs)
  }
}
