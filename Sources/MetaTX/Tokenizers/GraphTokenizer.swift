import Kernels
import Readers

/// One graph after the fixed preprocessing.
public struct GraphSample: Equatable, Sendable {
  public var nodeCount: Int
  /// Edge endpoints as node indices, `[M]` each (direction as in the file).
  public var sources: [Int]
  public var targets: [Int]
  /// `[N]` vocabulary ids, 0 for an unlabelled node or a label not in the vocabulary.
  public var nodeLabelIDs: [Int]
  /// `[M]`, like `nodeLabelIDs`.
  public var edgeLabelIDs: [Int]
  /// `[N, F]` node features, F = the configuration's `nodeFeatureWidth`.
  public var nodeFeatures: [Float]
  /// `[N, k]` node identifiers: the first k Laplacian eigenvectors, zero
  /// columns beyond the node count.
  public var identifiers: [Float]

  public var edgeCount: Int { sources.count }
}

/// Graphs to tokens, TokenGT style (Kim et al. 2022, "Pure Transformers are
/// Powerful Graph Learners"): one token per node and one per edge, told apart
/// by type embeddings, with the structure carried by orthonormal node
/// identifiers.
///
/// Fixed preprocessing (`read`): the graph (`GraphFiles`: JSON or edge list),
/// its labels mapped through the configuration's vocabularies, and node
/// identifiers `P` `[N, k]`: the eigenvectors of the `k` smallest eigenvalues
/// of the normalised Laplacian `L = I − D^-½ A D^-½` (`A` the symmetrised
/// adjacency without self-loops, degrees clipped to ≥ 1 as in TokenGT's
/// `lap_eig`), each with its sign fixed so its first entry of magnitude
/// > 1e-6 is positive, zero-padded to `k` columns when `N < k`.
///
/// Learned (`forward`), with `W` `[D, 2k]` shared by nodes and edges:
/// ```
/// node v:      W [P_v, P_v] + E_node[label_v] + F x_v + type[0]
/// edge (u, v): W [P_u, P_v] + E_edge[label_uv]        + type[1]
/// ```
/// In training each eigenvector's sign is flipped with probability ½ per
/// graph (the eigenvectors are only defined up to sign), drawn from `rng`.
///
/// Tokens `[B, 1 + max(N + M), D]`: the graph token (cls), the N node tokens,
/// the M edge tokens, zero padding; the mask marks the padding whenever the
/// batch's graphs differ in size.
public final class GraphTokenizer: Tokenizer {
  public struct Configuration: Codable, Equatable, Sendable {
    /// Eigenvectors per node identifier, `k` (16, TokenGT's value on PCQM4Mv2).
    public var identifiers: Int
    /// Node label vocabulary (id `i + 1`; 0 is "none or unknown"), fitted on training graphs.
    public var nodeLabels: [String]
    /// Edge label vocabulary, like `nodeLabels`.
    public var edgeLabels: [String]
    /// Features per node (0: none), fitted on training graphs.
    public var nodeFeatureWidth: Int
    /// Larger graphs are refused: the eigen-decomposition is dense `O(N³)` (1024).
    public var maximumNodes: Int
    /// Larger graphs are refused: tokens are N + M + 1 (8192).
    public var maximumEdges: Int

    public init(
      identifiers: Int = 16, nodeLabels: [String] = [], edgeLabels: [String] = [], nodeFeatureWidth: Int = 0,
      maximumNodes: Int = 1024, maximumEdges: Int = 8192
    ) {
      self.identifiers = identifiers
      self.nodeLabels = nodeLabels
      self.edgeLabels = edgeLabels
      self.nodeFeatureWidth = nodeFeatureWidth
      self.maximumNodes = maximumNodes
      self.maximumEdges = maximumEdges
    }
  }

  public typealias Sample = GraphSample

  public static var modality: Modality { .graph }
  public let configuration: Configuration
  public let dim: Int
  public let parameters: ParameterSet

  private let identifierProjection: Linear
  private let featureProjection: Linear?
  private let nodeLabelTable: EmbeddingTable, edgeLabelTable: EmbeddingTable, typeTable: EmbeddingTable
  private let graphToken: ClsToken
  private let nodeLabelIndex: [String: Int], edgeLabelIndex: [String: Int]
  private var cache: Cache?

