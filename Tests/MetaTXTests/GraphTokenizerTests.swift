import Foundation
import MetaTX
import Readers
import TestSupport
import XCTest

/// The TokenGT graph tokenizer: Laplacian identifiers, layout and mask,
/// sign flips, vocabularies, gradients, and save/load.
final class GraphTokenizerTests: XCTestCase {
  private var folder: String!

  override func setUpWithError() throws {
    folder = FileManager.default.temporaryDirectory.path + "/graph-tests-\(UUID().uuidString)"
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

  private var moleculePath: String {
    write("molecule.json", """
      {"nodes": [{"id": "c1", "label": "C", "features": [1, 0]}, {"id": "o", "label": "O", "features": [0, 1]},
                 {"id": "c2", "label": "C", "features": [0.5, 0.5]}, {"id": "n", "label": "N", "features": [2, 1]}],
       "edges": [{"source": "c1", "target": "o", "label": "double"}, {"source": "c1", "target": "c2", "label": "single"},
                 {"source": "c2", "target": "n", "label": "single"}]}
      """)
  }

  private var pathGraph: String { write("path.json", #"{"nodes": [{"id": 0, "label": "N", "features": [1, 1]}, {"id": 1, "features": [0, 3]}], "edges": [{"source": 0, "target": 1, "label": "triple"}]}"#) }

  func testPathGraphLaplacian() throws {
    // 0 — 1 — 2: L = I − D^-½ A D^-½ has eigenvalues 0, 1, 2 with eigenvectors
    // [1, √2, 1]/2, [1, 0, −1]/√2, [1, −√2, 1]/2 (signs fixed: first entry positive).
    let (values, vectors) = try GraphTokenizer.laplacianEigen(nodeCount: 3, edges: [(0, 1), (1, 2)])
    for (value, expected) in zip(values, [Float(0), 1, 2]) { XCTAssertEqual(value, expected, accuracy: 1e-5) }
    let root2 = Float(2).squareRoot()
    let expected: [[Float]] = [[0.5, root2 / 2, 0.5], [1 / root2, 0, -1 / root2], [0.5, -root2 / 2, 0.5]]
    for column in 0..<3 {
      for row in 0..<3 { XCTAssertEqual(vectors[row * 3 + column], expected[column][row], accuracy: 1e-5) }
    }
    // Direction, repeats and self-loops do not change the undirected Laplacian.
    let again = try GraphTokenizer.laplacianEigen(nodeCount: 3, edges: [(1, 0), (2, 1), (1, 2), (2, 2)])
    for (a, b) in zip(again.vectors, vectors) { XCTAssertEqual(a, b, accuracy: 1e-5) }
  }

  func testIdentifiersArePaddedAndVocabulariesFitted() throws {
    let configuration = try GraphTokenizer.defaultConfiguration(fittingTo: [moleculePath, pathGraph])
    XCTAssertEqual(configuration.nodeLabels, ["C", "N", "O"])
    XCTAssertEqual(configuration.edgeLabels, ["double", "single", "triple"])
    XCTAssertEqual(configuration.nodeFeatureWidth, 2)
    let tokenizer = try GraphTokenizer(configuration: configuration, dim: 8)
    let sample = try tokenizer.read(path: write("p3.json", #"{"nodes": [{"id": 0, "label": "S", "features": [0, 0]}, {"id": 1, "features": [0, 0]}, {"id": 2, "label": "O", "features": [0, 0]}], "edges": [{"source": 0, "target": 1, "label": "aromatic"}, {"source": 1, "target": 2}]}"#))[0]
    XCTAssertEqual(sample.nodeLabelIDs, [0, 0, 3], "unknown and missing labels share bucket 0")
    XCTAssertEqual(sample.edgeLabelIDs, [0, 0])
    XCTAssertEqual(sample.identifiers.count, 3 * 16)
    XCTAssertEqual(sample.identifiers[1 * 16 + 0], Float(2).squareRoot() / 2, accuracy: 1e-5)
    XCTAssertEqual(Array(sample.identifiers[(16 + 3)..<32]), [Float](repeating: 0, count: 13))
    XCTAssertEqual(tokenizer.rawFeatures(sample).shape, [5, 34])
  }

  func testLayoutMaskAndSignFlips() throws {
    let configuration = try GraphTokenizer.defaultConfiguration(fittingTo: [moleculePath, pathGraph])
    let tokenizer = try GraphTokenizer(configuration: configuration, dim: 8)
    var rng = SeededRNG(seed: 1)
    tokenizer.initialise(&rng)
    let samples = try tokenizer.read(path: moleculePath) + tokenizer.read(path: pathGraph)
    let batch = tokenizer.forward(samples, training: false, rng: &rng)
    // Graph token, 4 nodes, 3 edges; the 2-node graph has 1 + 2 + 1 real tokens.
    XCTAssertEqual(batch.tokens.shape, [2, 8, 8])
    XCTAssertEqual(batch.mask?.values, [1, 1, 1, 1, 1, 1, 1, 1] + [1, 1, 1, 1, 0, 0, 0, 0])
    XCTAssertEqual(Array(batch.tokens.values[(8 * 8 + 4 * 8)..<(16 * 8)]), [Float](repeating: 0, count: 32))
    XCTAssertEqual(tokenizer.forward(samples, training: false, rng: &rng).tokens.values, batch.tokens.values)
    XCTAssertNil(tokenizer.forward([samples[0], samples[0]], training: false, rng: &rng).mask)
    // Training flips eigenvector signs per graph: the tokens change, and
    // flipping every sign by hand reproduces a flip of every column.
    var trainingRNG = SeededRNG(seed: 2)
    let trained = tokenizer.forward(samples, training: true, rng: &trainingRNG).tokens.values
    XCTAssertNotEqual(trained, batch.tokens.values)
    var flipped = samples[1]
    flipped.identifiers = flipped.identifiers.map { -$0 }
    let byHand = tokenizer.forward([flipped], training: false, rng: &rng).tokens.values
    let node0 = tokenizer.forward([samples[1]], training: false, rng: &rng).tokens.values
    XCTAssertNotEqual(byHand, node0)
    XCTAssertEqual(Array(byHand[0..<8]), Array(node0[0..<8]), "the graph token does not depend on identifiers")
  }

  func testGradientsOfProjectionsAndEmbeddings() throws {
    var configuration = try GraphTokenizer.defaultConfiguration(fittingTo: [moleculePath, pathGraph])
    configuration.identifiers = 3
    let tokenizer = try GraphTokenizer(configuration: configuration, dim: 5)
    var rng = SeededRNG(seed: 3)
    rng.fillUniform(tokenizer.parameters.values, -0.5, 0.5)
    let samples = try tokenizer.read(path: moleculePath) + tokenizer.read(path: pathGraph)
    var forwardRNG = SeededRNG(seed: 4)
    let tokens = tokenizer.forward(samples, training: true, rng: &forwardRNG).tokens
    let dTokens = randomTensor(tokens.shape, seed: 5)
    tokenizer.parameters.zeroGradients()
    tokenizer.backward(dTokens.data)
    let analytic = tokenizer.parameters.gradients.values
    let loss = { () -> Double in
      var lossRNG = SeededRNG(seed: 4)
      let y = tokenizer.forward(samples, training: true, rng: &lossRNG).tokens
      return weightedSum(y.data, dTokens.data, count: y.count)
    }
    for entry in tokenizer.parameters.entries {
      let result = checkGradient(
        values: tokenizer.parameters.values.data, analytic: analytic,
        indices: Array(entry.offset..<(entry.offset + entry.count)), loss: loss)
      XCTAssertLessThan(result.worstError, 2e-2, "\(entry.name): \(result)")
    }
  }

  func testSavedTokenizerTokenizesIdentically() throws {
    let configuration = try GraphTokenizer.defaultConfiguration(fittingTo: [moleculePath])
    let tokenizer = try GraphTokenizer(configuration: configuration, dim: 8)
    var rng = SeededRNG(seed: 6)
    tokenizer.initialise(&rng)
    var writer = SafeTensorsWriter()
    var metadata: [String: String] = [:]
    try tokenizer.add(to: &writer, metadata: &metadata)
    let file = try SafeTensorsFile(data: writer.serialized(metadata: metadata), name: "model.safetensors")
    let restored = try GraphTokenizer.load(from: file)
    XCTAssertEqual(restored.configuration, configuration)
    let before = try tokenizer.tokenize(paths: [moleculePath, pathGraph], rng: &rng)
    let after = try restored.tokenize(paths: [moleculePath, pathGraph], rng: &rng)
    XCTAssertEqual(before.tokens.values, after.tokens.values)
    XCTAssertEqual(before.mask?.values, after.mask?.values)
  }

  func testBadGraphsAreRefused() throws {
    let tokenizer = try GraphTokenizer(configuration: .init(maximumNodes: 3), dim: 4)
    let missing = write("missing.edges.json", #"{"nodes": [{"id": "a"}], "edges": [{"source": "a", "target": "b"}]}"#)
    XCTAssertThrowsError(try tokenizer.read(path: missing)) { error in
      XCTAssertEqual("\(error)", "\(missing): edge 0 refers to node \"b\", which is not in \"nodes\"")
    }
    let large = write("large.edgelist", "1 2\n3 4\n")
    XCTAssertThrowsError(try tokenizer.read(path: large)) { error in
      XCTAssertEqual("\(error)", "\(large): has 4 nodes, more than the 3 the tokenizer takes")
    }
    let featured = write("featured.json", #"{"nodes": [{"id": 1, "features": [1]}]}"#)
    XCTAssertThrowsError(try tokenizer.read(path: featured)) { error in
      XCTAssertEqual("\(error)", "\(featured): has 1 features per node, the tokenizer takes 0")
    }
  }
}
