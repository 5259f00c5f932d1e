import Foundation
import Kernels
import Readers

/// The axis order of a hyperspectral cube in a rank-3 `.npy`.
public enum HyperspectralCubeLayout: String, Codable, Sendable {
  /// `[H, W, B]`: bands last (scipy/`.mat` exports of Indian Pines, Pavia).
  case heightWidthBands
  /// `[B, H, W]`: bands first (PyTorch/GDAL/rasterio order).
  case bandsHeightWidth
}

/// How each band is scaled with its training statistics.
public enum HyperspectralNormalisation: String, Codable, Sendable {
  /// `(x − min_b) / (max_b − min_b)`.
  case minMax
  /// `(x − mean_b) / std_b`.
  case standard
}

/// The hyperspectral tokenizer's band grouping, neighbourhood and statistics, saved with the model.
public struct HyperspectralConfiguration: Codable, Equatable, Sendable {
  /// Bands per spectrum, B.
  public var bands: Int
  /// Axis order of rank-3 `.npy` cubes (default `heightWidthBands`).
  public var cubeLayout: HyperspectralCubeLayout
  /// Side p of the square neighbourhood around each pixel, odd (default 1:
  /// the pixel alone). Spectra files need p = 1.
  public var neighbourhood: Int
  /// Adjacent bands per token, g; the last group is zero-filled when g does
  /// not divide B (default: the smallest g giving at most 64 tokens).
  public var groupSize: Int
  public var normalisation: HyperspectralNormalisation
  /// Per-band statistics fitted to the training data, `[B]`: `x̂ = (x − offset) / scale`
  /// (offset = min or mean, scale = range or std; 1 for a constant band).
  public var offset: [Float]
  public var scale: [Float]
  /// Whether a learned cls token comes first (default true).
  public var clsToken: Bool

  public init(
    bands: Int, cubeLayout: HyperspectralCubeLayout = .heightWidthBands, neighbourhood: Int = 1, groupSize: Int? = nil,
    normalisation: HyperspectralNormalisation = .standard, offset: [Float]? = nil, scale: [Float]? = nil,
    clsToken: Bool = true
  ) {
    self.bands = bands
    self.cubeLayout = cubeLayout
    self.neighbourhood = neighbourhood
    self.groupSize = groupSize ?? max(1, (bands + 63) / 64)
    self.normalisation = normalisation
    self.offset = offset ?? Array(repeating: 0, count: bands)
    self.scale = scale ?? Array(repeating: 1, count: bands)
    self.clsToken = clsToken
  }

  /// Tokens per pixel before the cls token: `⌈B / g⌉`.
  public var groups: Int { (bands + groupSize - 1) / groupSize }
  /// Raw features per token: `g · p · p`.
  public var groupWidth: Int { groupSize * neighbourhood * neighbourhood }
}

/// One pixel (or spectrum) as raw band-group features.
public struct HyperspectralPixel: Equatable, Sendable {
  /// `[G, g·p·p]`: group k holds bands `k·g ..< (k+1)·g`, each band's p×p
  /// neighbourhood row-major (band, then row, then column).
  public var features: [Float]
  public init(features: [Float]) { self.features = features }
}

/// Spectral tokens for per-pixel classification (band groups as in
/// SpectralFormer, Hong et al. 2022): each band is normalised with training
/// statistics, each pixel takes its p×p neighbourhood (reflect padding at
/// the image border, numpy's `mode="reflect"`), and each group of g adjacent
/// bands × p×p values is one token by a learned linear map, with learned
/// band-group positions and a cls token.
///
/// Input: a cube `.npy` `[H, W, B]` (or `[B, H, W]`, see `cubeLayout`) → one
/// sample per pixel, row-major; spectra `.npy` `[N, B]` or CSV (every column a
/// band; header optional, detected) → one sample per row.
/// Tokens `[B, (1 +) G, D]`, no mask. Parameters: `patch.proj.weight` `[D, g·p·p]`,
/// `patch.proj.bias`, `patch.cls`, `patch.positions` `[G + 1, D]`.
public final class HyperspectralTokenizer: Tokenizer {
  public typealias Sample = HyperspectralPixel
  public typealias Configuration = HyperspectralConfiguration