  public init(configuration: Configuration, dim: Int) throws {
    let c = configuration
    guard c.identifiers > 0, dim > 0, c.nodeFeatureWidth >= 0, c.maximumNodes > 0, c.maximumEdges >= 0 else {
      throw GeometryConfigurationError("graph tokenizer sizes out of range: \(c), dim \(dim)")
    }
    guard Set(c.nodeLabels).count == c.nodeLabels.count, Set(c.edgeLabels).count == c.edgeLabels.count else {
      throw GeometryConfigurationError("graph tokenizer label vocabularies hold duplicates")
    }
    self.configuration = configuration
    self.dim = dim
    // No biases: the type embeddings already give every token a learned offset.
    var specs = Linear.specs("identifier.proj", inputs: 2 * c.identifiers, outputs: dim, bias: false)
    if c.nodeFeatureWidth > 0 {
      specs += Linear.specs("node_features.proj", inputs: c.nodeFeatureWidth, outputs: dim, bias: false)
    }
    specs += EmbeddingTable.specs("node_label", vocabulary: c.nodeLabels.count + 1, dim: dim)
    specs += EmbeddingTable.specs("edge_label", vocabulary: c.edgeLabels.count + 1, dim: dim)
    specs += EmbeddingTable.specs("type", vocabulary: 2, dim: dim)
    specs += ClsToken.specs("graph_token", dim: dim)
    let parameters = ParameterSet(specs)
    self.parameters = parameters
    identifierProjection = Linear(weight: parameters.view("identifier.proj.weight"), bias: nil)
    featureProjection = c.nodeFeatureWidth > 0 ? Linear(weight: parameters.view("node_features.proj.weight"), bias: nil) : nil
    nodeLabelTable = EmbeddingTable(weight: parameters.view("node_label"))
    edgeLabelTable = EmbeddingTable(weight: parameters.view("edge_label"))
    typeTable = EmbeddingTable(weight: parameters.view("type"))
    graphToken = ClsToken(value: parameters.view("graph_token"))
    nodeLabelIndex = Dictionary(uniqueKeysWithValues: c.nodeLabels.enumerated().map { ($1, $0 + 1) })
    edgeLabelIndex = Dictionary(uniqueKeysWithValues: c.edgeLabels.enumerated().map { ($1, $0 + 1) })
  }

  /// The defaults, with label vocabularies (sorted) and the node feature
  /// width fitted to the graphs at `paths`, which must agree on the width.
  public static func defaultConfiguration(fittingTo paths: [String]) throws -> Configuration {
    var configuration = Configuration()
    var nodeLabels = Set<String>(), edgeLabels = Set<String>()
    var width: Int?
    for path in paths {
      let graph = try GraphFiles.read(path: path)
      nodeLabels.formUnion(graph.nodeLabels.compactMap { $0 })
      edgeLabels.formUnion(graph.edges.compactMap(\.label))
      if let width, width != graph.featureWidth {
        throw ReaderError(file: path, "has \(graph.featureWidth) features per node, earlier graphs \(width)")
      }
      width = graph.featureWidth
    }
    configuration.nodeLabels = nodeLabels.sorted()
    configuration.edgeLabels = edgeLabels.sorted()
    configuration.nodeFeatureWidth = width ?? 0
    return configuration
  }

  /// Normal(0, 0.02) embeddings and projections (TokenGT/BERT), truncated-normal graph token.
  public func initialise(_ rng: inout SeededRNG) {
    for index in 0..<identifierProjection.weight.count {
      identifierProjection.weight.value[index] = rng.normal(mean: 0, std: 0.02)
    }
    if let featureProjection {
      for index in 0..<featureProjection.weight.count {
        featureProjection.weight.value[index] = rng.normal(mean: 0, std: 0.02)
      }
    }
    nodeLabelTable.initialise(&rng)
    edgeLabelTable.initialise(&rng)
    typeTable.initialise(&rng)
    graphToken.initialise(&rng)
  }

  // MARK: Fixed preprocessing

  public func read(path: String) throws -> [GraphSample] {
    [try sample(GraphFiles.read(path: path), file: path)]
  }

  /// The preprocessing of `read` applied to a decoded graph.
  public func sample(_ graph: GraphData, file: String) throws -> GraphSample {
    let c = configuration
    guard graph.nodeCount <= c.maximumNodes else {
      throw ReaderError(file: file, "has \(graph.nodeCount) nodes, more than the \(c.maximumNodes) the tokenizer takes")
    }
    guard graph.edges.count <= c.maximumEdges else {
      throw ReaderError(file: file, "has \(graph.edges.count) edges, more than the \(c.maximumEdges) the tokenizer takes")
    }
    guard graph.featureWidth == c.nodeFeatureWidth else {
      throw ReaderError(file: file, "has \(graph.featureWidth) features per node, the tokenizer takes \(c.nodeFeatureWidth)")
    }
    let n = graph.nodeCount, k = c.identifiers
    let eigen: (values: [Float], vectors: [Float])
    do {
      eigen = try Self.laplacianEigen(nodeCount: n, edges: graph.edges.map { ($0.source, $0.target) })
    } catch {
      throw ReaderError(file: file, "the Laplacian eigen-decomposition failed: \(error)")
    }
    var identifiers = [Float](repeating: 0, count: n * k)
    for node in 0..<n {
      for column in 0..<min(k, n) { identifiers[node * k + column] = eigen.vectors[node * n + column] }
    }
    return GraphSample(
      nodeCount: n, sources: graph.edges.map(\.source), targets: graph.edges.map(\.target),
      nodeLabelIDs: graph.nodeLabels.map { $0.flatMap { nodeLabelIndex[$0] } ?? 0 },
      edgeLabelIDs: graph.edges.map { $0.label.flatMap { edgeLabelIndex[$0] } ?? 0 },
      nodeFeatures: graph.nodeFeatures, identifiers: identifiers)
  }

