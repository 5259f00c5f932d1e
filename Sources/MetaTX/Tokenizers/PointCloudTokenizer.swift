import Kernels
import Readers

/// A configuration that cannot describe a tokenizer (a size out of range).
public struct GeometryConfigurationError: Error, CustomStringConvertible, Equatable {
  public var description: String

  public init(_ description: String) {
    self.description = description
  }
}

/// One point cloud after the fixed preprocessing: `G` centres and the `K`
/// nearest neighbours of each, relative to it.
public struct PointCloudSample: Equatable, Sendable {
  /// `[G, 3]` centres (farthest-point samples of the unit-sphere cloud).
  public var centres: [Float]
  /// `[G, K, 3]` neighbour − centre, nearest first (the centre itself, 0, leads).
  public var neighbourhoods: [Float]
}

/// Point clouds to tokens, Point-MAE style (Pang et al. 2022, after
/// Point-BERT, Yu et al. 2022): a token per local patch of the surface.
///
/// Fixed preprocessing (`read`), deterministic:
/// 1. Decode the file (`PointCloudFiles`: PLY, OFF, XYZ/TXT, `.npy`). A mesh
///    (OFF) is replaced by `points` samples of its surface, drawn with a
///    `SeededRNG(seed: surfaceSeed)` (`PointCloudSampling.sampleSurface`).
/// 2. Refuse clouds with fewer than `neighbours` points; centre and scale to
///    the unit sphere.
/// 3. Bring the cloud to exactly `points` points in file order: more are
///    reduced by farthest-point sampling from point 0; fewer are repeated
///    cyclically (point `i` is original point `i mod N`).
/// 4. `groups` centres by farthest-point sampling from point 0; the
///    `neighbours` nearest points of each, as offsets from their centre.
///
/// Learned (`forward`), per group of `K` offsets `x` `[K, 3]`:
/// ```
/// f   = Linear(128→256)(GELU(LayerNorm(Linear(3→128)(x))))     [K, 256]
/// c   = [max_k f, f]                                            [K, 512]
/// t   = max_k Linear(512→D)(GELU(LayerNorm(Linear(512→512)(c))))     [D]
/// tok = t + Linear(128→D)(GELU(Linear(3→128)(centre)))              [D]
/// ```
/// LayerNorm stands where Point-MAE has BatchNorm (no batch statistics to
/// keep, the same per-token behaviour in training and inference); GELU
/// where it has ReLU (as the encoder's MLP). Max-pooling's gradient goes to
/// the arg-max (the first one on ties).
///
/// Tokens: `[B, G (+1), D]`, the cls token first when `cls`; every token is
/// real, so the mask is nil. Training keeps `B · G · K` rows of 512-wide
/// activations for backward (about 110 MB per cloud at the defaults, D 768).
public final class PointCloudTokenizer: Tokenizer {
  public struct Configuration: Codable, Equatable, Sendable {
    /// Points after sampling or padding (1024).
    public var points: Int
    /// Centres, one token each (256: a ratio of 0.25).
    public var groups: Int
    /// Neighbours per centre, `K` (32); also the fewest points a cloud may have.
    public var neighbours: Int
    /// Seed of the surface sampling of meshes (0).
    public var surfaceSeed: UInt64
    /// Widths of the first shared MLP (128 hidden, 256 out).
    public var pointHidden: Int
    public var pointFeatures: Int
    /// Hidden width of the second shared MLP (512).
    public var groupHidden: Int
    /// Hidden width of the centres' positional MLP (128).
    public var positionHidden: Int
    /// A learned cls token in front (true).
    public var cls: Bool

    public init(
      points: Int = 1024, groups: Int = 256, neighbours: Int = 32, surfaceSeed: UInt64 = 0, pointHidden: Int = 128,
      pointFeatures: Int = 256, groupHidden: Int = 512, positionHidden: Int = 128, cls: Bool = true
    ) {
      self.points = points
      self.groups = groups
      self.neighbours = neighbours
      self.surfaceSeed = surfaceSeed
      self.pointHidden = pointHidden
      self.pointFeatures = pointFeatures
      self.groupHidden = groupHidden
      self.positionHidden = positionHidden
      self.cls = cls
    }
  }

