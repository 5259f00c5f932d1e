import Foundation
import Kernels
import Readers

/// The IMU tokenizer's window size, channels and normalisation, saved with the model.
public struct IMUConfiguration: Codable, Equatable, Sendable {
  /// Channel names in token order (CSV headers; `channel1`… for `.npy`).
  public var channels: [String]
  /// Per-channel training mean, `[C]`.
  public var mean: [Float]
  /// Per-channel training standard deviation (population; 1 for a constant channel), `[C]`.
  public var std: [Float]
  /// Samples per token (default 10); windows do not overlap (stride = window).
  public var window: Int
  /// The longest recording in windows: the size of the position table (default 256).
  public var maximumWindows: Int
  /// Whether a learned cls token comes first (default true).
  public var clsToken: Bool

  public init(
    channels: [String], mean: [Float], std: [Float], window: Int = 10, maximumWindows: Int = 256,
    clsToken: Bool = true
  ) {
    self.channels = channels
    self.mean = mean
    self.std = std
    self.window = window
    self.maximumWindows = maximumWindows
    self.clsToken = clsToken
  }
}

/// ImageBind-style IMU tokenizer (Girdhar et al. 2023): a recording `[T, C]`
/// is normalised per channel with training statistics, cut into
/// `N = ⌊T / w⌋` non-overlapping windows (a shorter tail is dropped), each
/// window `[w, C]` flattened time-major (`t·C + c`) and mapped to D by a
/// learned linear layer; learned positions, a cls token.
///
/// Input: CSV with a header, one column per channel (a column named `time`,
/// `timestamp`, `t` or `date` is ignored), or `.npy` `[T, C]`.
/// Tokens `[B, (1 +) N_max, D]` with a mask when the recordings' window
/// counts differ. Parameters: `patch.proj.weight` `[D, w·C]`,
/// `patch.proj.bias`, `patch.cls`, `patch.positions` `[maximumWindows + 1, D]`.
public final class IMUTokenizer: Tokenizer {
  public typealias Sample = ChannelSeries
  public typealias Configuration = IMUConfiguration

  public static let modality = Modality.imu
  public let configuration: IMUConfiguration
  public let dim: Int
  public let parameters: ParameterSet
  private let patch: PatchProjection

  public init(configuration: IMUConfiguration, dim: Int) throws {
    let channels = configuration.channels.count
    guard channels > 0, configuration.mean.count == channels, configuration.std.count == channels,
      configuration.window > 0, configuration.maximumWindows > 0
    else {
      throw ReaderError(
        file: "IMU configuration",
        "needs channels, a mean and a std per channel, a positive window and maximumWindows")
    }
    self.configuration = configuration
    self.dim = dim
    parameters = ParameterSet(
      PatchProjection.specs(
        "patch", patchWidth: configuration.window * channels, dim: dim, cls: configuration.clsToken,
        maximumPositions: configuration.maximumWindows + 1))
    patch = PatchProjection("patch", parameters: parameters)
  }

  /// Window 10, channels from the first file, mean and std fitted over every
  /// sample of every file.
  public static func defaultConfiguration(fittingTo paths: [String]) throws -> IMUConfiguration {
    guard let first = paths.first else {
      throw ReaderError(file: "IMU configuration", "needs at least one training recording to fit its statistics")
    }
    let (names, _) = try readChannelMatrix(path: first, channels: nil)
    let recordings = try paths.map { try readChannelMatrix(path: $0, channels: names).values }
    let (mean, std) = channelStatistics(recordings, channels: names.count)
    return IMUConfiguration(channels: names, mean: mean, std: std)
  }

  public func initialise(_ rng: inout SeededRNG) { patch.initialise(&rng) }

  /// One recording per file: the configured channels, normalised.
  public func read(path: String) throws -> [ChannelSeries] {
    let (_, values) = try readChannelMatrix(path: path, channels: configuration.channels)
    let channels = configuration.channels.count
    let length = values.count / channels
    let windows = length / configuration.window
    guard windows > 0 else {
      throw ReaderError(file: path, "has \(length) samples, fewer than one window of \(configuration.window)")
    }
    guard windows <= configuration.maximumWindows else {
      throw ReaderError(
        file: path, "has \(windows) windows of \(configuration.window) samples; the model knows at most \(configuration.maximumWindows)")
    }
    var normalised = values
    for t in 0..<length {
      for c in 0..<channels {
        normalised[t * channels + c] = (values[t * channels + c] - configuration.mean[c]) / configuration.std[c]
      }
    }
    return [ChannelSeries(values: normalised, length: length, channels: channels)]
  }

