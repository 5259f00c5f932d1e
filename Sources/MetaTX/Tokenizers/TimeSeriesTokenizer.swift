import Foundation
import Kernels
import Readers

/// How a time-series CSV is laid out.
public enum TimeSeriesCSVLayout: String, Codable, Sendable {
  /// One series per file: a header row, one row per time step, one column
  /// per channel (time columns skipped).
  case long
  /// Many univariate series per file, UCR style: no header, one series per
  /// row, values across the columns; empty trailing cells end a shorter series.
  case wide
}

/// The time-series tokenizer's patching and channels, saved with the model.
public struct TimeSeriesConfiguration: Codable, Equatable, Sendable {
  /// Channels per series, C.
  public var channels: Int
  /// How CSV files are read (`.npy` files are always `[T]` or `[T, C]`).
  public var csvLayout: TimeSeriesCSVLayout
  /// Values per patch, P (default 16).
  public var patchLength: Int
  /// Step between patch starts, S (default 8).
  public var stride: Int
  /// The most patches per channel: the size of the position table (default 64,
  /// or more when a training series needs it).
  public var maximumPatches: Int
  /// Instance normalisation's ε: `x̂ = (x − mean) / √(var + ε)` (default 1e-5).
  public var epsilon: Float
  /// Whether a learned cls token comes first (default true).
  public var clsToken: Bool

  public init(
    channels: Int, csvLayout: TimeSeriesCSVLayout, patchLength: Int = 16, stride: Int = 8, maximumPatches: Int = 64,
    epsilon: Float = 1e-5, clsToken: Bool = true
  ) {
    self.channels = channels
    self.csvLayout = csvLayout
    self.patchLength = patchLength
    self.stride = stride
    self.maximumPatches = maximumPatches
    self.epsilon = epsilon
    self.clsToken = clsToken
  }

  /// PatchTST's patch count with end padding (`padding_patch = "end"`):
  /// `⌊(L − P) / S⌋ + 2`, the `+ 1` past the usual count being the patch
  /// that the S repeated last values complete. A series shorter than P is
  /// first extended to P the same way, so it gives 2 patches.
  public func patchCount(length: Int) -> Int {
    (max(length, patchLength) - patchLength) / stride + 2
  }
}

/// PatchTST's channel-independent patching (Nie et al. 2023, "A Time Series
/// is Worth 64 Words"): each series is instance-normalised per channel
/// (RevIN without its affine part: `x̂ = (x − mean) / √(var + ε)`, population
/// variance over the series), every channel is cut into patches of P values
/// with stride S (the end padded by repeating the last value S times), and
/// every patch becomes a token: `patch · Wᵀ + b + position[n] + channel[c]`,
/// the same W for all channels.
///
/// Tokens `[B, (1 +) C·N_max, D]`: the cls token, then channel 0's N patches,
/// channel 1's, …; series of different lengths are padded at the end, with a mask.
/// Parameters: `patch.proj.weight` `[D, P]`, `patch.proj.bias`, `patch.cls`,
/// `positions` `[maximumPatches, D]`, `channels` `[C, D]`.
public final class TimeSeriesTokenizer: Tokenizer {
  public typealias Sample = ChannelSeries
  public typealias Configuration = TimeSeriesConfiguration

  public static let modality = Modality.timeSeries
  public let configuration: TimeSeriesConfiguration
  public let dim: Int
  public let parameters: ParameterSet
  private let patch: PatchProjection
  private let positions: EmbeddingTable
  private let channelEmbeddings: EmbeddingTable
  /// The last forward's layout, which backward needs: tokens per sequence
  /// (cls included) and, per sample, the position and channel id of each patch token.
  private var lastCount = 0
  private var lastPositionIds: [[Int]] = []
  private var lastChannelIds: [[Int]] = []

