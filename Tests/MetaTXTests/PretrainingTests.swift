import Foundation
import MetaTX
import TestSupport
import XCTest

/// Contrastive pretraining end to end on generated pairs: two renderings of
/// one hidden vector (a time series and a spectrum) must find each other.
final class PretrainingTests: XCTestCase {
  private var folder: URL!
  override func setUpWithError() throws { folder = try makeTemporaryFolder() }
  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

  /// Pairs sharing a latent z ∈ R⁴: series(t) = Σ z_k sin((k+1)·t/4), spectrum(b) = Σ z_k cos((k+1)·b/4).
  private func makePairs(count: Int, seed: UInt64) throws -> [(String, String)] {
    var rng = SeededRNG(seed: seed)
    return try (0..<count).map { index in
      let z = (0..<4).map { _ in Double(rng.normal()) }
      func render(_ wave: (Double) -> Double) -> [Float] {
        (0..<32).map { position -> Float in
          var sum = 0.0
          for k in 0..<4 { sum += z[k] * wave(Double(k + 1) * Double(position) / 4) }
          return Float(sum)
        }
      }
      let series = render(sin)
      let spectrum = render(cos)
      let seriesPath = folder.appendingPathComponent("s\(seed)-\(index).npy").path
      let spectrumPath = folder.appendingPathComponent("h\(seed)-\(index).npy").path
      try NPYArray(shape: [32], values: series).write(to: seriesPath)
      try NPYArray(shape: [1, 32], values: spectrum).write(to: spectrumPath)
      return (seriesPath, spectrumPath)
    }
  }

  func testPretrainingAlignsTwoModalitiesWellAboveChance() throws {
    let train = try makePairs(count: 96, seed: 1), validation = try makePairs(count: 32, seed: 2)
    var rng = SeededRNG(seed: 3)
    let encoder = Encoder(config: EncoderConfig(dim: 32, depth: 1, heads: 4), rng: &rng)
    let series = try XCTUnwrap(Modality.timeSeries.freshTokenizer(fittingTo: train.map(\.0), dim: 32, rng: &rng))
    let spectra = try XCTUnwrap(Modality.hyperspectral.freshTokenizer(fittingTo: train.map(\.1), dim: 32, rng: &rng))
    let projections = ContrastiveProjections(modalities: [.timeSeries, .hyperspectral], inputWidth: 32, embeddingWidth: 16)
    projections.initialise(&rng)
    let pretraining = Pretraining(encoder: encoder, tokenizers: [.timeSeries: series, .hyperspectral: spectra],
      projections: projections, pooling: .max)
    func pairSet(_ paths: [(String, String)]) throws -> PairSet {
      PairSet(first: .timeSeries, second: .hyperspectral,
        pairs: try paths.map { (try series.read(path: $0.0)[0], try spectra.read(path: $0.1)[0]) })
    }
    let before = try pretraining.retrieval(try pairSet(validation), batchSize: 32)
    var options = PretrainingOptions()
    options.epochs = 40
    options.batchSize = 32
    options.learningRate = 1e-2
    options.warmupSteps = 5
    let epochs = try pretraining.train([try pairSet(train)], validation: [try pairSet(validation)], options: options)
    let after = try pretraining.retrieval(try pairSet(validation), batchSize: 32)
    let recallBefore = before.directions[0].recallAtK[0].recall
    let recallAfter = after.directions[0].recallAtK[0].recall
    XCTAssertLessThan(epochs.last!.loss, epochs.first!.loss, "\(epochs.map(\.loss))")
    XCTAssertGreaterThan(recallAfter, 0.25, "recall@1 \(recallBefore) → \(recallAfter); chance is 1/32")
    XCTAssertLessThanOrEqual(projections.logitScale, InfoNCE.maximumLogitScale)
    // Both modalities land in one space of unit vectors of the same width.
    let seriesEmbedding = pretraining.embed([try series.read(path: train[0].0)[0]], modality: .timeSeries, batchSize: 1)
    let spectrumEmbedding = pretraining.embed([try spectra.read(path: train[0].1)[0]], modality: .hyperspectral, batchSize: 1)
    XCTAssertEqual(seriesEmbedding.shape, spectrumEmbedding.shape)
    XCTAssertEqual(seriesEmbedding.values.reduce(0) { $0 + $1 * $1 }, 1, accuracy: 1e-4)
  }

  /// A fresh tiny model (dim 16, depth 1), the same for the same seed, and
  /// two pair sets of different sizes (so the round-robin runs out of one first).
  private func makeTinyRun(_ train: [(String, String)]) throws -> (Pretraining, [PairSet]) {
    var rng = SeededRNG(seed: 5)
    let encoder = Encoder(config: EncoderConfig(dim: 16, depth: 1, heads: 2), rng: &rng)
    let series = try XCTUnwrap(Modality.timeSeries.freshTokenizer(fittingTo: train.map(\.0), dim: 16, rng: &rng))
    let spectra = try XCTUnwrap(Modality.hyperspectral.freshTokenizer(fittingTo: train.map(\.1), dim: 16, rng: &rng))
    let projections = ContrastiveProjections(modalities: [.timeSeries, .hyperspectral], inputWidth: 16, embeddingWidth: 8)
    projections.initialise(&rng)
    let samples = try train.map { (try series.read(path: $0.0)[0], try spectra.read(path: $0.1)[0]) }
    let sets = [
      PairSet(first: .timeSeries, second: .hyperspectral, pairs: Array(samples.prefix(20))),
      PairSet(first: .hyperspectral, second: .timeSeries, pairs: samples.suffix(10).map { ($0.1, $0.0) }),
    ]
    return (Pretraining(encoder: encoder, tokenizers: [.timeSeries: series, .hyperspectral: spectra],
      projections: projections, pooling: .mean), sets)
  }

