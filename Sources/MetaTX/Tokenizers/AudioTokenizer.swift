import Foundation
import Kernels
import Readers

/// How audio files become spectrogram patches: everything that decides the
/// tokens, saved with the model. The defaults are AST's (Gong et al. 2021,
/// "AST: Audio Spectrogram Transformer"), with a shorter clip.
public struct AudioTokenizerConfiguration: Codable, Equatable, Sendable {
  /// Every clip is resampled to this rate (Hz) before the filter bank.
  public var sampleRate = 16000
  /// libsamplerate's converter for clips at another rate.
  public var resampling = ResamplingQuality.best
  /// Filter bank frame length and shift in milliseconds (Kaldi truncates to whole samples).
  public var frameLengthMilliseconds = 25.0
  public var frameShiftMilliseconds = 10.0
  /// Frame window (the brief's Kaldi default; AST's own loader passes `.hanning`).
  public var window = FilterBankWindow.povey
  public var preemphasis = 0.97
  public var melBins = 128
  /// Mel range in Hz; `highFrequency ≤ 0` counts down from Nyquist (Kaldi's convention).
  public var lowFrequency = 20.0
  public var highFrequency = 0.0
  /// Frames per clip after zero-padding or cropping at the end: 512 frames of
  /// 10 ms = 5.12 s (AST's ESC-50 setting; AST's AudioSet setting is 1024 for 10 s).
  /// 512 frames give 12 × 50 = 600 patches, a sequence the CPU encoder handles.
  public var frames = 512
  /// Dataset statistics of the log-mel values; features are `(x − mean) / (2·std)`
  /// as AST normalises. Defaults: AST's AudioSet values.
  public var mean: Float = -4.2677393
  public var std: Float = 4.5689974
  /// Square patch side (mel bins × frames) and the strides between patch
  /// origins along frequency and time (AST: 16, overlapping with stride 10).
  public var patchSize = 16
  public var frequencyStride = 10
  public var timeStride = 10
  /// A learned cls token in front of the patches.
  public var cls = true

  public init() {}

  /// Patches along the mel axis, `(melBins − patchSize) / frequencyStride + 1`.
  public var frequencyPatches: Int { (melBins - patchSize) / frequencyStride + 1 }
  /// Patches along time, `(frames − patchSize) / timeStride + 1`.
  public var timePatches: Int { (frames - patchSize) / timeStride + 1 }
  /// Patches per clip.
  public var patchCount: Int { frequencyPatches * timePatches }
  /// Values per patch, `patchSize²`.
  public var patchWidth: Int { patchSize * patchSize }

  /// Seconds of audio that reach the kept frames; decoding stops a little after.
  var decodedDuration: Double {
    (Double(frames - 1) * frameShiftMilliseconds + frameLengthMilliseconds) / 1000
  }

  /// Why this configuration cannot tokenize, or nil.
  func problem() -> String? {
    // Upper bounds keep a damaged model file from asking for gigabytes.
    if !(1000...384_000).contains(sampleRate) { return "sampleRate \(sampleRate) Hz is outside 1000…384000" }
    if !(frameLengthMilliseconds <= 1000 && frameShiftMilliseconds <= 1000) { return "frames longer than 1 s" }
    let samplesPerFrame = Int(Double(sampleRate) * frameLengthMilliseconds * 0.001)
    if samplesPerFrame < 1 || Int(Double(sampleRate) * frameShiftMilliseconds * 0.001) < 1 {
      return "frame length and shift must be at least one sample"
    }
    if frames > 100_000 || melBins > 1024 || patchSize > 256 {
      return "more than 100000 frames, 1024 mel bins or 256-wide patches"
    }
    if !(0...1).contains(preemphasis) { return "preemphasis \(preemphasis) is outside 0…1" }
    if patchSize < 1 || frequencyStride < 1 || timeStride < 1 { return "patch size and strides must be positive" }
    if melBins < patchSize || frames < patchSize {
      return "\(melBins) mel bins × \(frames) frames cannot hold a \(patchSize)-patch"
    }
    let nyquist = Double(sampleRate) / 2, high = highFrequency <= 0 ? highFrequency + nyquist : highFrequency
    if !(0 <= lowFrequency && lowFrequency < high && high <= nyquist) {
      return "mel range \(lowFrequency)…\(high) Hz is outside 0…\(nyquist) Hz"
    }
    if !(std > 0 && std.isFinite && mean.isFinite) { return "statistics mean \(mean), std \(std) are not usable" }
    return nil
  }
}

