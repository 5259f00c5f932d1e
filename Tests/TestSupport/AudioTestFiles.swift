import Foundation

/// The sample encodings `wavBytes` writes.
public enum WAVEncoding {
  /// 16-bit signed PCM (format tag 1), values clamped to ±1 and scaled by 32767.
  case pcm16
  /// 32-bit IEEE float (format tag 3), values stored as given (NaN included).
  case float32
}

/// A canonical RIFF/WAVE file, written by hand so tests need no audio tool.
///
/// - Parameters:
///   - channels: one `[frames]` array per channel, all equally long.
///   - declaredDataBytes: the data chunk size to put in the header (default:
///     the true size); a larger value imitates a truncated or streamed file.
public func wavBytes(
  channels: [[Float]], sampleRate: Int, encoding: WAVEncoding, declaredDataBytes: UInt32? = nil
) -> Data {
  let frames = channels[0].count
  let bytesPerSample = encoding == .pcm16 ? 2 : 4
  let blockAlign = channels.count * bytesPerSample
  var body = Data()
  for frame in 0..<frames {
    for channel in channels {
      switch encoding {
      case .pcm16:
        let value = Int16((max(-1, min(1, channel[frame])) * 32767).rounded())
        body.append(contentsOf: withUnsafeBytes(of: value.littleEndian) { Array($0) })
      case .float32:
        body.append(contentsOf: withUnsafeBytes(of: channel[frame].bitPattern.littleEndian) { Array($0) })
      }
    }
  }
  let dataBytes = declaredDataBytes ?? UInt32(body.count)
  var file = Data()
  func append(_ text: String) { file.append(contentsOf: Array(text.utf8)) }
  func append32(_ value: UInt32) { file.append(contentsOf: withUnsafeBytes(of: value.littleEndian) { Array($0) }) }
  func append16(_ value: UInt16) { file.append(contentsOf: withUnsafeBytes(of: value.littleEndian) { Array($0) }) }
  append("RIFF")
  append32(dataBytes &+ 36)
  append("WAVE")
  append("fmt ")
  append32(16)
  append16(encoding == .pcm16 ? 1 : 3)
  append16(UInt16(channels.count))
  append32(UInt32(sampleRate))
  append32(UInt32(sampleRate * blockAlign))
  append16(UInt16(blockAlign))
  append16(UInt16(bytesPerSample * 8))
  append("data")
  append32(dataBytes)
  file.append(body)
  return file
}

/// `amplitude · sin(2π f t + phase)` sampled at `sampleRate` for `count` samples.
public func sineWave(frequency: Double, sampleRate: Int, count: Int, amplitude: Double = 0.5, phase: Double = 0)
  -> [Float]
{
  (0..<count).map { Float(amplitude * sin(2 * Double.pi * frequency * Double($0) / Double(sampleRate) + phase)) }
}
