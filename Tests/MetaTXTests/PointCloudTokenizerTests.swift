import Foundation
import MetaTX
import Readers
import TestSupport
import XCTest

/// The point-cloud tokenizer: known answers of its fixed geometry, shapes and
/// determinism, finite-difference gradients, and save/load.
final class PointCloudTokenizerTests: XCTestCase {
  private var folder: String!

  override func setUpWithError() throws {
    folder = FileManager.default.temporaryDirectory.path + "/pointcloud-tests-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
  }

  override func tearDown() {
    try? FileManager.default.removeItem(atPath: folder)
  }

  private func write(_ name: String, _ text: String) -> String {
    let path = folder + "/" + name
    _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    return path
  }

  /// A small tokenizer: 64 points, 16 groups of 8, narrow MLPs.
  private let small = PointCloudTokenizer.Configuration(
    points: 64, groups: 16, neighbours: 8, pointHidden: 8, pointFeatures: 6, groupHidden: 10, positionHidden: 5)

  private func randomCloud(_ count: Int, seed: UInt64) -> [Float] {
    var rng = SeededRNG(seed: seed)
    return (0..<count * 3).map { _ in rng.uniform(-2, 3) }
  }

  private func xyzFile(_ name: String, _ points: [Float]) -> String {
    write(name, stride(from: 0, to: points.count, by: 3).map { "\(points[$0]) \(points[$0 + 1]) \(points[$0 + 2])" }
      .joined(separator: "\n"))
  }

  // MARK: Fixed preprocessing

  func testFarthestPointSamplingOfALine() {
    // x = 0, 1, 2, 10, 5: from 0 the farthest is 10, then 5 (25 from both ends), then 2, then 1.
    let line: [Float] = [0, 0, 0, 1, 0, 0, 2, 0, 0, 10, 0, 0, 5, 0, 0]
    XCTAssertEqual(PointCloudSampling.farthestPoints(line, count: 5), [0, 3, 4, 2, 1])
    XCTAssertEqual(PointCloudSampling.farthestPoints(line, count: 7), [0, 3, 4, 2, 1, 0, 0])
    let cloud = randomCloud(300, seed: 1)
    XCTAssertEqual(
      PointCloudSampling.farthestPoints(cloud, count: 40), PointCloudSampling.naiveFarthestPoints(cloud, count: 40))
  }

  func testNearestNeighboursOfAGrid() {
    // A 5×5 grid in z = 0, index y·5 + x; around (2, 2): itself, then the 4 at distance 1 in index order.
    let grid: [Float] = (0..<25).flatMap { [Float($0 % 5), Float($0 / 5), 0] }
    XCTAssertEqual(PointCloudSampling.nearestNeighbours(grid, centres: [2, 2, 0], k: 5), [12, 7, 11, 13, 17])
    // Around the corner (0, 0): itself, (1,0), (0,1), then (1,1) at √2.
    XCTAssertEqual(PointCloudSampling.nearestNeighbours(grid, centres: [0, 0, 0], k: 4), [0, 1, 5, 6])
    let cloud = randomCloud(200, seed: 2), centres = randomCloud(10, seed: 3)
    XCTAssertEqual(
      PointCloudSampling.nearestNeighbours(cloud, centres: centres, k: 12),
      PointCloudSampling.naiveNearestNeighbours(cloud, centres: centres, k: 12))
  }

  func testNormalisationToTheUnitSphere() {
    let result = PointCloudSampling.normalise([1, 1, 1, 3, 1, 1, 2, 1, 1])
    XCTAssertEqual(result, [-1, 0, 0, 1, 0, 0, 0, 0, 0])
  }

