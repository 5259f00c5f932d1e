import Foundation
import Kernels
import MetaTX
import Readers
import TestSupport
import XCTest

final class VideoTokenizerTests: XCTestCase {
  /// 4×4 frames, 2 frames per tubelet, patch 2, gray with mean 0 and std 1, so a sample holds the frame values.
  let small = VideoConfiguration(frames: 4, tubeletFrames: 2, patchSize: 2, imageSize: 4, channels: 1, mean: [0], std: [1])

  func testUniformSamplingIndices() {
    XCTAssertEqual(FrameSampling.indices(available: 10, frames: 4), [1, 3, 6, 8])
    XCTAssertEqual(FrameSampling.indices(available: 8, frames: 8), Array(0..<8))
    XCTAssertEqual(FrameSampling.indices(available: 3, frames: 8), [0, 0, 0, 1, 1, 2, 2, 2])
    XCTAssertEqual(FrameSampling.indices(available: 1, frames: 2), [0, 0])
  }

  func testFolderOfFramesIsSampledInNameOrder() throws {
    let folder = try PictureFolder()
    defer { folder.remove() }
    // Frame k is a constant picture of value 10·k; names sort in frame order, files are written out of order.
    for k in [7, 2, 9, 0, 5, 1, 8, 3, 6, 4] {
      try folder.writePNM(String(format: "frame%03d.pgm", k), width: 4, height: 4, channels: 1, samples: [UInt8](repeating: UInt8(10 * k), count: 16))
    }
    try Data("not a frame".utf8).write(to: URL(fileURLWithPath: folder.file("notes.txt")))
    let tokenizer = try VideoTokenizer(configuration: small, dim: 3)
    let sample = try XCTUnwrap(tokenizer.read(path: folder.path).first)
    XCTAssertEqual(sample.shape, [4, 1, 4, 4])
    // Frames 1, 3, 6, 8 of 10.
    for (t, k) in [1, 3, 6, 8].enumerated() { XCTAssertEqual(sample[t * 16 + 5], Float(10 * k) / 255, accuracy: 1e-6) }
  }

  func testStripAndNPYClips() throws {
    let folder = try PictureFolder()
    defer { folder.remove() }
    // A strip of 4 frames 3 rows high, 6 wide: frame k has value 40·k.
    let strip = (0..<4).flatMap { k in [UInt8](repeating: UInt8(40 * k), count: 18) }
    let stripPath = try folder.writePNM("strip.pgm", width: 6, height: 12, channels: 1, samples: strip)
    var configuration = small
    configuration.frameHeight = 3
    let tokenizer = try VideoTokenizer(configuration: configuration, dim: 3)
    let fromStrip = try tokenizer.read(path: stripPath)[0]
    for t in 0..<4 { XCTAssertEqual(fromStrip[t * 16], Float(40 * t) / 255, accuracy: 1e-6) }
    // The same clip as .npy [T, H, W, C] of floats.
    let npyPath = folder.file("clip.npy")
    try NPYArray(shape: [4, 3, 6, 1], values: strip.map { Float($0) / 255 }).write(to: npyPath)
    let fromNPY = try tokenizer.read(path: npyPath)[0]
    for (a, b) in zip(fromNPY.values, fromStrip.values) { XCTAssertEqual(a, b, accuracy: 1e-6) }
  }

  func testTubeletLayout() throws {
    let tokenizer = try VideoTokenizer(configuration: small, dim: 3)
    // Value t·100 + y·10 + x.
    let sample = Tensor(shape: [4, 1, 4, 4])
    for t in 0..<4 { for y in 0..<4 { for x in 0..<4 { sample[(t * 4 + y) * 4 + x] = Float(t * 100 + y * 10 + x) } } }
    let raw = tokenizer.rawFeatures(sample)
    XCTAssertEqual(raw.shape, [8, 8])
    // Tubelet 5: frames 2–3, grid row 0, column 1; elements (channel, frame, row, column).
    XCTAssertEqual(Array(raw.values[40..<48]), [202, 203, 212, 213, 302, 303, 312, 313])
  }