  public typealias Sample = PointCloudSample

  public static var modality: Modality { .pointCloud }
  public let configuration: Configuration
  public let dim: Int
  public let parameters: ParameterSet

  private let first: Linear, firstNorm: LayerNorm, second: Linear
  private let third: Linear, thirdNorm: LayerNorm, fourth: Linear
  private let positionFirst: Linear, positionSecond: Linear
  private let clsToken: ClsToken?
  /// What the last forward keeps for backward.
  private var cache: Cache?

  public init(configuration: Configuration, dim: Int) throws {
    let c = configuration
    guard [c.points, c.groups, c.neighbours, c.pointHidden, c.pointFeatures, c.groupHidden, c.positionHidden, dim]
      .allSatisfy({ $0 > 0 })
    else { throw GeometryConfigurationError("point-cloud tokenizer sizes must be positive: \(c), dim \(dim)") }
    guard c.groups <= c.points, c.neighbours <= c.points else {
      throw GeometryConfigurationError(
        "point-cloud tokenizer: \(c.groups) groups of \(c.neighbours) neighbours need at least as many of its \(c.points) points")
    }
    self.configuration = configuration
    self.dim = dim
    var specs = Linear.specs("group.first", inputs: 3, outputs: c.pointHidden)
    specs += LayerNorm.specs("group.first_norm", channels: c.pointHidden)
    specs += Linear.specs("group.second", inputs: c.pointHidden, outputs: c.pointFeatures)
    specs += Linear.specs("group.third", inputs: 2 * c.pointFeatures, outputs: c.groupHidden)
    specs += LayerNorm.specs("group.third_norm", channels: c.groupHidden)
    specs += Linear.specs("group.fourth", inputs: c.groupHidden, outputs: dim)
    specs += Linear.specs("position.first", inputs: 3, outputs: c.positionHidden)
    specs += Linear.specs("position.second", inputs: c.positionHidden, outputs: dim)
    if c.cls { specs += ClsToken.specs("cls", dim: dim) }
    let parameters = ParameterSet(specs)
    self.parameters = parameters
    func linear(_ name: String) -> Linear {
      Linear(weight: parameters.view("\(name).weight"), bias: parameters.view("\(name).bias"))
    }
    func norm(_ name: String) -> LayerNorm {
      LayerNorm(weight: parameters.view("\(name).weight"), bias: parameters.view("\(name).bias"), eps: 1e-5)
    }
    first = linear("group.first")
    firstNorm = norm("group.first_norm")
    second = linear("group.second")
    third = linear("group.third")
    thirdNorm = norm("group.third_norm")
    fourth = linear("group.fourth")
    positionFirst = linear("position.first")
    positionSecond = linear("position.second")
    clsToken = c.cls ? ClsToken(value: parameters.view("cls")) : nil
  }

  /// The documented defaults; nothing is fitted to data.
  public static func defaultConfiguration(fittingTo paths: [String]) throws -> Configuration {
    Configuration()
  }

  /// PyTorch's `nn.Linear` default (uniform ±1/√inputs, as Point-MAE's
  /// Conv1d layers start), identity LayerNorms, truncated-normal cls.
  public func initialise(_ rng: inout SeededRNG) {
    for layer in [first, second, third, fourth, positionFirst, positionSecond] {
      let bound = 1 / Float(layer.inputs).squareRoot()
      for index in 0..<layer.weight.count { layer.weight.value[index] = rng.uniform(-bound, bound) }
      if let bias = layer.bias { for index in 0..<bias.count { bias.value[index] = rng.uniform(-bound, bound) } }
    }
    firstNorm.initialise()
    thirdNorm.initialise()
    clsToken?.initialise(&rng)
  }

  // MARK: Fixed preprocessing

  public func read(path: String) throws -> [PointCloudSample] {
    [try sample(PointCloudFiles.read(path: path), file: path)]
  }