  private var tinyOptions: PretrainingOptions {
    var options = PretrainingOptions()
    options.epochs = 3
    options.batchSize = 6
    options.learningRate = 1e-2
    options.warmupSteps = 2
    options.seed = 9
    return options
  }

  /// Stopped after step 3 of 18 (mid-epoch, mid round-robin pass) and
  /// resumed, a run ends with exactly the parameters and epoch losses of a
  /// run never stopped; every step's learning rate and count agree too.
  func testAStoppedRunResumesMidEpochToTheUninterruptedRunsParameters() throws {
    let pairs = try makePairs(count: 30, seed: 7)
    let (straight, straightSets) = try makeTinyRun(pairs)
    var straightSteps: [PretrainingStep] = []
    let straightEpochs = try straight.train(straightSets, validation: [], options: tinyOptions,
      onStep: { straightSteps.append($0) })
    XCTAssertEqual(straightSteps.count, 18, "per epoch: 20 pairs in 4 batches + 10 in 2")
    XCTAssertEqual(straightSteps.prefix(6).map(\.pairs), ["timeseries-hyperspectral", "hyperspectral-timeseries",
      "timeseries-hyperspectral", "hyperspectral-timeseries", "timeseries-hyperspectral", "timeseries-hyperspectral"])

    let checkpoint = folder.appendingPathComponent("model.checkpoint").path
    let (first, firstSets) = try makeTinyRun(pairs)
    let stopped = try first.train(firstSets, validation: [], options: tinyOptions, checkpoint: checkpoint,
      resume: false, shouldStop: { $0 >= 3 })
    XCTAssertTrue(stopped.wasStopped)
    XCTAssertEqual(stopped.steps, 3)
    XCTAssertEqual(stopped.epochs, [])
    let record = try XCTUnwrap(PretrainingCheckpoint.read(path: checkpoint, expecting: PretrainingFingerprint(
      training: try makeTinyRun(pairs).1, validation: [], options: tinyOptions,
      parameterSets: try makeTinyRun(pairs).0.parameterSets)).record)
    XCTAssertEqual(record.step, 3)
    XCTAssertEqual(record.queues?.map(\.count), [2, 1], "the epoch's untaken batches")

    let (second, secondSets) = try makeTinyRun(pairs)
    var resumedSteps: [PretrainingStep] = []
    let resumed = try second.train(secondSets, validation: [], options: tinyOptions, checkpoint: checkpoint,
      resume: true, onStep: { resumedSteps.append($0) })
    XCTAssertFalse(resumed.wasStopped)
    XCTAssertEqual(resumed.resumedAfterStep, 3)
    XCTAssertEqual(resumedSteps.map(\.step), Array(4...18))
    XCTAssertEqual(resumedSteps.map(\.learningRate), straightSteps.dropFirst(3).map(\.learningRate))
    XCTAssertEqual(resumedSteps.map(\.loss), straightSteps.dropFirst(3).map(\.loss))
    XCTAssertEqual(resumed.epochs.map(\.loss), straightEpochs.map(\.loss))
    for (index, (expected, actual)) in zip(straight.parameterSets, second.parameterSets).enumerated() {
      let differing = zip(expected.values.values, actual.values.values).filter { $0.bitPattern != $1.bitPattern }.count
      XCTAssertEqual(differing, 0, "parameter set \(index): \(differing) of \(expected.count) values differ")
    }
  }

  /// A checkpoint is written every N steps and at each epoch's end; one of
  /// other options or another starting model is refused with the difference named.
  func testCheckpointsComeEveryNStepsAndBelongToOneRun() throws {
    let pairs = try makePairs(count: 30, seed: 8)
    let checkpoint = folder.appendingPathComponent("model.checkpoint").path
    let (pretraining, sets) = try makeTinyRun(pairs)
    var written: [Int] = []
    _ = try pretraining.train(sets, validation: [], options: tinyOptions, checkpoint: checkpoint, checkpointEvery: 4,
      resume: false, shouldStop: { _ in
        if let file = try? SafeTensorsFile(path: checkpoint), let json = file.metadata["checkpoint"],
          let record = try? JSONDecoder().decode(PretrainingCheckpoint.Record.self, from: Data(json.utf8)),
          written.last != record.step
        { written.append(record.step) }
        return false
      })
    XCTAssertEqual(written, [4, 6, 8, 12, 16], "every 4 steps and after each 6-step epoch (seen before the next step)")

    var other = tinyOptions
    other.epochs = 4
    let (again, againSets) = try makeTinyRun(pairs)
    XCTAssertThrowsError(try again.train(againSets, validation: [], options: other, checkpoint: checkpoint, resume: true)) {
      XCTAssertTrue("\($0)".contains("options.epochs: 3 in the checkpoint, 4 now"), "\($0)")
    }
    let (moved, movedSets) = try makeTinyRun(pairs)
    moved.projections.logitScale += 1
    XCTAssertThrowsError(try moved.train(movedSets, validation: [], options: tinyOptions, checkpoint: checkpoint, resume: true)) {
      XCTAssertTrue("\($0)".contains("model.checkpoint: belongs to another run (initialChecksum:"), "\($0)")
    }
  }
}