  public static let modality = Modality.hyperspectral
  public let configuration: HyperspectralConfiguration
  public let dim: Int
  public let parameters: ParameterSet
  private let patch: PatchProjection
  /// The largest tokenized file, in floats (1 GiB): a hostile cube or a huge
  /// neighbourhood fails with a message instead of exhausting memory.
  static let maximumFeatureCount = 1 << 28

  public init(configuration: HyperspectralConfiguration, dim: Int) throws {
    let bands = configuration.bands
    guard bands > 0, configuration.offset.count == bands, configuration.scale.count == bands,
      configuration.neighbourhood > 0, configuration.neighbourhood % 2 == 1, configuration.groupSize > 0,
      configuration.groupSize <= bands
    else {
      throw ReaderError(
        file: "hyperspectral configuration",
        "needs bands, an offset and a scale per band, an odd neighbourhood and a group size of 1…bands")
    }
    self.configuration = configuration
    self.dim = dim
    parameters = ParameterSet(
      PatchProjection.specs(
        "patch", patchWidth: configuration.groupWidth, dim: dim, cls: configuration.clsToken,
        maximumPositions: configuration.groups + 1))
    patch = PatchProjection("patch", parameters: parameters)
  }

  public static func defaultConfiguration(fittingTo paths: [String]) throws -> HyperspectralConfiguration {
    try fit(paths: paths)
  }

  /// Bands from the first file, statistics over every pixel or spectrum of every file.
  public static func fit(
    paths: [String], cubeLayout: HyperspectralCubeLayout = .heightWidthBands, neighbourhood: Int = 1,
    groupSize: Int? = nil, normalisation: HyperspectralNormalisation = .standard
  ) throws -> HyperspectralConfiguration {
    guard let first = paths.first else {
      throw ReaderError(file: "hyperspectral configuration", "needs at least one training file")
    }
    let bands = try readSpectra(path: first, layout: cubeLayout, bands: nil).bands
    let spectra = try paths.map { try readSpectra(path: $0, layout: cubeLayout, bands: bands).values }
    var offset: [Float], scale: [Float]
    switch normalisation {
    case .standard:
      (offset, scale) = channelStatistics(spectra, channels: bands)
    case .minMax:
      offset = Array(repeating: .infinity, count: bands)
      var maximum = Array(repeating: -Float.infinity, count: bands)
      for values in spectra {
        for (index, value) in values.enumerated() {
          offset[index % bands] = min(offset[index % bands], value)
          maximum[index % bands] = max(maximum[index % bands], value)
        }
      }
      scale = zip(offset, maximum).map { $1 > $0 ? $1 - $0 : 1 }
    }
    return HyperspectralConfiguration(
      bands: bands, cubeLayout: cubeLayout, neighbourhood: neighbourhood, groupSize: groupSize,
      normalisation: normalisation, offset: offset, scale: scale)
  }

  public func initialise(_ rng: inout SeededRNG) { patch.initialise(&rng) }

  /// One sample per pixel of a cube (row-major) or per spectrum.
  public func read(path: String) throws -> [HyperspectralPixel] {
    let (values, bands, height, width) = try Self.readSpectra(
      path: path, layout: configuration.cubeLayout, bands: configuration.bands)
    // Spectra have no image: width 0 marks them; each is its own 1×1 image.
    let (rows, columns) = width == 0 ? (height, 1) : (height, width)
    let pixels = rows * columns
    let p = configuration.neighbourhood
    if p > 1 && width == 0 {
      throw ReaderError(file: path, "holds spectra without a spatial neighbourhood; the model uses \(p)×\(p) pixels")
    }
    let perPixel = configuration.groups * configuration.groupWidth
    let total = pixels.multipliedReportingOverflow(by: perPixel)
    guard !total.overflow, total.partialValue <= Self.maximumFeatureCount else {
      throw ReaderError(file: path, "\(pixels) pixels × \(perPixel) features exceed what one file may tokenize")
    }
    var normalised = values
    for (index, value) in values.enumerated() {
      let band = index % bands
      normalised[index] = (value - configuration.offset[band]) / configuration.scale[band]
    }
    let half = p / 2
    var samples: [HyperspectralPixel] = []
    samples.reserveCapacity(pixels)
    for y in 0..<rows {
      for x in 0..<columns {
        var features = [Float](repeating: 0, count: perPixel)
        for band in 0..<bands {
          let base = (band / configuration.groupSize) * configuration.groupWidth
            + (band % configuration.groupSize) * p * p
          for dy in 0..<p {
            let sourceRow = width == 0 ? y : reflect(y + dy - half, size: rows)
            for dx in 0..<p {
              let sourceColumn = width == 0 ? x : reflect(x + dx - half, size: columns)
              features[base + dy * p + dx] = normalised[(sourceRow * columns + sourceColumn) * bands + band]
            }
          }
        }
        samples.append(HyperspectralPixel(features: features))
      }
    }
    return samples
  }

