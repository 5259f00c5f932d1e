import CSampleRate
import CSndFile
import Foundation

/// A decoded sound, mixed down to one channel.
public struct AudioClip: Sendable {
  /// `[frames]` samples, full scale ±1 (integer formats are scaled by libsndfile).
  public var samples: [Float]
  /// Samples per second.
  public var sampleRate: Int

  public init(samples: [Float], sampleRate: Int) {
    self.samples = samples
    self.sampleRate = sampleRate
  }

  public var duration: Double { Double(samples.count) / Double(sampleRate) }
}

/// Audio files through libsndfile: WAV (PCM, float, A-law, µ-law, ADPCM),
/// AIFF, AU, FLAC, Ogg Vorbis/Opus, MP3 (libsndfile ≥ 1.1) and the rest of
/// its formats, detected from the content, not the file name.
///
/// The whole file (or standard input, `-`) is read into memory and handed to
/// libsndfile through its virtual I/O interface, so pipes work like files.
/// Samples are decoded in fixed-size chunks: memory follows what is actually
/// decoded, never a frame count a header claims.
///
/// A WAV whose data chunk claims more bytes than the file holds (a truncated
/// download) is an error, not a silently shorter clip: libsndfile
/// itself clamps such a chunk to the bytes present and only says so in its
/// log. Streamed WAVs, whose header holds a huge placeholder size, decode to
/// the bytes present.
public enum AudioDecoder {
  /// Decodes the file at `path` (`-`: standard input) and averages its channels.
  ///
  /// - Parameter maximumDuration: stop after this many seconds (nil: decode all);
  ///   callers that crop anyway need not decode hours of audio.
  public static func read(path: String, maximumDuration: Double? = nil) throws -> AudioClip {
    try decode(AtomicFile.readAll(path), file: path, maximumDuration: maximumDuration)
  }

  /// Decodes audio file bytes; `file` names them in errors.
  public static func decode(_ data: Data, file: String, maximumDuration: Double? = nil) throws -> AudioClip {
    guard !data.isEmpty else { throw ReaderError(file: file, "is empty; expected an audio file (WAV, FLAC, Ogg…)") }
    let stream = MemoryStream(bytes: [UInt8](data))
    var info = SF_INFO()
    var io = SF_VIRTUAL_IO(
      get_filelen: { user in Int64(MemoryStream.from(user).bytes.count) },
      seek: { offset, whence, user in MemoryStream.from(user).seek(offset, whence: whence) },
      read: { destination, count, user in MemoryStream.from(user).read(into: destination!, count: count) },
      write: { _, _, _ in 0 },
      tell: { user in Int64(MemoryStream.from(user).position) })
    let opened = withExtendedLifetime(stream) {
      sf_open_virtual(&io, Int32(SFM_READ), &info, Unmanaged.passUnretained(stream).toOpaque())
    }
    guard let handle = opened else {
      let reason = String(cString: sf_strerror(nil))
      throw ReaderError(file: file, "is not a readable audio file (libsndfile: \(reason))")
    }
    defer { sf_close(handle) }
    return try withExtendedLifetime(stream) {
      let channels = Int(info.channels), rate = Int(info.samplerate)
      guard channels >= 1, rate >= 1 else {
        throw ReaderError(
          file: file, "has \(channels) channels at \(rate) Hz; expected at least one channel and a positive rate")
      }
      if let (claimed, present) = truncatedData(handle) {
        throw ReaderError(
          file: file, "is truncated: its header promises \(claimed) bytes of audio, the file holds \(present)")
      }
      let limit = maximumDuration.map { Int(($0 * Double(rate)).rounded(.up)) } ?? Int.max
      var samples: [Float] = []
      let chunkFrames = 4096
      var chunk = [Float](repeating: 0, count: chunkFrames * channels)
      while samples.count < limit {
        let wanted = min(chunkFrames, limit - samples.count)
        let got = Int(chunk.withUnsafeMutableBufferPointer { sf_readf_float(handle, $0.baseAddress!, Int64(wanted)) })
        if got <= 0 { break }
        for frame in 0..<got {
          var sum: Float = 0
          for channel in 0..<channels { sum += chunk[frame * channels + channel] }
          guard sum.isFinite else {
            let time = String(format: "%.3f", Double(samples.count) / Double(rate))
            throw ReaderError(file: file, "sample \(samples.count) (at \(time) s) is \(sum); audio must be finite")
          }
          samples.append(sum / Float(channels))
        }
      }
      if sf_error(handle) != 0 {
        throw ReaderError(file: file, "cannot be decoded (libsndfile: \(String(cString: sf_strerror(handle))))")
      }
      guard !samples.isEmpty else { throw ReaderError(file: file, "holds no audio samples (zero length)") }
      return AudioClip(samples: samples, sampleRate: rate)
    }
  }

