import Foundation
import MetaTX
import Readers
import TestSupport
import XCTest

/// The time-series tokenizer: PatchTST patching, instance normalisation,
/// `.npy`/long/wide inputs, channel-independent token layout, gradients and
/// the saved configuration.
final class TimeSeriesTokenizerTests: XCTestCase {
  private var scratch: TokenizerScratch!

  override func setUpWithError() throws { scratch = try TokenizerScratch() }
  override func tearDown() { scratch.remove() }

  /// PatchTST: `patch_num = (L − P) // S + 1`, plus one with `padding_patch = "end"`.
  func testPatchCountFollowsPatchTST() {
    let configuration = TimeSeriesConfiguration(channels: 1, csvLayout: .long)
    XCTAssertEqual(configuration.patchCount(length: 512), 64, "PatchTST/64: L = 512, P = 16, S = 8")
    XCTAssertEqual(configuration.patchCount(length: 336), 42, "PatchTST/42: L = 336")
    XCTAssertEqual(configuration.patchCount(length: 150), 18)
    XCTAssertEqual(configuration.patchCount(length: 24), 3)
    XCTAssertEqual(configuration.patchCount(length: 16), 2)
    XCTAssertEqual(configuration.patchCount(length: 5), 2, "shorter than a patch: extended to P first")
  }

  /// The end is padded by repeating the last value, as `nn.ReplicationPad1d((0, S))` does.
  func testPatchesRepeatTheLastValue() throws {
    let tokenizer = try TimeSeriesTokenizer(
      configuration: TimeSeriesConfiguration(channels: 2, csvLayout: .long, patchLength: 4, stride: 2), dim: 3)
    var values: [Float] = []
    for t in 0..<7 { values += [Float(t), Float(100 + t)] }
    let raw = tokenizer.rawFeatures(ChannelSeries(values: values, length: 7, channels: 2))
    XCTAssertEqual(raw.shape, [6, 4])
    XCTAssertEqual(
      raw.values,
      [0, 1, 2, 3, 2, 3, 4, 5, 4, 5, 6, 6, 100, 101, 102, 103, 102, 103, 104, 105, 104, 105, 106, 106])
  }

  func testInstanceNormalisationGivesZeroMeanAndUnitStd() throws {
    let tokenizer = try TimeSeriesTokenizer(configuration: TimeSeriesConfiguration(channels: 2, csvLayout: .long), dim: 3)
    var values: [Float] = []
    for t in 0..<50 { values += [Float(t * t) + 3, 1000 + 7 * sin(Float(t))] }
    let path = try scratch.writeNPY("series.npy", shape: [50, 2], values: values)
    let series = try tokenizer.read(path: path)[0]
    for c in 0..<2 {
      let channel = (0..<50).map { Double(series.values[$0 * 2 + c]) }
      let mean = channel.reduce(0, +) / 50
      let variance: Double = channel.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 50
      let std = variance.squareRoot()
      XCTAssertEqual(mean, 0, accuracy: 1e-5)
      XCTAssertEqual(std, 1, accuracy: 1e-4)
    }
  }

  func testFormatsAndLayoutDetection() throws {
    let wide = try scratch.write("wide.csv", "1,2,3,4,5,6\n4,3,2,1,,\n")
    let configuration = try TimeSeriesTokenizer.defaultConfiguration(fittingTo: [wide])
    XCTAssertEqual(configuration.csvLayout, .wide)
    XCTAssertEqual(configuration.channels, 1)
    let tokenizer = try TimeSeriesTokenizer(configuration: configuration, dim: 4)
    XCTAssertEqual(try tokenizer.read(path: wide).map(\.length), [6, 4])
    let univariate = try scratch.writeNPY("one.npy", shape: [9], values: (0..<9).map(Float.init))
    XCTAssertEqual(try tokenizer.read(path: univariate).map(\.length), [9])

    let long = try scratch.write("long.csv", "time,load,temperature\n0,1,20\n1,3,21\n2,2,23\n")
    let longConfiguration = try TimeSeriesTokenizer.defaultConfiguration(fittingTo: [long])
    XCTAssertEqual(longConfiguration.csvLayout, .long)
    XCTAssertEqual(longConfiguration.channels, 2)
    XCTAssertEqual(longConfiguration.maximumPatches, 64)
    let series = try TimeSeriesTokenizer(configuration: longConfiguration, dim: 4).read(path: long)
    XCTAssertEqual(series.map(\.length), [3])
  }