/// A configuration that cannot be used, named with what is wrong.
public struct AudioConfigurationError: Error, CustomStringConvertible {
  public var description: String
}

/// One clip, ready for patching.
public struct AudioSample {
  /// `[frames, melBins]` normalised log-mel values (time-major, as AST's loader returns).
  public let spectrogram: Tensor
  /// Frames that came from the audio; the rest (up to `frames`) is padding.
  public let audioFrames: Int

  public init(spectrogram: Tensor, audioFrames: Int) {
    precondition(spectrogram.rank == 2, "audio spectrogram must be [frames, melBins], is \(spectrogram.shape)")
    self.spectrogram = spectrogram
    self.audioFrames = audioFrames
  }
}

/// The audio Data2Seq tokenizer (Meta-Transformer's audio branch is AST's patch embedding).
///
/// `read`: decode with libsndfile, average channels, resample with libsamplerate,
/// Kaldi log-mel filter bank (`KaldiFilterBank`), zero-pad or crop to `frames`,
/// normalise `(x − mean) / (2·std)`. Deterministic, no parameters.
///
/// `forward`: unfold `[frames, melBins]` into overlapping `patchSize²` patches,
/// project each to D (a 16×16 convolution with stride 10 in AST), then cls and
/// learned positions. Token layout `[B, (1 +) F·T, D]`: the cls token, then
/// patches frequency-major (patch `f·T + t` starts at mel bin `f·frequencyStride`,
/// frame `t·timeStride`), AST's order. Every clip has the same length, so no mask.
public final class AudioTokenizer: Tokenizer {
  public typealias Sample = AudioSample
  public typealias Configuration = AudioTokenizerConfiguration
  public static let modality = Modality.audio

  public let configuration: AudioTokenizerConfiguration
  public let dim: Int
  public let parameters: ParameterSet
  public let patches: PatchProjection
  private let filterBank: KaldiFilterBank

  public init(configuration: AudioTokenizerConfiguration, dim: Int) throws {
    if let problem = configuration.problem() { throw AudioConfigurationError(description: "audio tokenizer: \(problem)") }
    guard dim >= 1 else { throw AudioConfigurationError(description: "audio tokenizer: dim \(dim) must be positive") }
    self.configuration = configuration
    self.dim = dim
    let tokens = configuration.patchCount + (configuration.cls ? 1 : 0)
    parameters = ParameterSet(PatchProjection.specs(
      "patch", patchWidth: configuration.patchWidth, dim: dim, cls: configuration.cls, maximumPositions: tokens))
    patches = PatchProjection("patch", parameters: parameters)
    filterBank = Self.filterBank(configuration)
  }

  static func filterBank(_ configuration: AudioTokenizerConfiguration) -> KaldiFilterBank {
    KaldiFilterBank(
      sampleRate: configuration.sampleRate, frameLengthMilliseconds: configuration.frameLengthMilliseconds,
      frameShiftMilliseconds: configuration.frameShiftMilliseconds, melBins: configuration.melBins,
      lowFrequency: configuration.lowFrequency, highFrequency: configuration.highFrequency,
      preemphasis: configuration.preemphasis, window: configuration.window)
  }

  /// The documented defaults with AST's AudioSet statistics, whatever `paths`
  /// hold: fitted statistics are opt-in (`fittingStatistics(to:)`) so that
  /// features stay comparable with AudioSet-trained weights.
  public static func defaultConfiguration(fittingTo paths: [String]) throws -> AudioTokenizerConfiguration {
    AudioTokenizerConfiguration()
  }

  public func initialise(_ rng: inout SeededRNG) {
    patches.initialise(&rng)
  }

  public func read(path: String) throws -> [AudioSample] {
    let energies = try Self.logMel(path: path, configuration: configuration, filterBank: filterBank)
    let melBins = configuration.melBins, frames = configuration.frames
    let kept = min(energies.shape[0], frames)
    let spectrogram = Tensor(shape: [frames, melBins])
    // AST pads with zeros before normalising, so padding becomes (0 − mean) / (2·std).
    let scale = 1 / (2 * configuration.std)
    for index in 0..<(frames * melBins) {
      let value = index < kept * melBins ? energies[index] : 0
      spectrogram[index] = (value - configuration.mean) * scale
    }
    return [AudioSample(spectrogram: spectrogram, audioFrames: kept)]
  }

