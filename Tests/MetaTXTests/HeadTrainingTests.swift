import Foundation
import MetaTX
import Readers
import TestSupport
import XCTest

/// The task recipe end to end in the library: real tokenizer (time series),
/// a small encoder, a head, AdamW; frozen, tuned and ridge variants.
final class HeadTrainingTests: XCTestCase {
  private var folder: URL!
  override func setUpWithError() throws { folder = try makeTemporaryFolder() }
  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

  /// Three shapes of series (sine, square wave, ramp) with random phase,
  /// frequency jitter and noise; returns paths and labels.
  private func makeSeries(count: Int, seed: UInt64) throws -> [(String, Int)] {
    var rng = SeededRNG(seed: seed)
    return try (0..<count).map { index in
      let label = index % 3
      let phase = Double(rng.uniform(0, 6.28)), frequency = Double(rng.uniform(0.15, 0.25))
      let values: [Float] = (0..<64).map { t in
        let angle = phase + frequency * Double(t)
        let clean: Double = switch label {
        case 0: sin(angle)
        case 1: sin(angle) >= 0 ? 1 : -1
        default: (angle.truncatingRemainder(dividingBy: 6.28) / 3.14) - 1
        }
        return Float(clean) + rng.normal(mean: 0, std: 0.1)
      }
      let path = folder.appendingPathComponent("series-\(seed)-\(index).npy").path
      try NPYArray(shape: [64], values: values).write(to: path)
      return (path, label)
    }
  }

  /// Max pooling: with a frozen random encoder (near-identity blocks), mean
  /// pooling of linear patch tokens would average the shape away.
  private func makeModel(head kind: HeadKind, paths: [String], seed: UInt64 = 1) throws -> TaskModel {
    var rng = SeededRNG(seed: seed)
    let encoder = Encoder(config: EncoderConfig(dim: 32, depth: 2, heads: 4), rng: &rng)
    let tokenizer = try XCTUnwrap(Modality.timeSeries.freshTokenizer(fittingTo: paths, dim: 32, rng: &rng))
    let head = TaskHead(kind: kind, inputWidth: 32, outputs: 3)
    head.initialise(&rng)
    return TaskModel(kind: .classification, labels: ["sine", "square", "ramp"], tokenizers: [tokenizer],
      encoder: encoder, pooling: .max, head: head)
  }

  private func samples(_ model: TaskModel, _ data: [(String, Int)]) throws -> [LabelledSample] {
    try data.map { path, label in
      LabelledSample(inputs: [try model.tokenizers[0].read(path: path)[0]], target: [Float(label)])
    }
  }

  func testFrozenEncoderTrainsTokenizerAndHeadAndKeepsTheEncoder() throws {
    let trainData = try makeSeries(count: 90, seed: 10), validationData = try makeSeries(count: 45, seed: 11)
    let model = try makeModel(head: .linear, paths: trainData.map(\.0))
    let encoderBefore = model.encoder.parameters.values.values
    let tokenizerBefore = model.tokenizers[0].parameters.values.values
    var options = TrainingOptions()
    options.epochs = 12
    options.batchSize = 16
    options.learningRate = 1e-2
    var epochs: [EpochRecord] = []
    let records = HeadTraining.train(model, train: try samples(model, trainData),
      validation: try samples(model, validationData), options: options, onEpoch: { epochs.append($0) })
    XCTAssertEqual(records, epochs)
    XCTAssertLessThan(records.last!.trainLoss, records.first!.trainLoss * 0.5, "\(records.map(\.trainLoss))")
    let best = records.filter(\.isBest).last!
    XCTAssertGreaterThan(best.validationScore!, 0.9, "validation accuracy \(records.map { $0.validationScore! })")
    // The best epoch has the top accuracy and, among epochs tied on it, the lowest validation loss.
    let top = records.map { $0.validationScore! }.max()!
    let tied = records.filter { $0.validationScore! == top }
    XCTAssertEqual(best.epoch, tied.min { $0.validationLoss! < $1.validationLoss! }!.epoch, "\(records)")
    XCTAssertEqual(model.encoder.parameters.values.values, encoderBefore, "a frozen encoder does not change")
    XCTAssertNotEqual(model.tokenizers[0].parameters.values.values, tokenizerBefore, "the tokenizer learns")
    // The model keeps the best epoch's parameters: evaluating gives its score.
    var rng = SeededRNG(seed: 0)
    let (_, score) = HeadTraining.evaluate(model, try samples(model, validationData), batchSize: 16, rng: &rng)
    XCTAssertEqual(score, best.validationScore!, accuracy: 1e-6)
  }

  func testTrainingIsReproducibleFromTheSeedAndTuningChangesTheEncoder() throws {
    let trainData = try makeSeries(count: 30, seed: 20)
    var options = TrainingOptions()
    options.epochs = 2
    options.batchSize = 8
    options.tuneEncoder = true
    let first = try makeModel(head: .mlp, paths: trainData.map(\.0))
    let second = try makeModel(head: .mlp, paths: trainData.map(\.0))
    let before = first.encoder.parameters.values.values
    let a = HeadTraining.train(first, train: try samples(first, trainData), validation: [], options: options)
    let b = HeadTraining.train(second, train: try samples(second, trainData), validation: [], options: options)
    XCTAssertEqual(a.map(\.trainLoss), b.map(\.trainLoss))
    XCTAssertEqual(first.head.parameters.values.values, second.head.parameters.values.values)
    XCTAssertNotEqual(first.encoder.parameters.values.values, before, "a tuned encoder trains")
  }