  /// `[N, w·C]`: window n holds samples `n·w ..< (n+1)·w`, time-major.
  public func rawFeatures(_ sample: ChannelSeries) -> Tensor {
    let width = configuration.window * sample.channels
    let windows = sample.length / configuration.window
    return Tensor(shape: [windows, width], values: Array(sample.values[0..<(windows * width)]))
  }

  public func forward(_ samples: [ChannelSeries], training: Bool, rng: inout SeededRNG) -> TokenBatch {
    let width = configuration.window * configuration.channels.count
    let counts = samples.map { $0.length / configuration.window }
    let longest = counts.max() ?? 0
    // [B, N_max, w·C]: a window is already contiguous in the time-major recording.
    let raw = Tensor(shape: [samples.count, longest, width])
    for (b, sample) in samples.enumerated() {
      precondition(sample.channels == configuration.channels.count, "recording has \(sample.channels) channels")
      sample.values.withUnsafeBufferPointer {
        (raw.data + b * longest * width).update(from: $0.baseAddress!, count: counts[b] * width)
      }
    }
    return patch.forward(raw: raw, mask: paddingMask(counts: counts, longest: longest))
  }

  public func backward(_ dTokens: UnsafePointer<Float>) {
    patch.backward(dTokens, parameterGradients: parameters.isTrainable)
  }
}

/// `[B, N_max]` with 1 for the first `counts[b]` entries of row b, or nil when all counts are equal.
func paddingMask(counts: [Int], longest: Int) -> Tensor? {
  guard counts.contains(where: { $0 != longest }) else { return nil }
  let mask = Tensor(shape: [counts.count, longest])
  for (b, count) in counts.enumerated() {
    for n in 0..<count { mask[b * longest + n] = 1 }
  }
  return mask
}

/// Column names that hold time stamps rather than channels in sensor CSVs.
let timeColumnNames: Set<String> = ["time", "timestamp", "t", "date", "datetime"]

/// Reads a `[T, C]` matrix of finite numbers: `.npy` (`[T, C]`, or `[T]` for
/// one channel; channels named `channel1`…) or a CSV with a header whose
/// columns are channels (time columns skipped); told apart by the `.npy` magic.
///
/// - Parameter channels: the channel names to read, in this order (an error
///   names a missing one); nil reads every channel the file has.
/// - Returns: the channel names and the values `[T, C]`, time-major.
func readChannelMatrix(path: String, channels: [String]?) throws -> (names: [String], values: [Float]) {
  try channelMatrix(ArrayOrTable.read(path: path, header: .present), path: path, channels: channels)
}

/// The `[T, C]` matrix of an input already read; see `readChannelMatrix`.
func channelMatrix(_ input: ArrayOrTable, path: String, channels: [String]?) throws -> (names: [String], values: [Float]) {
  switch input {
  case .array(let array):
    let count: Int
    switch array.shape.count {
    case 1: count = 1
    case 2: count = array.shape[1]
    default: throw ReaderError(file: path, "is a \(array.shape.count)-D array \(array.shape); expected [T, C] or [T]")
    }
    guard count > 0 else { throw ReaderError(file: path, "has no channels (shape \(array.shape))") }
    if let channels, channels.count != count {
      throw ReaderError(file: path, "has \(count) channels; the model expects \(channels.count)")
    }
    guard array.values.allSatisfy(\.isFinite) else { throw ReaderError(file: path, "holds NaN or infinite values") }
    return (channels ?? (1...count).map { "channel\($0)" }, array.values)
  case .table(let table):
    let names = channels ?? table.header.filter { !timeColumnNames.contains($0.lowercased()) }
    guard !names.isEmpty else { throw ReaderError(file: path, "has no channel column besides time") }
    let indices = try names.map { try table.columnIndex($0) }
    return (names, try table.numbers(columns: indices))
  }
}

/// Per-channel mean and population standard deviation over every sample of
/// every `[T, C]` recording (accumulated in Double); a constant channel gets std 1.
func channelStatistics(_ recordings: [[Float]], channels: Int) -> (mean: [Float], std: [Float]) {
  var sum = [Double](repeating: 0, count: channels), squares = sum
  var count = 0
  for values in recordings {
    for (index, value) in values.enumerated() {
      sum[index % channels] += Double(value)
      squares[index % channels] += Double(value) * Double(value)
    }
    count += values.count / channels
  }
  let mean = sum.map { $0 / Double(max(count, 1)) }
  let std = (0..<channels).map { c -> Float in
    let variance = max(squares[c] / Double(max(count, 1)) - mean[c] * mean[c], 0)
    return variance > 1e-12 ? Float(variance.squareRoot()) : 1
  }
  return (mean.map(Float.init), std)
}