  /// The preprocessing of `read` applied to decoded geometry (steps 1–4).
  public func sample(_ geometry: PointCloudGeometry, file: String) throws -> PointCloudSample {
    let c = configuration
    var raw = geometry.points
    if !geometry.faces.isEmpty {
      var rng = SeededRNG(seed: c.surfaceSeed)
      raw = PointCloudSampling.sampleSurface(geometry, count: c.points, rng: &rng)
    }
    let count = raw.count / 3
    guard count >= c.neighbours else {
      throw ReaderError(file: file, "has \(count) points, fewer than the \(c.neighbours) neighbours each group needs")
    }
    let normalised = PointCloudSampling.normalise(raw)
    var cloud: [Float]
    if count > c.points {
      cloud = []
      cloud.reserveCapacity(c.points * 3)
      for index in PointCloudSampling.farthestPoints(normalised, count: c.points) {
        cloud += normalised[(index * 3)..<(index * 3 + 3)]
      }
    } else {
      cloud = (0..<c.points * 3).map { normalised[($0 / 3 % count) * 3 + $0 % 3] }
    }
    var centres: [Float] = []
    centres.reserveCapacity(c.groups * 3)
    for index in PointCloudSampling.farthestPoints(cloud, count: c.groups) {
      centres += cloud[(index * 3)..<(index * 3 + 3)]
    }
    let neighbours = PointCloudSampling.nearestNeighbours(cloud, centres: centres, k: c.neighbours)
    var neighbourhoods = [Float](repeating: 0, count: c.groups * c.neighbours * 3)
    for group in 0..<c.groups {
      for k in 0..<c.neighbours {
        let index = neighbours[group * c.neighbours + k]
        for axis in 0..<3 {
          neighbourhoods[(group * c.neighbours + k) * 3 + axis] = cloud[index * 3 + axis] - centres[group * 3 + axis]
        }
      }
    }
    return PointCloudSample(centres: centres, neighbourhoods: neighbourhoods)
  }

  /// `[G, 3 + 3K]`: each centre, then its K neighbour offsets.
  public func rawFeatures(_ sample: PointCloudSample) -> Tensor {
    let g = configuration.groups, k = configuration.neighbours
    let features = Tensor(shape: [g, 3 + 3 * k])
    for group in 0..<g {
      for axis in 0..<3 { features[group * (3 + 3 * k) + axis] = sample.centres[group * 3 + axis] }
      for j in 0..<(3 * k) { features[group * (3 + 3 * k) + 3 + j] = sample.neighbourhoods[group * 3 * k + j] }
    }
    return features
  }

  // MARK: Learned part

  /// Activations of the last forward, `R = B·G·K` point rows, `Q = B·G` group rows.
  private struct Cache {
    var batch: Int
    var offsets: Tensor  // [R, 3]
    var h1: Tensor, mean1: Tensor, rstd1: Tensor, n1: Tensor, a1: Tensor  // [R, 128] ([R] for mean, rstd)
    var combined: Tensor  // [R, 512] = [max f, f]
    var firstArgmax: [Int32]  // [Q, 256] row of the max within the group
    var h3: Tensor, mean3: Tensor, rstd3: Tensor, n3: Tensor, a3: Tensor  // [R, 512]
    var secondArgmax: [Int32]  // [Q, D]
    var centres: Tensor  // [Q, 3]
    var p1: Tensor, pa1: Tensor  // [Q, 128]
  }