  func testRidgeProbeOnFrozenEmbeddingsBeatsChance() throws {
    let trainData = try makeSeries(count: 90, seed: 30), testData = try makeSeries(count: 45, seed: 31)
    let model = try makeModel(head: .ridge, paths: trainData.map(\.0))
    try HeadTraining.fitRidge(model, train: try samples(model, trainData), options: TrainingOptions())
    var rng = SeededRNG(seed: 0)
    let (_, accuracy) = HeadTraining.evaluate(model, try samples(model, testData), batchSize: 32, rng: &rng)
    XCTAssertGreaterThan(accuracy, 0.6, "ridge on random features, three classes (chance 0.33)")
  }

  /// A model of `head` trained one epoch on 12 series, with its task record.
  private func oneEpochTask(head: HeadKind, seed: UInt64, encoderSource: String) throws
    -> (model: TaskModel, record: TaskRecord, trainData: [(String, Int)])
  {
    let trainData = try makeSeries(count: 12, seed: seed)
    let model = try makeModel(head: head, paths: trainData.map(\.0))
    var options = TrainingOptions()
    options.epochs = 1
    let records = HeadTraining.train(model, train: try samples(model, trainData), validation: [], options: options)
    let record = TaskRecord(kind: .classification, labels: model.labels, inputs: model.inputs, pooling: model.pooling,
      head: head, outputs: 3, encoderSource: encoderSource, options: options, epochs: records)
    return (model, record, trainData)
  }

  func testTaskFileRoundTripGivesIdenticalOutputs() throws {
    let (model, record, trainData) = try oneEpochTask(head: .mlp, seed: 40, encoderSource: "random:test")
    let path = folder.appendingPathComponent("task.safetensors").path
    try TaskFile.write(model, record: record, to: path)
    let (loaded, loadedRecord) = try TaskFile.load(path: path)
    XCTAssertEqual(loadedRecord, record)
    var rng = SeededRNG(seed: 0)
    let inputs = try samples(model, trainData).map(\.inputs)
    let reloadedInputs = try samples(loaded, trainData).map(\.inputs)
    XCTAssertEqual(model.forward(inputs, training: false, rng: &rng).values,
      loaded.forward(reloadedInputs, training: false, rng: &rng).values)
    XCTAssertThrowsError(try TaskFile.load(path: trainData[0].0)) { XCTAssertTrue("\($0)".contains("series-40-0.npy:"), "\($0)") }
  }

  /// A frozen encoder named by path and SHA-256: the task file holds no
  /// encoder tensors, loads to the same outputs, finds the encoder beside the
  /// task file when both moved, and refuses a changed or missing encoder.
  func testTaskFileNamesAFrozenEncoderByDigest() throws {
    let (model, record, trainData) = try oneEpochTask(head: .linear, seed: 45, encoderSource: "enc.safetensors")
    let encoderPath = folder.appendingPathComponent("enc.safetensors").path
    try model.encoder.write(to: encoderPath)
    let reference = try EncoderReference(path: encoderPath, prefix: "", heads: model.encoder.config.heads,
      isBuiltInDefault: false)
    let taskPath = folder.appendingPathComponent("task.safetensors").path
    try TaskFile.write(model, record: record, to: taskPath, encoderReference: reference)
    XCTAssertFalse(try SafeTensorsFile(path: taskPath).names.contains { $0.hasPrefix("encoder.") })

    var rng = SeededRNG(seed: 0)
    let inputs = try samples(model, trainData).map(\.inputs)
    let expected = model.forward(inputs, training: false, rng: &rng).values
    let (loaded, _) = try TaskFile.load(path: taskPath)
    XCTAssertEqual(loaded.forward(try samples(loaded, trainData).map(\.inputs), training: false, rng: &rng).values,
      expected)

    // Both files moved to another folder: the encoder is found beside the task.
    let moved = folder.appendingPathComponent("moved")
    try FileManager.default.createDirectory(at: moved, withIntermediateDirectories: true)
    let movedTask = moved.appendingPathComponent("task.safetensors").path
    try FileManager.default.moveItem(atPath: taskPath, toPath: movedTask)
    try FileManager.default.moveItem(atPath: encoderPath, toPath: moved.appendingPathComponent("enc.safetensors").path)
    XCTAssertNoThrow(try TaskFile.load(path: movedTask))

    // Missing: the error names the task, the path looked at and the remedy.
    try FileManager.default.removeItem(atPath: moved.appendingPathComponent("enc.safetensors").path)
    XCTAssertThrowsError(try TaskFile.load(path: movedTask)) { error in
      let text = "\(error)"
      XCTAssertTrue(text.contains(movedTask) && text.contains("enc.safetensors is missing")
        && text.contains("--embed-encoder"), text)
    }

    // Changed: another encoder of the same shape under the recorded name is refused.
    var otherRng = SeededRNG(seed: 99)
    try Encoder(config: model.encoder.config, rng: &otherRng).write(to: encoderPath)
    XCTAssertThrowsError(try TaskFile.load(path: movedTask)) { error in
      XCTAssertTrue("\(error)".contains("has changed"), "\(error)")
    }
  }

