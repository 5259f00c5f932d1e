import Foundation
import MetaTX
import Readers
import TestSupport
import XCTest

/// The IMU tokenizer: CSV and `.npy` recordings, per-channel statistics,
/// the window layout, padding masks, gradients and the saved configuration.
final class IMUTokenizerTests: XCTestCase {
  private var scratch: TokenizerScratch!

  override func setUpWithError() throws { scratch = try TokenizerScratch() }
  override func tearDown() { scratch.remove() }

  /// A CSV of `length` steps: a time column, then acc_x = t, acc_y = 2t + 1, gyro_z = 5.
  private func recording(_ name: String, length: Int) throws -> String {
    var text = "timestamp,acc_x,acc_y,gyro_z\n"
    for t in 0..<length { text += "\(Double(t) * 0.01),\(t),\(2 * t + 1),5\n" }
    return try scratch.write(name, text)
  }

  func testStatisticsAreFittedPerChannel() throws {
    let configuration = try IMUTokenizer.defaultConfiguration(fittingTo: [try recording("a.csv", length: 4)])
    XCTAssertEqual(configuration.channels, ["acc_x", "acc_y", "gyro_z"])
    XCTAssertEqual(configuration.window, 10)
    // t = 0…3: mean 1.5, population std √1.25; 2t + 1: mean 4, std 2√1.25; constant → std 1.
    XCTAssertEqual(configuration.mean, [1.5, 4, 5])
    XCTAssertEqual(configuration.std[0], Float(1.25).squareRoot(), accuracy: 1e-6)
    XCTAssertEqual(configuration.std[1], 2 * Float(1.25).squareRoot(), accuracy: 1e-6)
    XCTAssertEqual(configuration.std[2], 1)
  }

  /// Window n of a `[T, C]` recording is its rows n·w ..< (n+1)·w flattened time-major.
  func testWindowLayout() throws {
    let configuration = IMUConfiguration(channels: ["a", "b", "c"], mean: [0, 0, 0], std: [1, 1, 1], window: 2)
    let tokenizer = try IMUTokenizer(configuration: configuration, dim: 4)
    let values = (0..<5).flatMap { t in (0..<3).map { Float(10 * t + $0) } }
    let path = try scratch.writeNPY("layout.npy", shape: [5, 3], values: values)
    let samples = try tokenizer.read(path: path)
    let raw = tokenizer.rawFeatures(samples[0])
    XCTAssertEqual(raw.shape, [2, 6], "5 samples make 2 windows of 2; the tail is dropped")
    XCTAssertEqual(raw.values, [0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32])
  }

  func testNormalisedRecordingsAndMaskedBatches() throws {
    let short = try recording("short.csv", length: 25), long = try recording("long.csv", length: 41)
    let tokenizer = try IMUTokenizer(configuration: IMUTokenizer.defaultConfiguration(fittingTo: [short, long]), dim: 8)
    var rng = SeededRNG(seed: 4)
    tokenizer.initialise(&rng)
    let samples = try tokenizer.read(path: short) + tokenizer.read(path: long)
    let mean = tokenizer.configuration.mean, std = tokenizer.configuration.std
    XCTAssertEqual(samples[0].values[3 * 3 + 1], (7 - mean[1]) / std[1], accuracy: 1e-6)
    let batch = tokenizer.forward(samples, training: false, rng: &rng)
    XCTAssertEqual(batch.tokens.shape, [2, 5, 8], "cls + up to 4 windows")
    XCTAssertEqual(batch.mask?.values, [1, 1, 1, 0, 0, 1, 1, 1, 1, 1])
    let again = tokenizer.forward(samples, training: true, rng: &rng)
    XCTAssertEqual(batch.tokens.values, again.tokens.values)
  }

  func testBadRecordings() throws {
    let tokenizer = try IMUTokenizer(
      configuration: IMUTokenizer.defaultConfiguration(fittingTo: [try recording("fit.csv", length: 12)]), dim: 4)
    let shortFile = try recording("tiny.csv", length: 9)
    assertReaderError(try tokenizer.read(path: shortFile), contains: [shortFile, "9 samples", "one window of 10"])
    let missing = try scratch.write("missing.csv", "time,acc_x,acc_y\n0,1,2\n")
    assertReaderError(try tokenizer.read(path: missing), contains: [missing, "no column \"gyro_z\""])
    let text = try scratch.write("text.csv", "acc_x,acc_y,gyro_z\n1,2,3\n1,x,3\n")
    assertReaderError(try tokenizer.read(path: text), contains: [text, "row 3", "column \"acc_y\""])
    let nan = try scratch.writeNPY("nan.npy", shape: [10, 3], values: [Float](repeating: .nan, count: 30))
    assertReaderError(try tokenizer.read(path: nan), contains: [nan, "NaN"])
    let wrongChannels = try scratch.writeNPY("two.npy", shape: [10, 2], values: [Float](repeating: 0, count: 20))
    assertReaderError(try tokenizer.read(path: wrongChannels), contains: [wrongChannels, "2 channels", "expects 3"])
    let cube = try scratch.writeNPY("cube.npy", shape: [2, 2, 2], values: [Float](repeating: 0, count: 8))
    assertReaderError(try tokenizer.read(path: cube), contains: [cube, "3-D"])
    let truncated = try scratch.write("truncated.npy", "\u{93}NUMPY")
    assertReaderError(try tokenizer.read(path: truncated), contains: [truncated])
  }

  func testGradientsOfProjectionClsAndPositions() throws {
    let short = try recording("short.csv", length: 25), long = try recording("long.csv", length: 41)
    let tokenizer = try IMUTokenizer(configuration: IMUTokenizer.defaultConfiguration(fittingTo: [short, long]), dim: 5)
    let samples = try tokenizer.read(path: short) + tokenizer.read(path: long)
    for (name, result) in tokenizerGradientErrors(tokenizer, samples: samples) {
      XCTAssertLessThan(result.worstError, 2e-2, "\(name): \(result)")
    }
  }

  func testConfigurationSurvivesTheModelFile() throws {
    let path = try recording("a.csv", length: 30)
    let tokenizer = try IMUTokenizer(configuration: IMUTokenizer.defaultConfiguration(fittingTo: [path]), dim: 4)
    var rng = SeededRNG(seed: 2)
    tokenizer.initialise(&rng)
    try assertSameTokens(tokenizer, try savedAndLoaded(tokenizer), path: path)
  }
}