  public init(configuration: TimeSeriesConfiguration, dim: Int) throws {
    guard configuration.channels > 0, configuration.patchLength > 0, configuration.stride > 0,
      configuration.maximumPatches >= 2, configuration.epsilon > 0
    else {
      throw ReaderError(
        file: "time-series configuration",
        "needs positive channels, patch length, stride and epsilon, and maximumPatches ≥ 2")
    }
    self.configuration = configuration
    self.dim = dim
    parameters = ParameterSet(
      PatchProjection.specs(
        "patch", patchWidth: configuration.patchLength, dim: dim, cls: configuration.clsToken, maximumPositions: nil)
        + EmbeddingTable.specs("positions", vocabulary: configuration.maximumPatches, dim: dim)
        + EmbeddingTable.specs("channels", vocabulary: configuration.channels, dim: dim))
    patch = PatchProjection("patch", parameters: parameters)
    positions = EmbeddingTable(weight: parameters.view("positions"))
    channelEmbeddings = EmbeddingTable(weight: parameters.view("channels"))
  }

  /// Patch 16, stride 8; channels from the first file; the CSV layout by
  /// the first CSV's header (a header row → long, a first row of numbers →
  /// wide); position table large enough for the longest training series.
  public static func defaultConfiguration(fittingTo paths: [String]) throws -> TimeSeriesConfiguration {
    guard !paths.isEmpty else {
      throw ReaderError(file: "time-series configuration", "needs at least one training file")
    }
    var layout = TimeSeriesCSVLayout.long
    for path in paths {
      if case .table(let table) = try ArrayOrTable.read(path: path, header: .detect, allowsShortRows: true) {
        layout = table.firstRowNumber == 2 ? .long : .wide
        break
      }
    }
    let provisional = TimeSeriesConfiguration(channels: 1, csvLayout: layout)
    let series = try paths.flatMap { try readSeries(path: $0, layout: layout, channels: nil) }
    let channels = series[0].channels
    if let other = series.first(where: { $0.channels != channels }) {
      throw ReaderError(file: paths[0], "series have \(channels) and \(other.channels) channels; all need the same")
    }
    let longest = series.map { provisional.patchCount(length: $0.length) }.max() ?? 0
    return TimeSeriesConfiguration(channels: channels, csvLayout: layout, maximumPatches: max(64, longest))
  }

  /// Xavier-uniform patch projection, truncated-normal cls, N(0, 0.02) positions and channel embeddings.
  public func initialise(_ rng: inout SeededRNG) {
    patch.initialise(&rng)
    positions.initialise(&rng)
    channelEmbeddings.initialise(&rng)
  }

  /// One series per `.npy` or long CSV, one per row of a wide CSV; each instance-normalised.
  public func read(path: String) throws -> [ChannelSeries] {
    let series = try Self.readSeries(path: path, layout: configuration.csvLayout, channels: configuration.channels)
    return try series.map { raw in
      let patches = configuration.patchCount(length: raw.length)
      guard patches <= configuration.maximumPatches else {
        throw ReaderError(
          file: path,
          "a series of \(raw.length) steps makes \(patches) patches; the model knows at most \(configuration.maximumPatches)")
      }
      return instanceNormalised(raw)
    }
  }

  /// `(x − mean_c) / √(var_c + ε)` per channel c over the series' own steps.
  public func instanceNormalised(_ series: ChannelSeries) -> ChannelSeries {
    var normalised = series
    let length = series.length, channels = series.channels
    for c in 0..<channels {
      var sum = 0.0, squares = 0.0
      for t in 0..<length { sum += Double(series.values[t * channels + c]) }
      let mean = sum / Double(length)
      for t in 0..<length {
        let centred = Double(series.values[t * channels + c]) - mean
        squares += centred * centred
      }
      let deviation = (squares / Double(length) + Double(configuration.epsilon)).squareRoot()
      for t in 0..<length {
        normalised.values[t * channels + c] = Float((Double(series.values[t * channels + c]) - mean) / deviation)
      }
    }
    return normalised
  }

