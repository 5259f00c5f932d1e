import Foundation
import MetaTX
import Readers
import TestSupport
import XCTest

/// The hyperspectral tokenizer: reflect-padded neighbourhoods, band groups,
/// cube layouts, spectra files, fitted normalisation, gradients and the
/// saved configuration.
final class HyperspectralTokenizerTests: XCTestCase {
  private var scratch: TokenizerScratch!

  override func setUpWithError() throws { scratch = try TokenizerScratch() }
  override func tearDown() { scratch.remove() }

  /// A 3×3 cube `[H, W, 2]`: band 0 = 10y + x, band 1 = 100 + 10y + x.
  private func tinyCube() -> [Float] {
    var values: [Float] = []
    for y in 0..<3 {
      for x in 0..<3 { values += [Float(10 * y + x), Float(100 + 10 * y + x)] }
    }
    return values
  }

  /// numpy: `np.pad(band, 1, mode="reflect")[0:3, 0:3]` around pixel (0, 0)
  /// is `[[11, 10, 11], [1, 0, 1], [11, 10, 11]]`.
  func testNeighbourhoodWithReflectPaddingAtACorner() throws {
    let configuration = HyperspectralConfiguration(bands: 2, neighbourhood: 3, groupSize: 2)
    let tokenizer = try HyperspectralTokenizer(configuration: configuration, dim: 4)
    let path = try scratch.writeNPY("cube.npy", shape: [3, 3, 2], values: tinyCube())
    let pixels = try tokenizer.read(path: path)
    XCTAssertEqual(pixels.count, 9)
    XCTAssertEqual(
      pixels[0].features,
      [11, 10, 11, 1, 0, 1, 11, 10, 11, 111, 110, 111, 101, 100, 101, 111, 110, 111])
    // Pixel (2, 2), the opposite corner: rows 1, 2, 1 and columns 1, 2, 1.
    XCTAssertEqual(Array(pixels[8].features[0..<9]), [11, 12, 11, 21, 22, 21, 11, 12, 11])
    XCTAssertEqual(tokenizer.rawFeatures(pixels[0]).shape, [1, 18])
  }

  /// Against `np.pad(cube, 2, mode="reflect")` windows (`Scripts/reference/make_structured_fixtures.py`).
  func testNeighbourhoodsMatchNumpyReflectPadding() throws {
    let fixture = try openFixture("structured_preprocessing.safetensors")
    let path = try scratch.writeNPY("reference.npy", shape: [4, 5, 3], values: try fixture.floats("hyperspectral.cube"))
    let tokenizer = try HyperspectralTokenizer(
      configuration: HyperspectralConfiguration(bands: 3, neighbourhood: 5, groupSize: 1), dim: 4)
    let features = try tokenizer.read(path: path).flatMap(\.features)
    XCTAssertEqual(features.count, 20 * 3 * 25)
    XCTAssertLessThan(relativeError(features, try fixture.floats("hyperspectral.neighbourhoods")), 1e-7)
  }

  func testBandsFirstLayoutMatchesBandsLast() throws {
    let values = tinyCube()
    let transposed = (0..<2).flatMap { band in (0..<9).map { values[$0 * 2 + band] } }
    let last = try scratch.writeNPY("last.npy", shape: [3, 3, 2], values: values)
    let first = try scratch.writeNPY("first.npy", shape: [2, 3, 3], values: transposed)
    let bandsLast = try HyperspectralTokenizer(
      configuration: HyperspectralConfiguration(bands: 2, neighbourhood: 3, groupSize: 1), dim: 4)
    let bandsFirst = try HyperspectralTokenizer(
      configuration: HyperspectralConfiguration(bands: 2, cubeLayout: .bandsHeightWidth, neighbourhood: 3, groupSize: 1),
      dim: 4)
    XCTAssertEqual(try bandsLast.read(path: last), try bandsFirst.read(path: first))
  }

