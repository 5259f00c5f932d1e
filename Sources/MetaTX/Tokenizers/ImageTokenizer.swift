import Foundation
import Kernels
import Readers

/// A picture tokenizer's settings, saved with the model.
///
/// Pictures are resized so the shorter side is `imageSize`, centre-cropped to
/// `imageSize × imageSize`, normalised per channel, and cut into
/// `(imageSize / patchSize)²` patches of `channels · patchSize²` values.
public struct ImageConfiguration: Codable, Equatable, Sendable {
  /// The side of the square the picture is cropped to, in pixels.
  public var imageSize: Int
  /// The side of a square patch; must divide `imageSize`.
  public var patchSize: Int
  /// 3 (RGB) or 1 (gray); pictures are converted to this.
  public var channels: Int
  /// Per-channel mean of samples in [0, 1], subtracted before dividing by `std`.
  public var mean: [Float]
  /// Per-channel standard deviation, all positive.
  public var std: [Float]
  /// Whether a learned cls token leads the sequence.
  public var cls: Bool

  public init(imageSize: Int, patchSize: Int, channels: Int, mean: [Float], std: [Float], cls: Bool = true) {
    self.imageSize = imageSize
    self.patchSize = patchSize
    self.channels = channels
    self.mean = mean
    self.std = std
    self.cls = cls
  }

  /// Patches per side.
  public var grid: Int { imageSize / patchSize }
  /// Values per raw patch, `channels · patchSize²`.
  public var patchWidth: Int { channels * patchSize * patchSize }

  /// CLIP's RGB statistics (OpenAI CLIP `_transform`), which the Meta-Transformer
  /// encoder saw in pretraining.
  public static let clipMean: [Float] = [0.48145466, 0.4578275, 0.40821073]
  public static let clipStd: [Float] = [0.26862954, 0.26130258, 0.27577711]

  /// Throws when the settings cannot describe a tokenizer.
  public func validate() throws {
    func fail(_ problem: String) -> ImageConfigurationError { ImageConfigurationError(problem: problem) }
    guard imageSize > 0, patchSize > 0, imageSize % patchSize == 0 else {
      throw fail("image size \(imageSize) must be a positive multiple of the patch size \(patchSize)")
    }
    guard channels == 1 || channels == 3 else { throw fail("channels must be 1 or 3, not \(channels)") }
    guard mean.count == channels, std.count == channels else {
      throw fail("mean \(mean) and std \(std) must have one value per channel (\(channels))")
    }
    guard mean.allSatisfy(\.isFinite), std.allSatisfy({ $0.isFinite && $0 > 0 }) else {
      throw fail("mean \(mean) must be finite and std \(std) finite and positive")
    }
  }
}

/// Settings that cannot describe a picture or video tokenizer.
public struct ImageConfigurationError: Error, CustomStringConvertible, Equatable {
  public var problem: String
  public var description: String { "invalid tokenizer configuration: \(problem)" }
}

/// What distinguishes the three picture modalities: their name and default
/// settings. The tokenizing itself is shared (`PictureTokenizer`).
public protocol PictureKind {
  static var modality: Modality { get }
  /// The settings used when no model names any, before fitting to data.
  static var defaults: ImageConfiguration { get }
  /// Whether `defaultConfiguration(fittingTo:)` measures mean and std from the files.
  static var fitsStatistics: Bool { get }
}

/// Photographs and other RGB pictures: ViT-B/16 at 224 with CLIP's statistics,
/// as in Meta-Transformer's image experiments.
public enum PhotographKind: PictureKind {
  public static var modality: Modality { .image }
  public static var defaults: ImageConfiguration {
    ImageConfiguration(imageSize: 224, patchSize: 16, channels: 3, mean: ImageConfiguration.clipMean, std: ImageConfiguration.clipStd)
  }
  /// CLIP's statistics are what the pretrained encoder expects, whatever the data.
  public static var fitsStatistics: Bool { false }
}

/// Thermal pictures (e.g. LLVIP, RegDB): single-channel, 224/16. Intensities
/// depend on the camera, so the statistics are measured from the training
/// files when given; without files they are CLIP's converted to gray by luma
/// weights (mean 0.4593, std 0.2637).
public enum InfraredKind: PictureKind {
  public static var modality: Modality { .infrared }
  public static var defaults: ImageConfiguration {
    ImageConfiguration(imageSize: 224, patchSize: 16, channels: 1, mean: [ImageConfiguration.clipGrayMean], std: [ImageConfiguration.clipGrayStd])
  }
  public static var fitsStatistics: Bool { true }
}