  /// The unnormalised log-mel energies `[frames, melBins]` of the start of the
  /// file at `path` that reaches the kept frames (all of it when shorter).
  static func logMel(
    path: String, configuration: AudioTokenizerConfiguration, filterBank: KaldiFilterBank
  ) throws -> Tensor {
    // A tenth of a second beyond the last kept frame keeps the resampler's
    // filter tail off the kept samples.
    let clip = try AudioDecoder.read(path: path, maximumDuration: configuration.decodedDuration + 0.1)
    let resampled = try clip.resampled(to: configuration.sampleRate, quality: configuration.resampling, file: path)
    let signal = Array(resampled.samples.prefix(Int(configuration.decodedDuration * Double(configuration.sampleRate)) + 1))
    let energies = filterBank(signal)
    guard energies.isFinite else { throw ReaderError(file: path, "gives non-finite filter bank values") }
    return energies.shape[0] <= configuration.frames ? energies : crop(energies, frames: configuration.frames)
  }

  private static func crop(_ energies: Tensor, frames: Int) -> Tensor {
    let width = energies.shape[1]
    let cropped = Tensor(shape: [frames, width])
    cropped.data.update(from: energies.data, count: frames * width)
    return cropped
  }

  /// `configuration` with `mean` and `std` fitted to the log-mel values of the
  /// audio frames (not the padding) of every file in `paths`, accumulated in Double.
  public static func fittingStatistics(
    to paths: [String], configuration: AudioTokenizerConfiguration = AudioTokenizerConfiguration()
  ) throws -> AudioTokenizerConfiguration {
    if let problem = configuration.problem() { throw AudioConfigurationError(description: "audio tokenizer: \(problem)") }
    let filterBank = filterBank(configuration)
    var sum = 0.0, sumOfSquares = 0.0, count = 0
    for path in paths {
      let energies = try logMel(path: path, configuration: configuration, filterBank: filterBank)
      for index in 0..<energies.count {
        sum += Double(energies[index])
        sumOfSquares += Double(energies[index]) * Double(energies[index])
      }
      count += energies.count
    }
    guard count > 0 else {
      throw AudioConfigurationError(description: "audio statistics: no file in \(paths.count) holds a whole frame")
    }
    let mean = sum / Double(count)
    let variance = max(sumOfSquares / Double(count) - mean * mean, 0)
    guard variance > 0 else {
      throw AudioConfigurationError(description: "audio statistics: every log-mel value is \(mean); std would be 0")
    }
    var fitted = configuration
    fitted.mean = Float(mean)
    fitted.std = Float(variance.squareRoot())
    return fitted
  }

  /// `[patchCount, patchSize²]` overlapping patches of the sample's spectrogram:
  /// row `f·T + t` holds `spectrogram[t·timeStride + j, f·frequencyStride + i]`
  /// at column `i·patchSize + j` (AST's `Conv2d` on the `[1, melBins, frames]`
  /// image: kernel rows are mel bins, columns frames).
  public func rawFeatures(_ sample: AudioSample) -> Tensor {
    let raw = Tensor(shape: [configuration.patchCount, configuration.patchWidth])
    unfold(sample, into: raw.data)
    return raw
  }

  private func unfold(_ sample: AudioSample, into output: UnsafeMutablePointer<Float>) {
    let c = configuration
    precondition(sample.spectrogram.shape == [c.frames, c.melBins],
      "audio spectrogram \(sample.spectrogram.shape) is not [\(c.frames), \(c.melBins)]")
    let timePatches = c.timePatches
    for f in 0..<c.frequencyPatches {
      for t in 0..<timePatches {
        let patch = output + (f * timePatches + t) * c.patchWidth
        for i in 0..<c.patchSize {
          for j in 0..<c.patchSize {
            patch[i * c.patchSize + j] =
              sample.spectrogram[(t * c.timeStride + j) * c.melBins + f * c.frequencyStride + i]
          }
        }
      }
    }
  }

  /// - Returns: tokens `[B, (1 +) patchCount, D]`, no mask (every clip has `frames` frames).
  public func forward(_ samples: [AudioSample], training: Bool, rng: inout SeededRNG) -> TokenBatch {
    let count = configuration.patchCount, width = configuration.patchWidth
    let raw = Tensor(shape: [samples.count, count, width])
    for (b, sample) in samples.enumerated() { unfold(sample, into: raw.data + b * count * width) }
    return patches.forward(raw: raw, mask: nil)
  }

  public func backward(_ dTokens: UnsafePointer<Float>) {
    patches.backward(dTokens, parameterGradients: parameters.isTrainable)
  }
}
