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
}
