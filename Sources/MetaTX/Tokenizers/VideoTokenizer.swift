import Foundation
import Kernels
import Readers

/// The video tokenizer's settings, saved with the model.
///
/// A clip is sampled to `frames` frames, each preprocessed like a picture
/// (`ImagePreprocessing`: shorter side to `imageSize`, centre crop,
/// normalise), then cut into tubelets of `tubeletFrames × patchSize × patchSize`.
public struct VideoConfiguration: Codable, Equatable, Sendable {
  /// Frames sampled from each clip; a multiple of `tubeletFrames`.
  public var frames: Int
  /// Frames per tubelet.
  public var tubeletFrames: Int
  /// The side of a tubelet's square patch; must divide `imageSize`.
  public var patchSize: Int
  /// The side of the square each frame is cropped to.
  public var imageSize: Int
  /// 3 (RGB) or 1 (gray).
  public var channels: Int
  /// Per-channel mean and std of samples in [0, 1].
  public var mean: [Float]
  public var std: [Float]
  /// The height of one frame in a vertically stacked strip picture; nil: square frames.
  public var frameHeight: Int?
  /// Whether a learned cls token leads the sequence.
  public var cls: Bool

  public init(
    frames: Int = 8, tubeletFrames: Int = 2, patchSize: Int = 16, imageSize: Int = 224, channels: Int = 3,
    mean: [Float] = ImageConfiguration.clipMean, std: [Float] = ImageConfiguration.clipStd,
    frameHeight: Int? = nil, cls: Bool = true
  ) {
    self.frames = frames
    self.tubeletFrames = tubeletFrames
    self.patchSize = patchSize
    self.imageSize = imageSize
    self.channels = channels
    self.mean = mean
    self.std = std
    self.frameHeight = frameHeight
    self.cls = cls
  }

  /// The per-frame picture settings.
  public var picture: ImageConfiguration {
    ImageConfiguration(imageSize: imageSize, patchSize: patchSize, channels: channels, mean: mean, std: std, cls: cls)
  }
  /// Tubelets per clip, `(frames / tubeletFrames) · (imageSize / patchSize)²`.
  public var tubelets: Int { frames / tubeletFrames * picture.grid * picture.grid }
  /// Values per raw tubelet, `channels · tubeletFrames · patchSize²`.
  public var tubeletWidth: Int { channels * tubeletFrames * patchSize * patchSize }

  public func validate() throws {
    try picture.validate()
    guard frames > 0, tubeletFrames > 0, frames % tubeletFrames == 0 else {
      throw ImageConfigurationError(problem: "frames \(frames) must be a positive multiple of the tubelet's \(tubeletFrames) frames")
    }
    if let frameHeight, frameHeight <= 0 {
      throw ImageConfigurationError(problem: "the strip frame height must be positive, not \(frameHeight)")
    }
  }
}

/// Uniform frame sampling: the centre of each of `frames` equal segments of
/// the clip, frame `⌊(i + ½) · n / T⌋` for `i < T` of `n` frames (TSN-style
/// segment sampling without the training jitter). Shorter clips repeat frames.
public enum FrameSampling {
  public static func indices(available: Int, frames: Int) -> [Int] {
    precondition(available > 0 && frames > 0, "cannot sample \(frames) of \(available) frames")
    return (0..<frames).map { (2 * $0 + 1) * available / (2 * frames) }
  }
}

/// Tubelet embedding for clips (ViViT/VideoMAE's 3-D patch embedding, a
/// `Conv3d` with kernel = stride).
///
/// `read`: a folder of frames, a strip picture or `.npy` `[T, H, W, C]`
/// (`VideoDecoder`) → one sample, `[T, C, S, S]`. `forward`: `[B]` samples →
/// tokens `[B, (cls) + (T/t)·(S/p)², D]`: cls first when configured, then the
/// tubelets in (time, grid row, grid column) order, each `W·tubelet + b` plus
/// its learned space-time position (one table over every tubelet, row 0 for cls).
public final class VideoTokenizer: Tokenizer {
  /// A preprocessed clip `[T, C, S, S]`.
  public typealias Sample = Tensor
  public typealias Configuration = VideoConfiguration