  func testSurfaceSamplesOfAUnitSquareLieOnIt() throws {
    let square = PointCloudGeometry(points: [0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0], faces: [[0, 1, 2, 3]])
    var rng = SeededRNG(seed: 5)
    let samples = PointCloudSampling.sampleSurface(square, count: 4000, rng: &rng)
    var meanX = 0.0, meanY = 0.0, lowerRight = 0
    for index in 0..<4000 {
      let (x, y, z) = (samples[index * 3], samples[index * 3 + 1], samples[index * 3 + 2])
      XCTAssertEqual(z, 0)
      XCTAssertTrue((0...1).contains(x) && (0...1).contains(y), "(\(x), \(y)) is off the square")
      meanX += Double(x) / 4000
      meanY += Double(y) / 4000
      if x > y { lowerRight += 1 }
    }
    // Uniform over the square: means ½, and each fan triangle gets half the samples.
    XCTAssertEqual(meanX, 0.5, accuracy: 0.02)
    XCTAssertEqual(meanY, 0.5, accuracy: 0.02)
    XCTAssertEqual(Double(lowerRight) / 4000, 0.5, accuracy: 0.03)
    // The tokenizer samples an OFF mesh the same way every time (seeded by its configuration).
    let tokenizer = try PointCloudTokenizer(configuration: small, dim: 8)
    let path = write("square.off", "OFF\n4 1 0\n0 0 0\n1 0 0\n1 1 0\n0 1 0\n4 0 1 2 3\n")
    let first = try tokenizer.read(path: path), second = try tokenizer.read(path: path)
    XCTAssertEqual(first, second)
    XCTAssertTrue(first[0].centres.enumerated().allSatisfy { $0.offset % 3 != 2 || $0.element == 0 })
  }

  func testPreprocessingShapesAndSmallClouds() throws {
    let tokenizer = try PointCloudTokenizer(configuration: small, dim: 8)
    let many = try tokenizer.read(path: xyzFile("many.xyz", randomCloud(500, seed: 4)))[0]
    XCTAssertEqual(many.centres.count, 16 * 3)
    XCTAssertEqual(many.neighbourhoods.count, 16 * 8 * 3)
    // Each neighbourhood starts with its centre (offset 0), and the cloud fits the unit sphere.
    for group in 0..<16 {
      XCTAssertEqual(Array(many.neighbourhoods[(group * 24)..<(group * 24 + 3)]), [0, 0, 0])
      let c = many.centres[(group * 3)..<(group * 3 + 3)]
      XCTAssertLessThanOrEqual(c.reduce(0) { $0 + $1 * $1 }, 1.0001)
    }
    XCTAssertEqual(tokenizer.rawFeatures(many).shape, [16, 3 + 24])
    // 10 points (fewer than 64, at least 8) are repeated cyclically.
    let few = try tokenizer.read(path: xyzFile("few.xyz", randomCloud(10, seed: 6)))
    XCTAssertEqual(few[0].centres.count, 16 * 3)
    let tooFew = write("tooFew.ply", "ply\nformat ascii 1.0\nelement vertex 7\nproperty float x\nproperty float y\nproperty float z\nend_header\n"
      + (0..<7).map { "\($0) \($0 * $0) 1\n" }.joined())
    XCTAssertThrowsError(try tokenizer.read(path: tooFew)) { error in
      XCTAssertEqual("\(error)", "\(tooFew): has 7 points, fewer than the 8 neighbours each group needs")
    }
    let nan = write("nan.xyz", "1 2 3\nnan 0 0\n")
    XCTAssertThrowsError(try tokenizer.read(path: nan)) { error in
      XCTAssertEqual("\(error)", "\(nan): vertex 1 has a NaN or infinite coordinate")
    }
  }

