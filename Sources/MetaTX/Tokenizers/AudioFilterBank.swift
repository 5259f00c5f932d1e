import Foundation
import Kernels

/// The analysis window of a filter bank frame.
public enum FilterBankWindow: String, Codable, CaseIterable, Sendable {
  /// Kaldi's default: the symmetric Hann window raised to the power 0.85.
  case povey
  /// The symmetric Hann window `0.5 − 0.5 cos(2πn / (L − 1))` (what AST's data loader passes).
  case hanning

  /// `[length]` window values, as `torch.hann_window(length, periodic=False)` (`.pow(0.85)` for Povey).
  func values(length: Int) -> [Float] {
    (0..<length).map { n in
      let hann = length == 1 ? 1 : 0.5 - 0.5 * cos(2 * Double.pi * Double(n) / Double(length - 1))
      switch self {
      case .povey: return Float(pow(hann, 0.85))
      case .hanning: return Float(hann)
      }
    }
  }
}

/// Kaldi-compatible log-mel filter bank features, computed exactly as
/// `torchaudio.compliance.kaldi.fbank` does (Kaldi's `compute-fbank-feats`),
/// with dither 0, no energy column, and the power spectrum.
///
/// For each frame of `frameLength` samples taken every `frameShift` samples
/// (snip edges: only whole frames, `1 + (S − L) / shift` of them, none when the
/// signal is shorter than one frame):
/// 1. subtract the frame's mean (remove DC offset);
/// 2. pre-emphasis `x'_n = x_n − c·x_{n−1}`, with `x_{−1} = x_0`;
/// 3. multiply by the window, zero-pad to `fftSize` (the next power of two);
/// 4. power spectrum `|FFT|²` (bins `0 … fftSize/2`);
/// 5. triangular mel filters, HTK mel scale `m(f) = 1127 ln(1 + f/700)`,
///    `bins + 2` edges equally spaced in mel between `low` and `high` Hz,
///    weights `max(0, min(up, down))` evaluated at each FFT bin's mel value,
///    the Nyquist bin weighted 0 (as Kaldi);
/// 6. `log(max(energy, ε))`, `ε` = Float32 machine epsilon (1.1920929e-7).
///
/// Reference: torchaudio `compliance/kaldi.py` (`fbank`, `get_mel_banks`, `_get_window`).
public struct KaldiFilterBank: Sendable {
  public let sampleRate: Int
  /// Samples per frame (25 ms → 400 at 16 kHz).
  public let frameLength: Int
  /// Samples between frame starts (10 ms → 160 at 16 kHz).
  public let frameShift: Int
  /// The FFT length, `frameLength` rounded up to a power of two.
  public let fftSize: Int
  public let melBins: Int
  public let preemphasis: Float
  /// `[frameLength]` window values.
  private let window: [Float]
  /// `[melBins, fftSize/2 + 1]` triangular filter weights.
  public let melWeights: Tensor

  /// Float32 machine epsilon, the floor under mel energies before the log (torchaudio's `_get_epsilon`).
  public static let epsilon = Float.ulpOfOne

  /// - Parameters:
  ///   - frameLengthMilliseconds, frameShiftMilliseconds: converted to samples
  ///     by truncation, as Kaldi does (`int(rate · ms / 1000)`).
  ///   - lowFrequency, highFrequency: the mel range in Hz; `highFrequency ≤ 0`
  ///     counts down from the Nyquist frequency (0 = Nyquist), Kaldi's convention.
  public init(
    sampleRate: Int, frameLengthMilliseconds: Double, frameShiftMilliseconds: Double, melBins: Int,
    lowFrequency: Double, highFrequency: Double, preemphasis: Double, window: FilterBankWindow
  ) {
    self.sampleRate = sampleRate
    frameLength = Int(Double(sampleRate) * frameLengthMilliseconds * 0.001)
    frameShift = Int(Double(sampleRate) * frameShiftMilliseconds * 0.001)
    precondition(frameLength >= 1 && frameShift >= 1, "frames of \(frameLength) samples every \(frameShift)")
    var size = 1
    while size < frameLength { size *= 2 }
    fftSize = size
    self.melBins = melBins
    self.preemphasis = Float(preemphasis)
    self.window = window.values(length: frameLength)
    melWeights = Self.melFilters(
      bins: melBins, fftSize: size, sampleRate: sampleRate, low: lowFrequency, high: highFrequency)
  }

  /// HTK's mel scale, `1127 ln(1 + f/700)`.
  public static func mel(_ hertz: Double) -> Double { 1127 * log(1 + hertz / 700) }
  /// The inverse of `mel`: `700 (e^{m/1127} − 1)`.
  public static func hertz(_ mel: Double) -> Double { 700 * (exp(mel / 1127) - 1) }

  /// `[bins, fftSize/2 + 1]` filter weights (torchaudio's `get_mel_banks`, padded with a zero Nyquist column).
  static func melFilters(bins: Int, fftSize: Int, sampleRate: Int, low: Double, high: Double) -> Tensor {
    let nyquist = 0.5 * Double(sampleRate)
    let high = high <= 0 ? high + nyquist : high
    precondition(0 <= low && low < high && high <= nyquist, "mel range \(low)…\(high) Hz outside 0…\(nyquist) Hz")
    let columns = fftSize / 2 + 1
    let binWidth = Double(sampleRate) / Double(fftSize)
    let melLow = mel(low), delta = (mel(high) - melLow) / Double(bins + 1)
    let weights = Tensor(shape: [bins, columns])
    for bin in 0..<bins {
      let left = melLow + Double(bin) * delta, center = left + delta, right = center + delta
      for column in 0..<(columns - 1) {
        let m = mel(binWidth * Double(column))
        let up = (m - left) / (center - left), down = (right - m) / (right - center)
        weights[bin * columns + column] = Float(max(0, min(up, down)))
      }
    }
    return weights
  }

  /// The number of whole frames in `samples` samples (snip edges).
  public func frameCount(samples: Int) -> Int {
    samples < frameLength ? 0 : 1 + (samples - frameLength) / frameShift
  }

  /// Log-mel energies of `signal`.
  /// - Returns: `[frames, melBins]`, frames = `frameCount(samples: signal.count)`.
  public func callAsFunction(_ signal: [Float]) -> Tensor {
    let frames = frameCount(samples: signal.count)
    let columns = fftSize / 2 + 1
    let power = Tensor(shape: [frames, columns])
    // The tail beyond frameLength stays zero: the zero padding up to the FFT size.
    var padded = [Float](repeating: 0, count: fftSize)
    for index in 0..<frames {
      let start = index * frameShift
      var sum: Float = 0
      for n in 0..<frameLength { sum += signal[start + n] }
      let mean = sum / Float(frameLength)
      for n in 0..<frameLength {
        let current = signal[start + n] - mean
        let previous = signal[start + max(n - 1, 0)] - mean
        padded[n] = (current - preemphasis * previous) * window[n]
      }
      padded.withUnsafeBufferPointer {
        FFT.powerSpectrum(output: power.data + index * columns, input: $0.baseAddress!, count: fftSize)
      }
    }
    let energies = Tensor(shape: [frames, melBins])
    // [frames, columns] · [melBins, columns]ᵀ → [frames, melBins], one GEMM for all frames.
    Linalg.gemm(.none, .transposed, m: frames, n: melBins, k: columns, a: power.data, lda: columns,
      b: melWeights.data, ldb: columns, beta: 0, c: energies.data, ldc: melBins)
    for index in 0..<energies.count { energies[index] = log(max(energies[index], Self.epsilon)) }
    return energies
  }
}