  public func rawFeatures(_ sample: HyperspectralPixel) -> Tensor {
    Tensor(shape: [configuration.groups, configuration.groupWidth], values: sample.features)
  }

  public func forward(_ samples: [HyperspectralPixel], training: Bool, rng: inout SeededRNG) -> TokenBatch {
    let perPixel = configuration.groups * configuration.groupWidth
    let raw = Tensor(shape: [samples.count, configuration.groups, configuration.groupWidth])
    for (b, sample) in samples.enumerated() {
      precondition(sample.features.count == perPixel, "pixel has \(sample.features.count) features, expected \(perPixel)")
      sample.features.withUnsafeBufferPointer { (raw.data + b * perPixel).update(from: $0.baseAddress!, count: perPixel) }
    }
    return patch.forward(raw: raw, mask: nil)
  }

  public func backward(_ dTokens: UnsafePointer<Float>) {
    patch.backward(dTokens, parameterGradients: parameters.isTrainable)
  }

  /// The spectra in `path`, `[pixels, B]` band-last, with the image size
  /// (`width` 0 for spectra files, whose `height` is the spectrum count).
  /// - Parameter bands: the band count required, or nil for any.
  static func readSpectra(path: String, layout: HyperspectralCubeLayout, bands: Int?) throws
    -> (values: [Float], bands: Int, height: Int, width: Int)
  {
    var values: [Float], found: Int, height: Int, width = 0
    switch try ArrayOrTable.read(path: path, header: .detect) {
    case .array(let array):
      switch (array.shape.count, layout) {
      case (2, _):
        (height, found) = (array.shape[0], array.shape[1])
        values = array.values
      case (3, .heightWidthBands):
        (height, width, found) = (array.shape[0], array.shape[1], array.shape[2])
        values = array.values
      case (3, .bandsHeightWidth):
        (found, height, width) = (array.shape[0], array.shape[1], array.shape[2])
        // [B, H, W] → [H, W, B]
        values = [Float](repeating: 0, count: array.values.count)
        for band in 0..<found {
          for pixel in 0..<(height * width) { values[pixel * found + band] = array.values[band * height * width + pixel] }
        }
      default:
        throw ReaderError(file: path, "is a \(array.shape.count)-D array \(array.shape); expected a cube [H, W, B] or spectra [N, B]")
      }
      guard height > 0, found > 0, array.shape.count == 2 || width > 0 else {
        throw ReaderError(file: path, "is empty (shape \(array.shape))")
      }
      guard values.allSatisfy(\.isFinite) else { throw ReaderError(file: path, "holds NaN or infinite values") }
    case .table(let table):
      guard !table.rows.isEmpty else { throw ReaderError(file: path, "holds no spectrum") }
      (height, found) = (table.rows.count, table.header.count)
      values = try table.numbers(columns: Array(0..<found))
    }
    if let bands, bands != found {
      throw ReaderError(file: path, "has \(found) bands; the model expects \(bands)")
    }
    return (values, found, height, width)
  }
}

/// numpy's `mode="reflect"` index: the mirror without repeating the edge
/// (−1 → 1, size → size − 2), folded as often as needed; 0 for a size of 1.
func reflect(_ index: Int, size: Int) -> Int {
  guard size > 1 else { return 0 }
  let period = 2 * (size - 1)
  let folded = ((index % period) + period) % period
  return folded < size ? folded : period - folded
}