  /// Data-chunk sizes at or above this are placeholders, not truncation:
  /// writers that stream to a pipe (espeak-ng --stdout, sox, ffmpeg) cannot
  /// seek back to fill in the size and put ~2–4 GB there instead.
  static let streamingSizePlaceholder = 0x7F00_0000

  /// The data chunk's claimed and present byte counts when the claim runs past
  /// the end of the file, read from libsndfile's log, the only place it says so
  /// (a line "data : 32000 (should be 3000)").
  private static func truncatedData(_ handle: OpaquePointer) -> (claimed: Int, present: Int)? {
    var log = [CChar](repeating: 0, count: 16384)
    guard sf_command(handle, Int32(SFC_GET_LOG_INFO), &log, Int32(log.count)) > 0 else { return nil }
    for line in String(cString: log).split(separator: "\n") {
      let words = line.split(whereSeparator: { " :()".contains($0) })
      guard words.count == 5, words[0] == "data", words[2] == "should", words[3] == "be",
        let claimed = Int(words[1]), let present = Int(words[4]), claimed > present,
        claimed < streamingSizePlaceholder
      else { continue }
      return (claimed, present)
    }
    return nil
  }
}

/// How libsamplerate interpolates (its three band-limited sinc converters;
/// all reach 97 dB SNR and differ in the passband they keep).
public enum ResamplingQuality: String, Codable, CaseIterable, Sendable {
  /// `SRC_SINC_BEST_QUALITY`: 97 % of the band kept; the default.
  case best
  /// `SRC_SINC_MEDIUM_QUALITY`: 90 % of the band, a few times faster.
  case medium
  /// `SRC_SINC_FASTEST`: 80 % of the band, fastest of the sinc converters.
  case fastest

  var converter: Int32 {
    switch self {
    case .best: Int32(SRC_SINC_BEST_QUALITY)
    case .medium: Int32(SRC_SINC_MEDIUM_QUALITY)
    case .fastest: Int32(SRC_SINC_FASTEST)
    }
  }
}

extension AudioClip {
  /// The clip at `rate` samples per second through libsamplerate (`src_simple`,
  /// the whole clip as one block with end of input set, so the output holds
  /// `round(frames · rate / sampleRate)` samples and the duration is kept).
  ///
  /// - Parameter file: names the clip's file in errors.
  public func resampled(to rate: Int, quality: ResamplingQuality, file: String) throws -> AudioClip {
    if rate == sampleRate { return self }
    let ratio = Double(rate) / Double(sampleRate)
    // libsamplerate's limit: src_is_valid_ratio accepts 1/256 … 256.
    guard src_is_valid_ratio(ratio) != 0 else {
      throw ReaderError(file: file, "sample rate \(sampleRate) Hz cannot be converted to \(rate) Hz (ratio beyond 256)")
    }
    let expected = Int((Double(samples.count) * ratio).rounded())
    var output = [Float](repeating: 0, count: expected + 16)
    var generated = 0
    let status: Int32 = samples.withUnsafeBufferPointer { input in
      output.withUnsafeMutableBufferPointer { destination in
        var data = SRC_DATA(
          data_in: input.baseAddress, data_out: destination.baseAddress, input_frames: samples.count,
          output_frames: destination.count, input_frames_used: 0, output_frames_gen: 0, end_of_input: 1,
          src_ratio: ratio)
        let status = src_simple(&data, quality.converter, 1)
        generated = data.output_frames_gen
        return status
      }
    }
    guard status == 0 else {
      throw ReaderError(file: file, "cannot be resampled (libsamplerate: \(String(cString: src_strerror(status))))")
    }
    output.removeLast(output.count - min(generated, output.count))
    return AudioClip(samples: output, sampleRate: rate)
  }
}

/// A byte buffer behind libsndfile's virtual I/O callbacks.
private final class MemoryStream {
  let bytes: [UInt8]
  var position = 0

  init(bytes: [UInt8]) { self.bytes = bytes }

  static func from(_ user: UnsafeMutableRawPointer?) -> MemoryStream {
    Unmanaged<MemoryStream>.fromOpaque(user!).takeUnretainedValue()
  }

  func seek(_ offset: Int64, whence: Int32) -> Int64 {
    let base: Int
    switch whence {
    case SEEK_SET: base = 0
    case SEEK_CUR: base = position
    case SEEK_END: base = bytes.count
    default: return -1
    }
    let target = Int64(base) + offset
    guard target >= 0 else { return -1 }
    // Seeking past the end is allowed (as lseek allows it); reads there return nothing.
    position = Int(min(target, Int64(Int.max / 2)))
    return Int64(position)
  }

  func read(into destination: UnsafeMutableRawPointer, count: Int64) -> Int64 {
    guard count > 0, position < bytes.count else { return 0 }
    let length = Int(min(count, Int64(bytes.count - position)))
    bytes.withUnsafeBytes { destination.copyMemory(from: $0.baseAddress! + position, byteCount: length) }
    position += length
    return Int64(length)
  }
}