  /// Eigenvalues (ascending) and eigenvectors (columns of a row-major
  /// `[N, N]`, signs fixed as documented on the type) of the normalised
  /// Laplacian of the graph with `nodeCount` nodes and `edges` (undirected,
  /// self-loops and repeats ignored).
  public static func laplacianEigen(nodeCount n: Int, edges: [(Int, Int)]) throws -> (values: [Float], vectors: [Float]) {
    var adjacency = [Float](repeating: 0, count: n * n)
    for (u, v) in edges where u != v {
      adjacency[u * n + v] = 1
      adjacency[v * n + u] = 1
    }
    let scale = (0..<n).map { row -> Float in
      let degree = (0..<n).reduce(Float(0)) { $0 + adjacency[row * n + $1] }
      return 1 / max(degree, 1).squareRoot()
    }
    var laplacian = [Float](repeating: 0, count: n * n)
    for row in 0..<n {
      for column in 0..<n {
        laplacian[row * n + column] = (row == column ? 1 : 0) - scale[row] * adjacency[row * n + column] * scale[column]
      }
    }
    var (values, vectors) = try LAPACK.symmetricEigen(laplacian, n: n)
    for column in 0..<n {
      let leading = (0..<n).first { abs(vectors[$0 * n + column]) > 1e-6 }
      if let leading, vectors[leading * n + column] < 0 {
        for row in 0..<n { vectors[row * n + column] = -vectors[row * n + column] }
      }
    }
    values = values.map { abs($0) < 1e-6 ? 0 : $0 }
    return (values, vectors)
  }

  /// `[N + M, 2k + F]`: per node `[P_v, P_v, x_v]`, per edge `[P_u, P_v, 0]`.
  public func rawFeatures(_ sample: GraphSample) -> Tensor {
    let k = configuration.identifiers, f = configuration.nodeFeatureWidth
    let width = 2 * k + f
    let features = Tensor(shape: [sample.nodeCount + sample.edgeCount, width])
    for node in 0..<sample.nodeCount {
      for j in 0..<k {
        features[node * width + j] = sample.identifiers[node * k + j]
        features[node * width + k + j] = sample.identifiers[node * k + j]
      }
      for j in 0..<f { features[node * width + 2 * k + j] = sample.nodeFeatures[node * f + j] }
    }
    for edge in 0..<sample.edgeCount {
      let row = (sample.nodeCount + edge) * width
      for j in 0..<k {
        features[row + j] = sample.identifiers[sample.sources[edge] * k + j]
        features[row + k + j] = sample.identifiers[sample.targets[edge] * k + j]
      }
    }
    return features
  }

  // MARK: Learned part

  /// The last forward's inputs and layout. Rows: every node of every graph
  /// (`ΣN`), then every edge (`ΣM`).
  private struct Cache {
    var batch: Int
    var count: Int
    /// `[ΣN + ΣM, 2k]` identifier pairs after the sign flips.
    var identifierPairs: Tensor
    /// `[ΣN, F]`.
    var nodeFeatures: Tensor
    var nodeLabelIDs: [Int], edgeLabelIDs: [Int], typeIDs: [Int]
    /// The token position `b · count + t` of each row.
    var positions: [Int]
  }