  func testShapesGradientAndRoundTrip() throws {
    let folder = try PictureFolder()
    defer { folder.remove() }
    let colour: [UInt8] = (0..<360).map { UInt8(($0 * 29) % 256) }
    let path = try folder.writePNM("strip.ppm", width: 5, height: 24, channels: 3, samples: colour)
    let configuration = VideoConfiguration(frames: 4, tubeletFrames: 2, patchSize: 2, imageSize: 4, frameHeight: 6)
    let tokenizer = try VideoTokenizer(configuration: configuration, dim: 6)
    var rng = SeededRNG(seed: 2)
    tokenizer.initialise(&rng)
    let batch = try tokenizer.tokenize(paths: [path, path], rng: &rng)
    XCTAssertEqual(batch.tokens.shape, [2, 1 + 2 * 4, 6])
    XCTAssertTrue(batch.tokens.isFinite)

    let samples = [randomTensor([4, 3, 4, 4], seed: 5), randomTensor([4, 3, 4, 4], seed: 6)]
    let dTokens = randomTensor([2, 9, 6], seed: 7)
    let loss = { () -> Double in
      var rng = SeededRNG(seed: 0)
      let tokens = tokenizer.forward(samples, training: true, rng: &rng).tokens
      return weightedSum(tokens.data, dTokens.data, count: tokens.count)
    }
    _ = loss()
    tokenizer.parameters.zeroGradients()
    tokenizer.backward(dTokens.data)
    let result = checkGradient(
      values: tokenizer.parameters.values.data, analytic: tokenizer.parameters.gradients.values,
      indices: sampledIndices(tokenizer.parameters.count, maximum: 200), loss: loss)
    XCTAssertLessThan(result.worstError, 2e-2, "\(result)")

    var writer = SafeTensorsWriter()
    var metadata: [String: String] = [:]
    try tokenizer.add(to: &writer, metadata: &metadata)
    let loaded = try VideoTokenizer.load(from: SafeTensorsFile(data: writer.serialized(metadata: metadata), name: "model"))
    XCTAssertEqual(loaded.configuration, configuration)
    XCTAssertEqual(try loaded.tokenize(paths: [path], rng: &rng).tokens.values, try tokenizer.tokenize(paths: [path], rng: &rng).tokens.values)
  }

  func testBadClips() throws {
    let folder = try PictureFolder()
    defer { folder.remove() }
    let tokenizer = try VideoTokenizer(configuration: small, dim: 3)
    func assertFails(_ path: String, _ expected: String, line: UInt = #line) {
      XCTAssertThrowsError(try tokenizer.read(path: path), line: line) { error in
        let error = error as? ReaderError
        XCTAssertEqual(error?.file, path, line: line)
        XCTAssertTrue(error?.problem.contains(expected) ?? false, "\(String(describing: error))", line: line)
      }
    }
    let empty = folder.file("empty")
    try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: false)
    assertFails(empty, "no frames")
    // A 4×10 strip does not split into square 4×4 frames.
    assertFails(try folder.writePNM("strip.pgm", width: 4, height: 10, channels: 1, samples: [UInt8](repeating: 0, count: 40)), "does not split")
    let rank5 = folder.file("clip.npy")
    try NPYArray(shape: [1, 1, 2, 2, 1], values: [0, 0, 0, 0]).write(to: rank5)
    assertFails(rank5, "[T, H, W, C]")
    let noFrames = folder.file("none.npy")
    try NPYArray(shape: [0, 2, 2, 3], values: []).write(to: noFrames)
    assertFails(noFrames, "no frames")
    XCTAssertThrowsError(try VideoTokenizer(configuration: VideoConfiguration(frames: 5), dim: 3))
  }
}
