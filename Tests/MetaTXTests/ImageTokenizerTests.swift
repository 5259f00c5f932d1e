import Foundation
import Kernels
import MetaTX
import Readers
import TestSupport
import XCTest

/// A fresh temporary folder for generated pictures, removed by `remove()`.
struct PictureFolder {
  let path: String
  init() throws {
    path = FileManager.default.temporaryDirectory.path + "/vision-tests-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
  }
  func file(_ name: String) -> String { path + "/" + name }
  func remove() { try? FileManager.default.removeItem(atPath: path) }

  /// Writes a binary PGM (one channel) or PPM (three) of 8-bit `samples` `[H, W, C]`.
  @discardableResult
  func writePNM(_ name: String, width: Int, height: Int, channels: Int, samples: [UInt8]) throws -> String {
    let header = "\(channels == 1 ? "P5" : "P6")\n\(width) \(height)\n255\n"
    try Data(Array(header.utf8) + samples).write(to: URL(fileURLWithPath: file(name)))
    return file(name)
  }
}

final class ImageTokenizerTests: XCTestCase {
  let tolerance = 2e-2

  func testConstantPictureStaysConstant() throws {
    let folder = try PictureFolder()
    defer { folder.remove() }
    // 10×7 gray 128, resized (7 → 4, 10 → 5), cropped to 4×4, to RGB, normalised.
    let path = try folder.writePNM("gray.pgm", width: 7, height: 10, channels: 1, samples: [UInt8](repeating: 128, count: 70))
    let configuration = ImageConfiguration(imageSize: 4, patchSize: 2, channels: 3, mean: ImageConfiguration.clipMean, std: ImageConfiguration.clipStd)
    let tokenizer = try ImageTokenizer(configuration: configuration, dim: 8)
    let sample = try XCTUnwrap(tokenizer.read(path: path).first)
    XCTAssertEqual(sample.shape, [3, 4, 4])
    for c in 0..<3 {
      let expected = (Float(128) / 255 - ImageConfiguration.clipMean[c]) / ImageConfiguration.clipStd[c]
      for index in 0..<16 { XCTAssertEqual(sample[c * 16 + index], expected, accuracy: 1e-5) }
    }
  }

  func testPatchLayout() {
    // [C=2, 4, 4] with value c·100 + y·10 + x; patch 2 → 4 patches of 2·2·2.
    let pixels = Tensor(shape: [2, 4, 4])
    for c in 0..<2 { for y in 0..<4 { for x in 0..<4 { pixels[(c * 4 + y) * 4 + x] = Float(c * 100 + y * 10 + x) } } }
    let patches = ImagePreprocessing.patches(pixels, patch: 2)
    XCTAssertEqual(patches.shape, [4, 8])
    // Patch 1 is grid row 0, column 1; its elements run (channel, row, column).
    XCTAssertEqual(Array(patches.values[8..<16]), [2, 3, 12, 13, 102, 103, 112, 113])
    // Patch 2 is grid row 1, column 0.
    XCTAssertEqual(Array(patches.values[16..<24]), [20, 21, 30, 31, 120, 121, 130, 131])
  }

  func testPreprocessingMatchesPillowAndTorchvision() throws {
    let fixture = try openFixture("vision_resampling.safetensors")
    let bytes = try fixture.floats("image")  // [13, 9, 3] 8-bit values
    let image = DecodedImage(width: 9, height: 13, channels: 3, pixels: bytes.map { $0 / 255 })
    let sample = ImagePreprocessing.apply(image, size: 6, channels: 3, mean: ImageConfiguration.clipMean, std: ImageConfiguration.clipStd)
    let expected = try fixture.floats("clip")
    XCTAssertEqual(sample.shape, [3, 6, 6])
    // Pillow rounds to 8 bits after each pass; we stay in float: within one 8-bit step over std.
    for c in 0..<3 {
      for index in 0..<36 {
        XCTAssertEqual(sample[c * 36 + index], expected[c * 36 + index], accuracy: 1.01 / 255 / ImageConfiguration.clipStd[c])
      }
    }
  }

