import Foundation
import Kernels
import Readers

/// What a checkpoint must match to be continued: the training options, the
/// data (sample counts and a checksum of the targets), and the model's
/// parameter layout, trainable sets and frozen values.
public struct TrainingFingerprint: Codable, Equatable, Sendable {
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

  /// The settings that differ from `other`, as `name: A in the checkpoint, B now`
  /// (options by name, e.g. `options.epochs: 4 in the checkpoint, 6 now`).
  func differences(checkpoint other: TrainingFingerprint) -> [String] {
    let now = flattened(self), then = flattened(other)
    return Set(now.keys).union(then.keys).sorted().compactMap { key in
      now[key] == then[key] ? nil : "\(key): \(then[key] ?? "absent") in the checkpoint, \(now[key] ?? "absent") now"
    }
  }

  /// Every field as compact JSON text, nested objects' fields as `outer.inner`.
  private func flattened(_ fingerprint: TrainingFingerprint) -> [String: String] {
    guard let data = try? JSONEncoder().encode(fingerprint),
      let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    else { preconditionFailure("a fingerprint always encodes as a JSON object") }
    var fields: [String: String] = [:]
    func add(_ value: Any, at key: String) {
      if let nested = value as? [String: Any] {
        for (name, inner) in nested { add(inner, at: "\(key).\(name)") }
      } else if let text = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed]) {
        fields[key] = String(decoding: text, as: UTF8.self)
      }
    }
    for (name, value) in object { add(value, at: name) }
    return fields
  }
}

/// 64-bit FNV-1a over float bit patterns: a cheap identity check, not a cryptographic one.
private struct FNV1a {
  private var hash: UInt64 = 0xCBF2_9CE4_8422_2325

  mutating func add(_ value: Float) {
    var bits = value.bitPattern
    for _ in 0..<4 {
      hash ^= UInt64(bits & 0xFF)
      hash = hash &* 0x100_0000_01B3
      bits >>= 8
    }
  }

  var hex: String { String(hash, radix: 16) }
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
    var writer = SafeTensorsWriter()
    for (position, index) in fingerprint.trainableIndices.enumerated() {
      writer.add("values.\(index)", tensor: sets[index].values)
      writer.add("adamw.m.\(index)", tensor: optimiser.firstMoments[index])
      writer.add("adamw.v.\(index)", tensor: optimiser.secondMoments[index])
      writer.add("best.\(index)", shape: [best.values[position].count], floats: best.values[position])
    }
    writer.add("best.score", shape: [1], floats: [best.score])
    let record = Record(fingerprint: fingerprint, epoch: state.epoch, step: state.step, rng: state.rng.snapshot,
      epochsWithoutImprovement: state.epochsWithoutImprovement, epochs: state.records)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    // A diverged run's NaN or infinite losses go as text: JSON has no such numbers.
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    let json = String(decoding: try encoder.encode(record), as: UTF8.self)
    try writer.write(to: path, metadata: [
      "format": format, "format_version": String(formatVersion), "metatx_version": metatxVersion, "checkpoint": json,
    ])
  }

  /// Reads the checkpoint at `path` and checks that it continues the run
  /// `fingerprint` describes; a mismatch is an error naming what differs.
  public static func read(path: String, expecting fingerprint: TrainingFingerprint) throws -> TrainingCheckpoint {
    let file = try SafeTensorsFile(path: path)
    guard file.metadata["format"] == format, let json = file.metadata["checkpoint"] else {
      throw ReaderError(file: path, "not a metatx training checkpoint")
    }
    guard let version = Int(file.metadata["format_version"] ?? ""), version <= formatVersion else {
      throw ReaderError(file: path, "checkpoint format version \(file.metadata["format_version"] ?? "missing") is newer than this metatx understands")
    }
    let record: Record
    do {
      let decoder = JSONDecoder()
      decoder.nonConformingFloatDecodingStrategy = .convertFromString(
        positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
      record = try decoder.decode(Record.self, from: Data(json.utf8))
    } catch {
      throw ReaderError(file: path, "the checkpoint description is unreadable: \(error)")
    }
    let differences = fingerprint.differences(checkpoint: record.fingerprint)
    guard differences.isEmpty else {
      throw ReaderError(file: path, "belongs to another run (\(differences.joined(separator: "; "))); "
        + "resume with the same options and data, or delete it to start afresh")
    }
    guard SeededRNG(restoring: record.rng) != nil, record.epoch >= 1, record.epoch == record.epochs.count,
      record.step >= 0
    else { throw ReaderError(file: path, "the checkpoint's progress record is inconsistent") }
    func floats(_ name: String, count: Int) throws -> [Float] {
      guard let info = file.info(name) else { throw ReaderError(file: path, "missing tensor \(name)") }
      guard info.shape == [count] else {
        throw ReaderError(file: path, "tensor \(name) has shape \(info.shape), expected [\(count)]")
      }
      return try file.floats(name)
    }
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