  /// `[B, G (+1), D]` tokens; see the type's documentation for the math.
  public func forward(_ samples: [PointCloudSample], training: Bool, rng: inout SeededRNG) -> TokenBatch {
    let c = configuration
    let batch = samples.count, k = c.neighbours
    let q = batch * c.groups, r = q * k
    let width = c.pointFeatures
    let offsets = Tensor(shape: [r, 3]), centres = Tensor(shape: [q, 3])
    for (b, sample) in samples.enumerated() {
      precondition(sample.centres.count == c.groups * 3 && sample.neighbourhoods.count == c.groups * k * 3,
        "sample is not \(c.groups) groups of \(k) points")
      sample.neighbourhoods.withUnsafeBufferPointer { (offsets.data + b * c.groups * k * 3).update(from: $0.baseAddress!, count: $0.count) }
      sample.centres.withUnsafeBufferPointer { (centres.data + b * c.groups * 3).update(from: $0.baseAddress!, count: $0.count) }
    }
    // First shared MLP, [R, 3] → [R, 256].
    let h1 = Tensor(shape: [r, c.pointHidden]), n1 = Tensor(shape: [r, c.pointHidden]), a1 = Tensor(shape: [r, c.pointHidden])
    let mean1 = Tensor(shape: [r]), rstd1 = Tensor(shape: [r])
    first.forward(output: h1.data, input: offsets.data, rows: r)
    firstNorm.forward(output: n1.data, mean: mean1.data, rstd: rstd1.data, input: h1.data, rows: r)
    GELU.forward(output: a1.data, input: n1.data, count: a1.count)
    let f = Tensor(shape: [r, width])
    second.forward(output: f.data, input: a1.data, rows: r)
    // [max_k f, f] → [R, 512].
    let combined = Tensor(shape: [r, 2 * width])
    var firstArgmax = [Int32](repeating: 0, count: q * width)
    let pooled = Tensor(shape: [q, width])
    Self.maxOverGroup(output: pooled.data, argmax: &firstArgmax, input: f.data, groups: q, k: k, width: width)
    for row in 0..<r {
      (combined.data + row * 2 * width).update(from: pooled.data + (row / k) * width, count: width)
      (combined.data + row * 2 * width + width).update(from: f.data + row * width, count: width)
    }
    // Second shared MLP, [R, 512] → [R, D], then max over the group → [Q, D].
    let h3 = Tensor(shape: [r, c.groupHidden]), n3 = Tensor(shape: [r, c.groupHidden]), a3 = Tensor(shape: [r, c.groupHidden])
    let mean3 = Tensor(shape: [r]), rstd3 = Tensor(shape: [r])
    third.forward(output: h3.data, input: combined.data, rows: r)
    thirdNorm.forward(output: n3.data, mean: mean3.data, rstd: rstd3.data, input: h3.data, rows: r)
    GELU.forward(output: a3.data, input: n3.data, count: a3.count)
    let o = Tensor(shape: [r, dim])
    fourth.forward(output: o.data, input: a3.data, rows: r)
    var secondArgmax = [Int32](repeating: 0, count: q * dim)
    let groupTokens = Tensor(shape: [q, dim])
    Self.maxOverGroup(output: groupTokens.data, argmax: &secondArgmax, input: o.data, groups: q, k: k, width: dim)
    // Positional MLP on the centres, [Q, 3] → [Q, D], added.
    let p1 = Tensor(shape: [q, c.positionHidden]), pa1 = Tensor(shape: [q, c.positionHidden])
    positionFirst.forward(output: p1.data, input: centres.data, rows: q)
    GELU.forward(output: pa1.data, input: p1.data, count: pa1.count)
    let positions = Tensor(shape: [q, dim])
    positionSecond.forward(output: positions.data, input: pa1.data, rows: q)
    let count = c.groups + (c.cls ? 1 : 0), offset = c.cls ? 1 : 0
    let tokens = Tensor(shape: [batch, count, dim])
    for b in 0..<batch {
      for g in 0..<c.groups {
        let row = b * c.groups + g
        let destination = tokens.data + (b * count + offset + g) * dim
        for channel in 0..<dim { destination[channel] = groupTokens[row * dim + channel] + positions[row * dim + channel] }
      }
    }
    clsToken?.forward(tokens: tokens.data, batch: batch, count: count)
    cache = Cache(
      batch: batch, offsets: offsets, h1: h1, mean1: mean1, rstd1: rstd1, n1: n1, a1: a1, combined: combined,
      firstArgmax: firstArgmax, h3: h3, mean3: mean3, rstd3: rstd3, n3: n3, a3: a3, secondArgmax: secondArgmax,
      centres: centres, p1: p1, pa1: pa1)
    return TokenBatch(tokens: tokens, mask: nil)
  }

  /// `output[q, c] = max_k input[q·K + k, c]` and the winning `k` (the first on ties).
  /// - Parameters: output `[groups, width]`, argmax `[groups, width]`, input `[groups·K, width]`.
  static func maxOverGroup(
    output: UnsafeMutablePointer<Float>, argmax: inout [Int32], input: UnsafePointer<Float>, groups: Int, k: Int,
    width: Int
  ) {
    for group in 0..<groups {
      let out = output + group * width
      out.update(from: input + group * k * width, count: width)
      for channel in 0..<width { argmax[group * width + channel] = 0 }
      for j in 1..<max(k, 1) {
        let row = input + (group * k + j) * width
        for channel in 0..<width where row[channel] > out[channel] {
          out[channel] = row[channel]
          argmax[group * width + channel] = Int32(j)
        }
      }
    }
  }