  public func forward(_ samples: [GraphSample], training: Bool, rng: inout SeededRNG) -> TokenBatch {
    let k = configuration.identifiers, f = configuration.nodeFeatureWidth
    let batch = samples.count
    let totalNodes = samples.reduce(0) { $0 + $1.nodeCount }, totalEdges = samples.reduce(0) { $0 + $1.edgeCount }
    let rows = totalNodes + totalEdges
    let longest = samples.map { $0.nodeCount + $0.edgeCount }.max() ?? 0
    let count = 1 + longest
    let pairs = Tensor(shape: [rows, 2 * k]), features = Tensor(shape: [totalNodes, f])
    var positions = [Int](repeating: 0, count: rows)
    var nodeLabelIDs: [Int] = [], edgeLabelIDs: [Int] = []
    var nodeRow = 0, edgeRow = totalNodes
    for (b, sample) in samples.enumerated() {
      precondition(sample.identifiers.count == sample.nodeCount * k && sample.nodeFeatures.count == sample.nodeCount * f,
        "graph sample does not match the configuration (k \(k), \(f) features)")
      var signs = [Float](repeating: 1, count: k)
      if training { for j in 0..<k where rng.next() & 1 == 1 { signs[j] = -1 } }
      for node in 0..<sample.nodeCount {
        for j in 0..<k {
          let value = signs[j] * sample.identifiers[node * k + j]
          pairs[nodeRow * 2 * k + j] = value
          pairs[nodeRow * 2 * k + k + j] = value
        }
        for j in 0..<f { features[nodeRow * f + j] = sample.nodeFeatures[node * f + j] }
        positions[nodeRow] = b * count + 1 + node
        nodeRow += 1
      }
      for edge in 0..<sample.edgeCount {
        let (u, v) = (sample.sources[edge], sample.targets[edge])
        for j in 0..<k {
          pairs[edgeRow * 2 * k + j] = signs[j] * sample.identifiers[u * k + j]
          pairs[edgeRow * 2 * k + k + j] = signs[j] * sample.identifiers[v * k + j]
        }
        positions[edgeRow] = b * count + 1 + sample.nodeCount + edge
        edgeRow += 1
      }
      nodeLabelIDs += sample.nodeLabelIDs
      edgeLabelIDs += sample.edgeLabelIDs
    }
    let typeIDs = [Int](repeating: 0, count: totalNodes) + [Int](repeating: 1, count: totalEdges)
    // [ΣN + ΣM, D]: identifier projection + type, + label (+ features) per kind.
    let projected = Tensor(shape: [rows, dim])
    if rows > 0 { identifierProjection.forward(output: projected.data, input: pairs.data, rows: rows) }
    typeTable.forward(output: projected.data, ids: typeIDs, accumulate: true)
    nodeLabelTable.forward(output: projected.data, ids: nodeLabelIDs, accumulate: true)
    edgeLabelTable.forward(output: projected.data + totalNodes * dim, ids: edgeLabelIDs, accumulate: true)
    if let featureProjection, totalNodes > 0 {
      let featureTokens = Tensor(shape: [totalNodes, dim])
      featureProjection.forward(output: featureTokens.data, input: features.data, rows: totalNodes)
      Linalg.axpy(count: totalNodes * dim, alpha: 1, x: featureTokens.data, y: projected.data)
    }
    let tokens = Tensor(shape: [batch, count, dim])
    for row in 0..<rows { (tokens.data + positions[row] * dim).update(from: projected.data + row * dim, count: dim) }
    graphToken.forward(tokens: tokens.data, batch: batch, count: count)
    var mask: Tensor?
    if samples.contains(where: { $0.nodeCount + $0.edgeCount != longest }) {
      let full = Tensor(shape: [batch, count])
      for (b, sample) in samples.enumerated() {
        for t in 0..<(1 + sample.nodeCount + sample.edgeCount) { full[b * count + t] = 1 }
      }
      mask = full
    }
    cache = Cache(
      batch: batch, count: count, identifierPairs: pairs, nodeFeatures: features, nodeLabelIDs: nodeLabelIDs,
      edgeLabelIDs: edgeLabelIDs, typeIDs: typeIDs, positions: positions)
    return TokenBatch(tokens: tokens, mask: mask)
  }

  public func backward(_ dTokens: UnsafePointer<Float>) {
    guard parameters.isTrainable, let cache, !cache.positions.isEmpty else { return }
    let rows = cache.positions.count, totalNodes = cache.nodeLabelIDs.count
    graphToken.backward(dTokens: dTokens, batch: cache.batch, count: cache.count)
    let dRows = Tensor(shape: [rows, dim])
    for row in 0..<rows { (dRows.data + row * dim).update(from: dTokens + cache.positions[row] * dim, count: dim) }
    identifierProjection.backward(dInput: nil, accumulate: false, dOutput: dRows.data, input: cache.identifierPairs.data,
      rows: rows, parameterGradients: true)
    typeTable.backward(dOutput: dRows.data, ids: cache.typeIDs)
    nodeLabelTable.backward(dOutput: dRows.data, ids: cache.nodeLabelIDs)
    edgeLabelTable.backward(dOutput: dRows.data + totalNodes * dim, ids: cache.edgeLabelIDs)
    if let featureProjection, totalNodes > 0 {
      featureProjection.backward(dInput: nil, accumulate: false, dOutput: dRows.data, input: cache.nodeFeatures.data,
        rows: totalNodes, parameterGradients: true)
    }
  }
}