  public static var modality: Modality { .video }
  public let configuration: VideoConfiguration
  public let dim: Int
  public let parameters: ParameterSet
  let embedding: PatchProjection

  public init(configuration: VideoConfiguration, dim: Int) throws {
    try configuration.validate()
    guard dim > 0 else { throw ImageConfigurationError(problem: "the token width must be positive, not \(dim)") }
    self.configuration = configuration
    self.dim = dim
    parameters = ParameterSet(
      PatchProjection.specs("tubelet", patchWidth: configuration.tubeletWidth, dim: dim, cls: configuration.cls,
        maximumPositions: configuration.tubelets + (configuration.cls ? 1 : 0)))
    embedding = PatchProjection("tubelet", parameters: parameters)
  }

  /// The documented defaults (8 frames, 2×16×16 tubelets, 224, CLIP statistics); no fitting.
  public static func defaultConfiguration(fittingTo paths: [String]) throws -> VideoConfiguration {
    VideoConfiguration()
  }

  public func initialise(_ rng: inout SeededRNG) { embedding.initialise(&rng) }

  public func read(path: String) throws -> [Tensor] {
    let clip = try VideoDecoder.open(path: path, frameHeight: configuration.frameHeight)
    let picture = configuration.picture
    let plane = picture.channels * picture.imageSize * picture.imageSize
    let sample = Tensor(shape: [configuration.frames, picture.channels, picture.imageSize, picture.imageSize])
    for (t, index) in FrameSampling.indices(available: clip.count, frames: configuration.frames).enumerated() {
      let frame = ImagePreprocessing.apply(
        try clip.frame(index), size: picture.imageSize, channels: picture.channels, mean: picture.mean, std: picture.std)
      withExtendedLifetime(frame) { (sample.data + t * plane).update(from: frame.data, count: plane) }
    }
    return [sample]
  }

  /// `[(T/t)·(S/p)², C·t·p·p]` tubelets; each row ordered (channel, frame,
  /// row, column), a flattened `Conv3d` weight `[D, C, t, p, p]`'s order.
  public func rawFeatures(_ sample: Tensor) -> Tensor {
    let c = configuration
    precondition(sample.shape == [c.frames, c.channels, c.imageSize, c.imageSize],
      "a video sample must be [\(c.frames), \(c.channels), \(c.imageSize), \(c.imageSize)], is \(sample.shape)")
    let grid = c.imageSize / c.patchSize
    let output = Tensor(shape: [c.tubelets, c.tubeletWidth])
    var index = 0
    for slot in 0..<(c.frames / c.tubeletFrames) {
      for gy in 0..<grid {
        for gx in 0..<grid {
          for channel in 0..<c.channels {
            for dt in 0..<c.tubeletFrames {
              let frame = slot * c.tubeletFrames + dt
              for y in 0..<c.patchSize {
                let row = ((frame * c.channels + channel) * c.imageSize + gy * c.patchSize + y) * c.imageSize + gx * c.patchSize
                (output.data + index).update(from: sample.data + row, count: c.patchSize)
                index += c.patchSize
              }
            }
          }
        }
      }
    }
    return output
  }

  public func forward(_ samples: [Tensor], training: Bool, rng: inout SeededRNG) -> TokenBatch {
    let tubelets = configuration.tubelets, width = configuration.tubeletWidth
    let raw = Tensor(shape: [samples.count, tubelets, width])
    for (b, sample) in samples.enumerated() {
      let features = rawFeatures(sample)
      withExtendedLifetime(features) { (raw.data + b * tubelets * width).update(from: features.data, count: tubelets * width) }
    }
    return embedding.forward(raw: raw, mask: nil)
  }

  public func backward(_ dTokens: UnsafePointer<Float>) {
    embedding.backward(dTokens, parameterGradients: parameters.isTrainable)
  }
}