/// Radiographs (e.g. ChestX-ray14): single-channel, 224/16; statistics as for
/// infrared, measured from the training files when given.
public enum XRayKind: PictureKind {
  public static var modality: Modality { .xray }
  public static var defaults: ImageConfiguration {
    ImageConfiguration(imageSize: 224, patchSize: 16, channels: 1, mean: [ImageConfiguration.clipGrayMean], std: [ImageConfiguration.clipGrayStd])
  }
  public static var fitsStatistics: Bool { true }
}

extension ImageConfiguration {
  /// CLIP's mean through the luma weights (0.299, 0.587, 0.114).
  public static var clipGrayMean: Float { 0.299 * clipMean[0] + 0.587 * clipMean[1] + 0.114 * clipMean[2] }
  /// CLIP's std through the same weights.
  public static var clipGrayStd: Float { 0.299 * clipStd[0] + 0.587 * clipStd[1] + 0.114 * clipStd[2] }
}

/// The RGB image tokenizer (`Modality.image`).
public typealias ImageTokenizer = PictureTokenizer<PhotographKind>
/// The thermal image tokenizer (`Modality.infrared`).
public typealias InfraredTokenizer = PictureTokenizer<InfraredKind>
/// The radiograph tokenizer (`Modality.xray`).
public typealias XRayTokenizer = PictureTokenizer<XRayKind>

/// ViT's patch embedding for pictures (Meta-Transformer routes images,
/// infrared and X-ray through it).
///
/// `read`: PNG, JPEG, PGM/PPM or `.npy` → one sample, the preprocessed
/// picture `[C, S, S]` (`ImagePreprocessing`). `forward`: `[B]` samples →
/// tokens `[B, (cls) + (S/p)², D]`: cls first when configured, then the
/// patches in row-major grid order, each `W·patch + b` plus its learned
/// position (one table of `(cls) + (S/p)²` rows; the cls token has row 0).
public final class PictureTokenizer<Kind: PictureKind>: Tokenizer {
  /// A preprocessed picture `[C, S, S]`.
  public typealias Sample = Tensor
  public typealias Configuration = ImageConfiguration

  public static var modality: Modality { Kind.modality }
  public let configuration: ImageConfiguration
  public let dim: Int
  public let parameters: ParameterSet
  let embedding: PatchProjection

  public init(configuration: ImageConfiguration, dim: Int) throws {
    try configuration.validate()
    guard dim > 0 else { throw ImageConfigurationError(problem: "the token width must be positive, not \(dim)") }
    self.configuration = configuration
    self.dim = dim
    let tokens = configuration.grid * configuration.grid + (configuration.cls ? 1 : 0)
    parameters = ParameterSet(
      PatchProjection.specs("patch", patchWidth: configuration.patchWidth, dim: dim, cls: configuration.cls, maximumPositions: tokens))
    embedding = PatchProjection("patch", parameters: parameters)
  }

  /// `Kind.defaults`; for infrared and X-ray with files given, the mean and
  /// std of their pixels after resizing and cropping (pooled over all files).
  public static func defaultConfiguration(fittingTo paths: [String]) throws -> ImageConfiguration {
    var configuration = Kind.defaults
    guard Kind.fitsStatistics, !paths.isEmpty else { return configuration }
    let statistics = try PictureStatistics.measure(paths: paths, configuration: configuration) {
      [try ImageDecoder.read(path: $0)]
    }
    configuration.mean = statistics.mean
    configuration.std = statistics.std
    return configuration
  }

  public func initialise(_ rng: inout SeededRNG) { embedding.initialise(&rng) }

  public func read(path: String) throws -> [Tensor] {
    let image = try ImageDecoder.read(path: path)
    return [preprocess(image)]
  }

  /// The fixed preprocessing of one decoded picture, `[C, S, S]`.
  public func preprocess(_ image: DecodedImage) -> Tensor {
    ImagePreprocessing.apply(
      image, size: configuration.imageSize, channels: configuration.channels, mean: configuration.mean, std: configuration.std)
  }

  /// `[(S/p)², C·p·p]` patches.
  public func rawFeatures(_ sample: Tensor) -> Tensor {
    precondition(sample.shape == [configuration.channels, configuration.imageSize, configuration.imageSize],
      "a \(Self.modality) sample must be [\(configuration.channels), \(configuration.imageSize), \(configuration.imageSize)], is \(sample.shape)")
    return ImagePreprocessing.patches(sample, patch: configuration.patchSize)
  }