  func testPositionResamplingMatchesTimm() throws {
    let fixture = try openFixture("vision_resampling.safetensors")
    let grid = try fixture.floats("grid")
    for (name, size) in [("grid_up", 6), ("grid_down", 3)] {
      let resampled = PositionGrid.resample(grid, dim: 8, from: 4, to: size)
      let expected = try fixture.floats(name)
      XCTAssertEqual(resampled.count, expected.count)
      for (a, b) in zip(resampled, expected) { XCTAssertEqual(a, b, accuracy: 1e-5, name) }
    }
    // Same size: the identity.
    XCTAssertEqual(PositionGrid.resample(grid, dim: 8, from: 4, to: 4), grid)
  }

  func testResizedTokenizerInterpolatesPositions() throws {
    let configuration = ImageConfiguration(imageSize: 8, patchSize: 2, channels: 1, mean: [0.5], std: [0.25])
    let tokenizer = try XRayTokenizer(configuration: configuration, dim: 4)
    var rng = SeededRNG(seed: 3)
    tokenizer.initialise(&rng)
    let same = try tokenizer.resized(toImageSize: 8)
    XCTAssertEqual(same.parameters.values.values, tokenizer.parameters.values.values)
    let larger = try tokenizer.resized(toImageSize: 12)
    XCTAssertEqual(larger.configuration.grid, 6)
    XCTAssertEqual(larger.parameters.view("patch.positions").shape, [37, 4])
    // The projection and the cls position are carried over unchanged.
    XCTAssertEqual(larger.parameters.view("patch.proj.weight").value[5], tokenizer.parameters.view("patch.proj.weight").value[5])
    XCTAssertEqual(larger.parameters.view("patch.positions").value[3], tokenizer.parameters.view("patch.positions").value[3])
    let batch = larger.forward([Tensor(shape: [1, 12, 12])], training: false, rng: &rng)
    XCTAssertEqual(batch.tokens.shape, [1, 37, 4])
  }

  func testShapesAndDeterminismFromSmallToViTSizes() throws {
    let folder = try PictureFolder()
    defer { folder.remove() }
    let samples = (0..<(30 * 20 * 3)).map { UInt8(($0 * 37) % 256) }
    let path = try folder.writePNM("colour.ppm", width: 30, height: 20, channels: 3, samples: samples)
    for (size, patch, dim) in [(28, 4, 16), (224, 16, 32)] {
      let configuration = ImageConfiguration(imageSize: size, patchSize: patch, channels: 3, mean: ImageConfiguration.clipMean, std: ImageConfiguration.clipStd)
      let tokenizer = try ImageTokenizer(configuration: configuration, dim: dim)
      var rng = SeededRNG(seed: 1)
      tokenizer.initialise(&rng)
      let first = try tokenizer.tokenize(paths: [path, path], rng: &rng)
      let grid = size / patch
      XCTAssertEqual(first.tokens.shape, [2, 1 + grid * grid, dim])
      XCTAssertNil(first.mask)
      XCTAssertTrue(first.tokens.isFinite)
      // Deterministic: the same file gives the same tokens, alone or in a batch (up to GEMM blocking).
      let single = try tokenizer.tokenize(paths: [path], rng: &rng).tokens.values
      XCTAssertEqual(try tokenizer.tokenize(paths: [path], rng: &rng).tokens.values, single)
      let difference = zip(single, first.tokens.values).map { abs($0 - $1) }.max() ?? 0
      XCTAssertLessThan(difference, 1e-5)
      XCTAssertEqual(tokenizer.rawFeatures(try tokenizer.read(path: path)[0]).shape, [grid * grid, 3 * patch * patch])
    }
  }

  func testGradientOfLearnedPart() throws {
    let configuration = ImageConfiguration(imageSize: 4, patchSize: 2, channels: 3, mean: ImageConfiguration.clipMean, std: ImageConfiguration.clipStd)
    let tokenizer = try ImageTokenizer(configuration: configuration, dim: 5)
    var rng = SeededRNG(seed: 9)
    tokenizer.initialise(&rng)
    let samples = [randomTensor([3, 4, 4], seed: 1), randomTensor([3, 4, 4], seed: 2)]
    let dTokens = randomTensor([2, 5, 5], seed: 3)
    let loss = { () -> Double in
      var rng = SeededRNG(seed: 0)
      let batch = tokenizer.forward(samples, training: true, rng: &rng)
      return weightedSum(batch.tokens.data, dTokens.data, count: batch.tokens.count)
    }
    _ = loss()
    tokenizer.parameters.zeroGradients()
    tokenizer.backward(dTokens.data)
    let result = checkGradient(values: tokenizer.parameters.values.data, analytic: tokenizer.parameters.gradients.values, loss: loss)
    XCTAssertLessThan(result.worstError, tolerance, "\(result)")
  }