  public func backward(_ dTokens: UnsafePointer<Float>) {
    guard parameters.isTrainable, let cache else { return }
    let c = configuration
    let batch = cache.batch, k = c.neighbours, width = c.pointFeatures
    let q = batch * c.groups, r = q * k
    let count = c.groups + (c.cls ? 1 : 0), offset = c.cls ? 1 : 0
    clsToken?.backward(dTokens: dTokens, batch: batch, count: count)
    // dTokens without the cls row, [Q, D].
    let dGroup = Tensor(shape: [q, dim])
    for b in 0..<batch {
      (dGroup.data + b * c.groups * dim).update(from: dTokens + (b * count + offset) * dim, count: c.groups * dim)
    }
    // Positional MLP.
    let dPa1 = Tensor(shape: [q, c.positionHidden]), dP1 = Tensor(shape: [q, c.positionHidden])
    positionSecond.backward(dInput: dPa1.data, accumulate: false, dOutput: dGroup.data, input: cache.pa1.data, rows: q,
      parameterGradients: true)
    GELU.backward(dInput: dP1.data, dOutput: dPa1.data, input: cache.p1.data, count: dP1.count)
    positionFirst.backward(dInput: nil, accumulate: false, dOutput: dP1.data, input: cache.centres.data, rows: q,
      parameterGradients: true)
    // Max over the group: each channel's gradient goes to its arg-max row.
    let dO = Tensor(shape: [r, dim])
    for group in 0..<q {
      for channel in 0..<dim {
        let row = group * k + Int(cache.secondArgmax[group * dim + channel])
        dO[row * dim + channel] += dGroup[group * dim + channel]
      }
    }
    let dA3 = Tensor(shape: [r, c.groupHidden]), dN3 = Tensor(shape: [r, c.groupHidden]), dH3 = Tensor(shape: [r, c.groupHidden])
    fourth.backward(dInput: dA3.data, accumulate: false, dOutput: dO.data, input: cache.a3.data, rows: r, parameterGradients: true)
    GELU.backward(dInput: dN3.data, dOutput: dA3.data, input: cache.n3.data, count: dN3.count)
    thirdNorm.backward(dInput: dH3.data, dOutput: dN3.data, input: cache.h3.data, mean: cache.mean3.data,
      rstd: cache.rstd3.data, rows: r, parameterGradients: true)
    let dCombined = Tensor(shape: [r, 2 * width])
    third.backward(dInput: dCombined.data, accumulate: false, dOutput: dH3.data, input: cache.combined.data, rows: r,
      parameterGradients: true)
    // c = [max_k f, f]: the second half flows straight to f, the first half
    // summed over the group flows to each channel's arg-max row.
    let dF = Tensor(shape: [r, width])
    for row in 0..<r { (dF.data + row * width).update(from: dCombined.data + row * 2 * width + width, count: width) }
    for group in 0..<q {
      for channel in 0..<width {
        var sum: Float = 0
        for j in 0..<k { sum += dCombined[(group * k + j) * 2 * width + channel] }
        let row = group * k + Int(cache.firstArgmax[group * width + channel])
        dF[row * width + channel] += sum
      }
    }
    let dA1 = Tensor(shape: [r, c.pointHidden]), dN1 = Tensor(shape: [r, c.pointHidden]), dH1 = Tensor(shape: [r, c.pointHidden])
    second.backward(dInput: dA1.data, accumulate: false, dOutput: dF.data, input: cache.a1.data, rows: r, parameterGradients: true)
    GELU.backward(dInput: dN1.data, dOutput: dA1.data, input: cache.n1.data, count: dN1.count)
    firstNorm.backward(dInput: dH1.data, dOutput: dN1.data, input: cache.h1.data, mean: cache.mean1.data,
      rstd: cache.rstd1.data, rows: r, parameterGradients: true)
    first.backward(dInput: nil, accumulate: false, dOutput: dH1.data, input: cache.offsets.data, rows: r,
      parameterGradients: true)
  }
}