  func testChannelIndependentTokensAndMask() throws {
    let tokenizer = try TimeSeriesTokenizer(
      configuration: TimeSeriesConfiguration(channels: 2, csvLayout: .long, patchLength: 4, stride: 2), dim: 3)
    var rng = SeededRNG(seed: 6)
    tokenizer.initialise(&rng)
    let short = ChannelSeries(values: (0..<8).map { Float($0 % 3) }, length: 4, channels: 2)
    let long = ChannelSeries(values: (0..<14).map { Float($0 % 5) }, length: 7, channels: 2)
    let batch = tokenizer.forward([short, long], training: false, rng: &rng)
    // Short: 2 patches × 2 channels; long: 3 × 2; plus cls.
    XCTAssertEqual(batch.tokens.shape, [2, 7, 3])
    XCTAssertEqual(batch.mask?.values, [1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1])
    // Long sample, channel 1, patch 2 is token 1 + 3 + 2 = 6.
    let parameters = tokenizer.parameters
    let weight = parameters.view("patch.proj.weight"), bias = parameters.view("patch.proj.bias")
    let positions = parameters.view("positions"), channels = parameters.view("channels")
    let patch = Array(tokenizer.rawFeatures(long).values[(3 + 2) * 4..<(3 + 3) * 4])
    for d in 0..<3 {
      var expected = bias.value[d] + positions.value[2 * 3 + d] + channels.value[1 * 3 + d]
      for k in 0..<4 { expected += weight.value[d * 4 + k] * patch[k] }
      XCTAssertEqual(batch.tokens[(7 + 6) * 3 + d], expected, accuracy: 1e-5)
    }
  }

  func testBadSeries() throws {
    let tokenizer = try TimeSeriesTokenizer(
      configuration: TimeSeriesConfiguration(channels: 1, csvLayout: .wide, maximumPatches: 4), dim: 4)
    let hole = try scratch.write("hole.csv", "1,,3\n")
    assertReaderError(try tokenizer.read(path: hole), contains: [hole, "row 1", "column 2", "empty cell inside"])
    let nan = try scratch.write("nan.csv", "1,NaN,3\n")
    assertReaderError(try tokenizer.read(path: nan), contains: [nan, "row 1", "not a finite number"])
    let text = try scratch.write("text.csv", "1,2\n3,abc\n")
    assertReaderError(try tokenizer.read(path: text), contains: [text, "row 2", "abc"])
    let long = try scratch.writeNPY("long.npy", shape: [100], values: [Float](repeating: 1, count: 100))
    assertReaderError(try tokenizer.read(path: long), contains: [long, "12 patches", "at most 4"])
    let twoChannels = try scratch.writeNPY("two.npy", shape: [20, 2], values: [Float](repeating: 1, count: 40))
    assertReaderError(try tokenizer.read(path: twoChannels), contains: [twoChannels, "2 channels", "expects 1"])
    let empty = try scratch.writeNPY("empty.npy", shape: [0], values: [])
    assertReaderError(try tokenizer.read(path: empty), contains: [empty, "empty series"])
  }

  func testGradientsOfProjectionPositionsAndChannelEmbeddings() throws {
    let tokenizer = try TimeSeriesTokenizer(
      configuration: TimeSeriesConfiguration(channels: 2, csvLayout: .long, patchLength: 4, stride: 2, maximumPatches: 5),
      dim: 3)
    let short = ChannelSeries(values: (0..<8).map { Float($0 % 3) - 1 }, length: 4, channels: 2)
    let long = ChannelSeries(values: (0..<14).map { Float($0 % 5) - 2 }, length: 7, channels: 2)
    let results = tokenizerGradientErrors(tokenizer, samples: [short, long])
    XCTAssertEqual(Set(results.keys), ["patch.proj.weight", "patch.proj.bias", "patch.cls", "positions", "channels"])
    for (name, result) in results { XCTAssertLessThan(result.worstError, 2e-2, "\(name): \(result)") }
  }

  /// Against PatchTST's own code (`Scripts/reference/make_structured_fixtures.py`):
  /// RevIN normalisation, then `ReplicationPad1d((0, 8))` and `unfold(-1, 16, 8)`.
  func testMatchesPatchTSTReference() throws {
    let fixture = try openFixture("structured_preprocessing.safetensors")
    let input = try fixture.floats("timeseries.input")
    let path = try scratch.writeNPY("reference.npy", shape: [37, 2], values: input)
    let tokenizer = try TimeSeriesTokenizer(configuration: TimeSeriesConfiguration(channels: 2, csvLayout: .long), dim: 4)
    let series = try tokenizer.read(path: path)[0]
    XCTAssertLessThan(relativeError(series.values, try fixture.floats("timeseries.normalised")), 1e-5)
    let raw = tokenizer.rawFeatures(series)
    XCTAssertEqual(raw.shape, [2 * 4, 16])
    XCTAssertLessThan(relativeError(raw.values, try fixture.floats("timeseries.patches")), 1e-5)
  }

  func testConfigurationSurvivesTheModelFile() throws {
    let wide = try scratch.write("wide.csv", (0..<3).map { row in (0..<(30 - row)).map { "\(sin(Double($0 + row)))" }.joined(separator: ",") }.joined(separator: "\n"))
    let tokenizer = try TimeSeriesTokenizer(configuration: TimeSeriesTokenizer.defaultConfiguration(fittingTo: [wide]), dim: 4)
    var rng = SeededRNG(seed: 8)
    tokenizer.initialise(&rng)
    try assertSameTokens(tokenizer, try savedAndLoaded(tokenizer), path: wide)
  }
}