  /// 4 epochs straight against 2 epochs and part of a third, stopped, then
  /// resumed: the final checkpoints (values, AdamW moments, best values) and
  /// the task model's parameters agree bit for bit.
  func testResumingFromACheckpointGivesTheUninterruptedRunBitForBit() throws {
    let trainData = try makeSeries(count: 30, seed: 50), validationData = try makeSeries(count: 12, seed: 51)
    var options = TrainingOptions()
    options.epochs = 4
    options.batchSize = 8
    options.learningRate = 1e-2
    options.tuneEncoder = true  // the encoder's moments are in the checkpoint too
    func run(_ checkpoint: String, resume: Bool, stopAfterSteps: Int? = nil) throws -> (TaskModel, HeadTraining.Outcome) {
      let model = try makeModel(head: .mlp, paths: trainData.map(\.0))
      var steps = 0
      let outcome = try HeadTraining.train(model, train: try samples(model, trainData),
        validation: try samples(model, validationData), options: options, checkpoint: checkpoint, resume: resume,
        shouldStop: { _ in
          steps += 1
          return stopAfterSteps.map { steps > $0 } ?? false
        })
      return (model, outcome)
    }
    let straightPath = folder.appendingPathComponent("straight.checkpoint").path
    let (straight, straightOutcome) = try run(straightPath, resume: false)
    XCTAssertFalse(straightOutcome.wasStopped)
    XCTAssertNil(straightOutcome.resumedAfterEpoch)

    let path = folder.appendingPathComponent("resumed.checkpoint").path
    // Four steps an epoch: stopping before the 11th stops in the third epoch's third step.
    let (_, stopped) = try run(path, resume: false, stopAfterSteps: 10)
    XCTAssertTrue(stopped.wasStopped)
    XCTAssertEqual(stopped.records.map(\.epoch), [1, 2], "the unfinished epoch leaves no record")
    let (resumed, resumedOutcome) = try run(path, resume: true)
    XCTAssertEqual(resumedOutcome.resumedAfterEpoch, 2)
    XCTAssertFalse(resumedOutcome.wasStopped)

    func withoutTimings(_ records: [EpochRecord]) -> [EpochRecord] {
      records.map { var record = $0; record.seconds = 0; record.samplesPerSecond = 0; return record }
    }
    XCTAssertEqual(withoutTimings(resumedOutcome.records), withoutTimings(straightOutcome.records))
    for (index, (a, b)) in zip(straight.parameterSets, resumed.parameterSets).enumerated() {
      XCTAssertEqual(a.values.values, b.values.values, "parameter set \(index)")
    }
    let a = try SafeTensorsFile(path: straightPath), b = try SafeTensorsFile(path: path)
    XCTAssertEqual(a.names, b.names)
    XCTAssertTrue(a.names.contains("adamw.m.1"), "the tuned encoder's moments: \(a.names)")
    for name in a.names { XCTAssertEqual(try a.floats(name), try b.floats(name), name) }
  }

  func testACheckpointOfOtherOptionsOrDataIsRefusedByName() throws {
    let trainData = try makeSeries(count: 12, seed: 60)
    let model = try makeModel(head: .linear, paths: trainData.map(\.0))
    let trainSamples = try samples(model, trainData)
    var options = TrainingOptions()
    options.epochs = 1
    let path = folder.appendingPathComponent("task.safetensors.checkpoint").path
    var improvements: [[EpochRecord]] = []
    _ = try HeadTraining.train(model, train: trainSamples, validation: [], options: options, checkpoint: path,
      resume: false, onImprovement: { improvements.append($0) })
    XCTAssertEqual(improvements.map(\.count), [1])
    options.epochs = 3
    XCTAssertThrowsError(try HeadTraining.train(model, train: trainSamples, validation: [], options: options,
      checkpoint: path, resume: true)) {
      XCTAssertTrue("\($0)".hasPrefix("\(path): belongs to another run (options.epochs: 1 in the checkpoint, 3 now)"), "\($0)")
    }
    options.epochs = 1
    XCTAssertThrowsError(try HeadTraining.train(model, train: Array(trainSamples.dropLast()), validation: [],
      options: options, checkpoint: path, resume: true)) {
      XCTAssertTrue("\($0)".contains("trainingSamples: 12 in the checkpoint, 11 now"), "\($0)")
    }
    // A finished run's checkpoint resumes to its records without training further.
    let finished = try HeadTraining.train(model, train: trainSamples, validation: [], options: options,
      checkpoint: path, resume: true, shouldStop: { _ in XCTFail("no step after the last epoch"); return true })
    XCTAssertEqual(finished.resumedAfterEpoch, 1)
    XCTAssertEqual(finished.records.count, 1)
  }
}