  func testBandGroupsAndFittedNormalisation() throws {
    let csv = try scratch.write("spectra.csv", "b1,b2,b3,b4,b5\n0,1,2,3,4\n2,3,6,3,8\n")
    let standard = try HyperspectralTokenizer.fit(paths: [csv], groupSize: 2)
    XCTAssertEqual(standard.offset, [1, 2, 4, 3, 6])
    XCTAssertEqual(standard.scale, [1, 1, 2, 1, 2], "population std; the constant band scales by 1")
    let minMax = try HyperspectralTokenizer.fit(paths: [csv], groupSize: 2, normalisation: .minMax)
    XCTAssertEqual(minMax.offset, [0, 1, 2, 3, 4])
    XCTAssertEqual(minMax.scale, [2, 2, 4, 1, 4])
    let tokenizer = try HyperspectralTokenizer(configuration: minMax, dim: 4)
    let spectra = try tokenizer.read(path: csv)
    XCTAssertEqual(spectra.count, 2)
    // 5 bands in groups of 2: the third group's second band is zero-filled.
    XCTAssertEqual(tokenizer.rawFeatures(spectra[1]).shape, [3, 2])
    XCTAssertEqual(spectra[1].features, [1, 1, 1, 0, 1, 0])
    XCTAssertEqual(HyperspectralConfiguration(bands: 1841).groupSize, 29, "at most 64 tokens by default")
    let npy = try scratch.writeNPY("spectra.npy", shape: [2, 5], values: [0, 1, 2, 3, 4, 2, 3, 6, 3, 8])
    XCTAssertEqual(try tokenizer.read(path: npy), spectra)
  }

  func testBadInput() throws {
    let tokenizer = try HyperspectralTokenizer(
      configuration: HyperspectralConfiguration(bands: 2, neighbourhood: 3, groupSize: 1), dim: 4)
    let bands = try scratch.writeNPY("three.npy", shape: [2, 2, 3], values: [Float](repeating: 0, count: 12))
    assertReaderError(try tokenizer.read(path: bands), contains: [bands, "3 bands", "expects 2"])
    let empty = try scratch.writeNPY("empty.npy", shape: [0, 0, 2], values: [])
    assertReaderError(try tokenizer.read(path: empty), contains: [empty, "empty"])
    var values = tinyCube()
    values[4] = .nan
    let nan = try scratch.writeNPY("nan.npy", shape: [3, 3, 2], values: values)
    assertReaderError(try tokenizer.read(path: nan), contains: [nan, "NaN"])
    let spectra = try scratch.write("spectra.csv", "1,2\n3,4\n")
    assertReaderError(try tokenizer.read(path: spectra), contains: [spectra, "without a spatial neighbourhood"])
    let rank4 = try scratch.writeNPY("rank4.npy", shape: [1, 1, 1, 2], values: [0, 0])
    assertReaderError(try tokenizer.read(path: rank4), contains: [rank4, "4-D"])
    let text = try scratch.write("text.csv", "a,b\n1,x\n")
    let spectral = try HyperspectralTokenizer(configuration: HyperspectralConfiguration(bands: 2), dim: 4)
    assertReaderError(try spectral.read(path: text), contains: [text, "row 2", "column \"b\""])
  }

  func testTokensAndGradients() throws {
    let path = try scratch.writeNPY("cube.npy", shape: [3, 3, 2], values: tinyCube())
    let tokenizer = try HyperspectralTokenizer(
      configuration: HyperspectralTokenizer.fit(paths: [path], neighbourhood: 3, groupSize: 1), dim: 5)
    var rng = SeededRNG(seed: 1)
    tokenizer.initialise(&rng)
    let pixels = try tokenizer.read(path: path)
    let batch = tokenizer.forward(pixels, training: false, rng: &rng)
    XCTAssertEqual(batch.tokens.shape, [9, 3, 5])
    XCTAssertNil(batch.mask)
    XCTAssertEqual(batch.tokens.values, tokenizer.forward(pixels, training: true, rng: &rng).tokens.values)
    for (name, result) in tokenizerGradientErrors(tokenizer, samples: Array(pixels[0..<4])) {
      XCTAssertLessThan(result.worstError, 2e-2, "\(name): \(result)")
    }
  }

  func testConfigurationSurvivesTheModelFile() throws {
    let path = try scratch.writeNPY("cube.npy", shape: [3, 3, 2], values: tinyCube())
    let tokenizer = try HyperspectralTokenizer(
      configuration: HyperspectralTokenizer.fit(paths: [path], neighbourhood: 3, normalisation: .minMax), dim: 4)
    var rng = SeededRNG(seed: 5)
    tokenizer.initialise(&rng)
    try assertSameTokens(tokenizer, try savedAndLoaded(tokenizer), path: path)
  }
}
