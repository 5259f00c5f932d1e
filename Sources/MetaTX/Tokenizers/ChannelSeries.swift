/// A multichannel sequence `[T, C]`, time-major, after the fixed
/// normalisation of its tokenizer (per-channel statistics for IMU, instance
/// normalisation for time series).
public struct ChannelSeries: Equatable, Sendable {
  /// `[T, C]` values, time-major (`t·C + c`).
  public var values: [Float]
  public var length: Int
  public var channels: Int

  public init(values: [Float], length: Int, channels: Int) {
    precondition(values.count == length * channels, "\(values.count) values do not fill [\(length), \(channels)]")
    self.values = values
    self.length = length
    self.channels = channels
  }
}