  func testConfigurationAndParametersRoundTripThroughAModelFile() throws {
    let folder = try PictureFolder()
    defer { folder.remove() }
    let path = try folder.writePNM("thermal.pgm", width: 9, height: 6, channels: 1, samples: (0..<54).map { UInt8($0 * 4) })
    let configuration = ImageConfiguration(imageSize: 6, patchSize: 3, channels: 1, mean: [0.3], std: [0.2], cls: false)
    let tokenizer = try InfraredTokenizer(configuration: configuration, dim: 6)
    var rng = SeededRNG(seed: 4)
    tokenizer.initialise(&rng)
    var writer = SafeTensorsWriter()
    var metadata: [String: String] = [:]
    try tokenizer.add(to: &writer, metadata: &metadata)
    let file = try SafeTensorsFile(data: writer.serialized(metadata: metadata), name: "model")
    let loaded = try InfraredTokenizer.load(from: file)
    XCTAssertEqual(loaded.configuration, configuration)
    let before = try tokenizer.tokenize(paths: [path], rng: &rng)
    let after = try loaded.tokenize(paths: [path], rng: &rng)
    XCTAssertEqual(before.tokens.shape, [1, 4, 6])
    XCTAssertEqual(after.tokens.values, before.tokens.values)
    // Another picture modality's tokenizer is not found under this one's key.
    XCTAssertThrowsError(try XRayTokenizer.load(from: file))
  }

  func testSingleChannelStatisticsAreFittedToFiles() throws {
    let folder = try PictureFolder()
    defer { folder.remove() }
    let dark = try folder.writePNM("dark.pgm", width: 4, height: 4, channels: 1, samples: [UInt8](repeating: 51, count: 16))
    let light = try folder.writePNM("light.pgm", width: 4, height: 4, channels: 1, samples: [UInt8](repeating: 153, count: 16))
    let fitted = try XRayTokenizer.defaultConfiguration(fittingTo: [dark, light])
    XCTAssertEqual(fitted.mean[0], 0.4, accuracy: 1e-5)
    XCTAssertEqual(fitted.std[0], 0.2, accuracy: 1e-5)
    XCTAssertEqual(try InfraredTokenizer.defaultConfiguration(fittingTo: []), InfraredKind.defaults)
    XCTAssertEqual(try ImageTokenizer.defaultConfiguration(fittingTo: [dark]).mean, ImageConfiguration.clipMean)
    XCTAssertEqual(ImageTokenizer.modality, .image)
    XCTAssertEqual(InfraredTokenizer.modality, .infrared)
    XCTAssertEqual(XRayTokenizer.modality, .xray)
    XCTAssertEqual(Modality.detect(path: "scan.JPG"), .image)
    XCTAssertEqual(Modality.detect(path: "frame.pgm"), .image)
  }

  func testBadFilesAndConfigurations() throws {
    let folder = try PictureFolder()
    defer { folder.remove() }
    let tokenizer = try ImageTokenizer(configuration: ImageTokenizer.defaultConfiguration(fittingTo: []), dim: 4)
    let bad = folder.file("bad.pgm")
    try Data("P5 0 0 255\n".utf8).write(to: URL(fileURLWithPath: bad))
    XCTAssertThrowsError(try tokenizer.read(path: bad)) { XCTAssertEqual(($0 as? ReaderError)?.file, bad) }
    XCTAssertThrowsError(try tokenizer.read(path: folder.file("missing.png")))
    let wrong = ImageConfiguration(imageSize: 10, patchSize: 4, channels: 3, mean: ImageConfiguration.clipMean, std: ImageConfiguration.clipStd)
    XCTAssertThrowsError(try ImageTokenizer(configuration: wrong, dim: 4))
    let zeroStd = ImageConfiguration(imageSize: 8, patchSize: 4, channels: 1, mean: [0], std: [0])
    XCTAssertThrowsError(try XRayTokenizer(configuration: zeroStd, dim: 4))
  }
}