  public func forward(_ samples: [Tensor], training: Bool, rng: inout SeededRNG) -> TokenBatch {
    let patches = configuration.grid * configuration.grid
    let raw = Tensor(shape: [samples.count, patches, configuration.patchWidth])
    for (b, sample) in samples.enumerated() {
      let features = rawFeatures(sample)
      withExtendedLifetime(features) {
        (raw.data + b * patches * configuration.patchWidth).update(from: features.data, count: patches * configuration.patchWidth)
      }
    }
    return embedding.forward(raw: raw, mask: nil)
  }

  public func backward(_ dTokens: UnsafePointer<Float>) {
    embedding.backward(dTokens, parameterGradients: parameters.isTrainable)
  }

  /// This tokenizer at another image size (e.g. fine-tuning a 224 model at
  /// 384): the projection and cls token are copied, the positional grid
  /// `g × g` is resampled to the new `g' × g'` as timm's
  /// `resample_abs_pos_embed` does (antialiased bicubic, `BicubicResampler`),
  /// the cls position kept as is.
  public func resized(toImageSize imageSize: Int) throws -> PictureTokenizer<Kind> {
    var newConfiguration = configuration
    newConfiguration.imageSize = imageSize
    let result = try PictureTokenizer(configuration: newConfiguration, dim: dim)
    for entry in parameters.entries where entry.name != "patch.positions" {
      (result.parameters.values.data + entry.offset).update(from: parameters.values.data + entry.offset, count: entry.count)
    }
    let prefix = configuration.cls ? 1 : 0
    let old = parameters.view("patch.positions")
    let new = result.parameters.view("patch.positions")
    new.value.update(from: old.value, count: prefix * dim)
    let grid = PositionGrid.resample(
      old.value + prefix * dim, dim: dim, from: configuration.grid, to: newConfiguration.grid)
    (new.value + prefix * dim).update(from: grid, count: grid.count)
    return result
  }
}

/// Learned positions laid out on a square grid.
public enum PositionGrid {
  /// Resamples `table` `[g·g, D]` (row-major grid) to `[g'·g', D]`, each
  /// channel as a `g × g` plane (timm `resample_abs_pos_embed`: to `[1, D, g, g]`,
  /// `F.interpolate(bicubic, antialias=True)`, back to `[g'·g', D]`).
  public static func resample(_ table: UnsafePointer<Float>, dim: Int, from grid: Int, to newGrid: Int) -> [Float] {
    // [g·g, D] → [D, g, g]
    var planes = [Float](repeating: 0, count: dim * grid * grid)
    for cell in 0..<(grid * grid) {
      for d in 0..<dim { planes[d * grid * grid + cell] = table[cell * dim + d] }
    }
    let resized = BicubicResampler.resize(planes, channels: dim, height: grid, width: grid, toHeight: newGrid, toWidth: newGrid)
    // [D, g', g'] → [g'·g', D]
    var result = [Float](repeating: 0, count: newGrid * newGrid * dim)
    for cell in 0..<(newGrid * newGrid) {
      for d in 0..<dim { result[cell * dim + d] = resized[d * newGrid * newGrid + cell] }
    }
    return result
  }
}

/// Per-channel mean and std of pictures after resizing and cropping, before
/// normalisation: what a single-channel modality's statistics are fitted to.
enum PictureStatistics {
  static func measure(
    paths: [String], configuration: ImageConfiguration, decode: (String) throws -> [DecodedImage]
  ) throws -> (mean: [Float], std: [Float]) {
    let channels = configuration.channels
    var sums = [Double](repeating: 0, count: channels)
    var squares = [Double](repeating: 0, count: channels)
    var count = 0.0
    for path in paths {
      for image in try decode(path) {
        let pixels = ImagePreprocessing.apply(
          image, size: configuration.imageSize, channels: channels,
          mean: [Float](repeating: 0, count: channels), std: [Float](repeating: 1, count: channels))
        let plane = configuration.imageSize * configuration.imageSize
        for c in 0..<channels {
          for index in 0..<plane {
            let value = Double(pixels[c * plane + index])
            sums[c] += value
            squares[c] += value * value
          }
        }
        count += Double(plane)
      }
    }
    guard count > 0 else { return (configuration.mean, configuration.std) }
    let mean = sums.map { $0 / count }
    // A constant collection has no spread; fall back to the default std rather than divide by zero.
    let std = (0..<channels).map { c -> Float in
      let variance = max(squares[c] / count - mean[c] * mean[c], 0)
      return variance > 1e-12 ? Float(variance.squareRoot()) : configuration.std[c]
    }
    return (mean.map(Float.init), std)
  }
}