  func testDefaultConfigurationOnALargeBinaryPLY() throws {
    let tokenizer = try PointCloudTokenizer(configuration: PointCloudTokenizer.defaultConfiguration(fittingTo: []), dim: 16)
    var rng = SeededRNG(seed: 14)
    tokenizer.initialise(&rng)
    let cloud = randomCloud(5000, seed: 15)
    var data = Data("ply\nformat binary_little_endian 1.0\nelement vertex 5000\nproperty float x\nproperty float y\nproperty float z\nend_header\n".utf8)
    for value in cloud { withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
    let path = folder + "/large.ply"
    try data.write(to: URL(fileURLWithPath: path))
    let samples = try tokenizer.read(path: path)
    XCTAssertEqual(samples[0].centres.count, 256 * 3)
    XCTAssertEqual(samples[0].neighbourhoods.count, 256 * 32 * 3)
    let batch = tokenizer.forward(samples, training: false, rng: &rng)
    XCTAssertEqual(batch.tokens.shape, [1, 257, 16])
    XCTAssertTrue(batch.tokens.isFinite)
  }

  // MARK: Learned part

  func testTokensAreDeterministicWithClsFirst() throws {
    let tokenizer = try PointCloudTokenizer(configuration: small, dim: 8)
    var rng = SeededRNG(seed: 8)
    tokenizer.initialise(&rng)
    let paths = [xyzFile("a.xyz", randomCloud(100, seed: 9)), xyzFile("b.xyz", randomCloud(80, seed: 10))]
    let first = try tokenizer.tokenize(paths: paths, rng: &rng)
    let second = try tokenizer.tokenize(paths: paths, rng: &rng)
    XCTAssertEqual(first.tokens.shape, [2, 17, 8])
    XCTAssertNil(first.mask)
    XCTAssertEqual(first.tokens.values, second.tokens.values)
    XCTAssertTrue(first.tokens.isFinite)
    let cls = tokenizer.parameters.view("cls")
    XCTAssertEqual(Array(first.tokens.values[0..<8]), Array(UnsafeBufferPointer(start: cls.value, count: 8)))
  }

  func testGradientsOfTheMiniPointNetAndThePositionalMLP() throws {
    let configuration = PointCloudTokenizer.Configuration(
      points: 16, groups: 3, neighbours: 5, pointHidden: 6, pointFeatures: 4, groupHidden: 7, positionHidden: 5)
    let tokenizer = try PointCloudTokenizer(configuration: configuration, dim: 6)
    var rng = SeededRNG(seed: 11)
    tokenizer.initialise(&rng)
    rng.fillUniform(tokenizer.parameters.values, -0.8, 0.8)
    let samples = try (0..<2).map { seed in
      try tokenizer.sample(PointCloudGeometry(points: randomCloud(30, seed: UInt64(20 + seed))), file: "random")
    }
    let tokens = tokenizer.forward(samples, training: true, rng: &rng).tokens
    let dTokens = randomTensor(tokens.shape, seed: 12)
    tokenizer.parameters.zeroGradients()
    tokenizer.backward(dTokens.data)
    let analytic = tokenizer.parameters.gradients.values
    let loss = { () -> Double in
      var lossRNG = SeededRNG(seed: 0)
      let y = tokenizer.forward(samples, training: true, rng: &lossRNG).tokens
      return weightedSum(y.data, dTokens.data, count: y.count)
    }
    for entry in tokenizer.parameters.entries {
      let indices = Array(entry.offset..<(entry.offset + entry.count)).filter { ($0 - entry.offset) % 3 == 0 }
      let result = checkGradient(
        values: tokenizer.parameters.values.data, analytic: analytic, indices: indices, step: 1e-3, loss: loss)
      XCTAssertLessThan(result.worstError, 2e-2, "\(entry.name): \(result)")
    }
  }

  func testSavedTokenizerTokenizesIdentically() throws {
    let configuration = PointCloudTokenizer.Configuration(
      points: 64, groups: 16, neighbours: 8, surfaceSeed: 42, pointHidden: 8, pointFeatures: 6, groupHidden: 10,
      positionHidden: 5, cls: false)
    let tokenizer = try PointCloudTokenizer(configuration: configuration, dim: 8)
    var rng = SeededRNG(seed: 13)
    tokenizer.initialise(&rng)
    var writer = SafeTensorsWriter()
    var metadata: [String: String] = [:]
    try tokenizer.add(to: &writer, metadata: &metadata)
    let file = try SafeTensorsFile(data: writer.serialized(metadata: metadata), name: "model.safetensors")
    let restored = try PointCloudTokenizer.load(from: file)
    XCTAssertEqual(restored.configuration, configuration)
    let path = write("tetra.off", "OFF\n4 4 0\n0 0 0\n1 0 0\n0 1 0\n0 0 1\n3 0 1 2\n3 0 1 3\n3 0 2 3\n3 1 2 3\n")
    let before = try tokenizer.tokenize(paths: [path], rng: &rng)
    let after = try restored.tokenize(paths: [path], rng: &rng)
    XCTAssertEqual(before.tokens.shape, [1, 16, 8])
    XCTAssertEqual(before.tokens.values, after.tokens.values)
  }
}