  /// `[C·N, P]`: channel-major patches; patch n of channel c holds steps
  /// `n·S ..< n·S + P`, a step past the end taking the last value.
  public func rawFeatures(_ sample: ChannelSeries) -> Tensor {
    let patches = configuration.patchCount(length: sample.length)
    let width = configuration.patchLength
    let raw = Tensor(shape: [sample.channels * patches, width])
    for c in 0..<sample.channels {
      for n in 0..<patches {
        for k in 0..<width {
          let t = min(n * configuration.stride + k, sample.length - 1)
          raw[(c * patches + n) * width + k] = sample.values[t * sample.channels + c]
        }
      }
    }
    return raw
  }

  public func forward(_ samples: [ChannelSeries], training: Bool, rng: inout SeededRNG) -> TokenBatch {
    let width = configuration.patchLength
    let counts = samples.map { $0.channels * configuration.patchCount(length: $0.length) }
    let longest = counts.max() ?? 0
    // [B, C·N_max, P], each sample's patches first and zero rows after.
    let raw = Tensor(shape: [samples.count, longest, width])
    lastPositionIds = []
    lastChannelIds = []
    for (b, sample) in samples.enumerated() {
      precondition(sample.channels == configuration.channels, "series has \(sample.channels) channels")
      let features = rawFeatures(sample)
      (raw.data + b * longest * width).update(from: features.data, count: features.count)
      let patches = counts[b] / sample.channels
      lastPositionIds.append((0..<counts[b]).map { $0 % patches })
      lastChannelIds.append((0..<counts[b]).map { $0 / patches })
    }
    let batch = patch.forward(raw: raw, mask: paddingMask(counts: counts, longest: longest))
    lastCount = batch.count
    let offset = lastCount - longest
    for b in samples.indices {
      let first = batch.tokens.data + (b * lastCount + offset) * dim
      positions.forward(output: first, ids: lastPositionIds[b], accumulate: true)
      channelEmbeddings.forward(output: first, ids: lastChannelIds[b], accumulate: true)
    }
    return batch
  }

  public func backward(_ dTokens: UnsafePointer<Float>) {
    guard parameters.isTrainable else { return }
    let offset = lastCount - (lastPositionIds.map(\.count).max() ?? 0)
    for b in lastPositionIds.indices {
      let first = dTokens + (b * lastCount + offset) * dim
      positions.backward(dOutput: first, ids: lastPositionIds[b])
      channelEmbeddings.backward(dOutput: first, ids: lastChannelIds[b])
    }
    patch.backward(dTokens)
  }

  /// The raw series in `path`: `.npy` `[T]`/`[T, C]`, or CSV in `layout`
  /// (told apart by the `.npy` magic).
  /// - Parameter channels: the channel count required, or nil for any.
  static func readSeries(path: String, layout: TimeSeriesCSVLayout, channels: Int?) throws -> [ChannelSeries] {
    let input = try ArrayOrTable.read(path: path, header: layout == .wide ? .detect : .present, allowsShortRows: layout == .wide)
    guard case .table(let table) = input, layout == .wide else {
      let (names, values) = try channelMatrix(input, path: path, channels: nil)
      if let channels, names.count != channels {
        throw ReaderError(file: path, "has \(names.count) channels; the model expects \(channels)")
      }
      let length = values.count / names.count
      guard length > 0 else { throw ReaderError(file: path, "holds an empty series") }
      return [ChannelSeries(values: values, length: length, channels: names.count)]
    }
    if let channels, channels != 1 {
      throw ReaderError(file: path, "is a wide CSV of univariate series; the model expects \(channels) channels")
    }
    var series: [ChannelSeries] = []
    for row in table.rows.indices {
      let cells = table.rows[row]
      let length = (cells.lastIndex { !$0.trimmingCharacters(in: .whitespaces).isEmpty } ?? -1) + 1
      guard length > 0 else { throw ReaderError(file: path, "row \(table.rowNumber(row)) holds no values") }
      let values = try (0..<length).map { column -> Float in
        if cells[column].trimmingCharacters(in: .whitespaces).isEmpty {
          throw ReaderError(
            file: path, "row \(table.rowNumber(row)), column \(column + 1): empty cell inside the series (only trailing cells may be empty)")
        }
        return try table.number(row: row, column: column)
      }
      series.append(ChannelSeries(values: values, length: length, channels: 1))
    }
    return series
  }
}
