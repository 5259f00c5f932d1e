import CSndFile
import Foundation
#if canImport(Glibc)
  import Glibc
#endif
import Kernels
import Readers
import TestSupport
import XCTest

final class AudioDecoderTests: XCTestCase {
  private var scratch: ScratchDirectory!

  override func setUpWithError() throws { scratch = try ScratchDirectory() }
  override func tearDown() { scratch.remove() }

  private func write(_ data: Data, _ name: String) throws -> String {
    let path = scratch.file(name)
    try data.write(to: URL(fileURLWithPath: path))
    return path
  }

  private func assertReaderError(_ path: String, contains text: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertThrowsError(try AudioDecoder.read(path: path), file: file, line: line) { error in
      guard let error = error as? ReaderError else { return XCTFail("not a ReaderError: \(error)", file: file, line: line) }
      XCTAssertEqual(error.file, path, file: file, line: line)
      XCTAssertTrue(error.problem.contains(text), "\(error) lacks “\(text)”", file: file, line: line)
      XCTAssertFalse(error.description.contains("\n"), file: file, line: line)
    }
  }

  func testPCM16MonoRoundTrips() throws {
    let tone = sineWave(frequency: 440, sampleRate: 8000, count: 1000)
    let path = try write(wavBytes(channels: [tone], sampleRate: 8000, encoding: .pcm16), "tone.wav")
    let clip = try AudioDecoder.read(path: path)
    XCTAssertEqual(clip.sampleRate, 8000)
    XCTAssertEqual(clip.samples.count, 1000)
    // libsndfile scales 16-bit PCM by 1/32768, the file stored round(x · 32767).
    XCTAssertLessThan(worstDifference(clip.samples, tone).absolute, 1e-4)
  }

  func testStereoFloatIsAveragedToMono() throws {
    let left: [Float] = [0.5, -0.25, 1, 0], right: [Float] = [0.1, 0.25, -1, 0.75]
    let path = try write(wavBytes(channels: [left, right], sampleRate: 22050, encoding: .float32), "stereo.wav")
    let clip = try AudioDecoder.read(path: path)
    XCTAssertEqual(clip.samples, [0.3, 0, 0, 0.375])
    XCTAssertEqual(clip.sampleRate, 22050)
  }

  func testFLACAndOggVorbisWrittenByLibsndfileDecode() throws {
    let tone = sineWave(frequency: 300, sampleRate: 16000, count: 4000)
    for (name, format) in [("tone.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16), ("tone.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS)] {
      let path = scratch.file(name)
      var info = SF_INFO(frames: 0, samplerate: 16000, channels: 1, format: Int32(format), sections: 0, seekable: 0)
      let handle = try XCTUnwrap(sf_open(path, Int32(SFM_WRITE), &info), String(cString: sf_strerror(nil)))
      XCTAssertEqual(tone.withUnsafeBufferPointer { sf_writef_float(handle, $0.baseAddress!, 4000) }, 4000)
      sf_close(handle)
      let clip = try AudioDecoder.read(path: path)
      XCTAssertEqual(clip.sampleRate, 16000, name)
      XCTAssertEqual(clip.samples.count, 4000, name)
      // Lossless FLAC is exact to 16 bits; Vorbis is lossy, so only close.
      XCTAssertLessThan(worstDifference(clip.samples, tone).absolute, name.hasSuffix("flac") ? 1e-4 : 5e-2, name)
    }
  }

  func testStandardInputDecodesLikeTheFile() throws {
    // A streamed header, as `espeak-ng --stdout | metatx …` delivers it.
    let tone = sineWave(frequency: 440, sampleRate: 16000, count: 1600)
    let path = try write(
      wavBytes(channels: [tone], sampleRate: 16000, encoding: .pcm16, declaredDataBytes: 0x7FFF_F000), "piped.wav")
    let file = open(path, O_RDONLY)
    XCTAssertGreaterThanOrEqual(file, 0)
    let saved = dup(STDIN_FILENO)
    dup2(file, STDIN_FILENO)
    close(file)
    defer {
      dup2(saved, STDIN_FILENO)
      close(saved)
    }
    let clip = try AudioDecoder.read(path: "-")
    XCTAssertEqual(clip.samples, try AudioDecoder.read(path: path).samples)
  }

  func testMaximumDurationStopsDecoding() throws {
    let path = try write(wavBytes(channels: [sineWave(frequency: 100, sampleRate: 8000, count: 8000)], sampleRate: 8000,
      encoding: .pcm16), "long.wav")
    XCTAssertEqual(try AudioDecoder.read(path: path, maximumDuration: 0.25).samples.count, 2000)
  }

  func testTruncatedWAVIsAnError() throws {
    let full = wavBytes(channels: [sineWave(frequency: 440, sampleRate: 16000, count: 16000)], sampleRate: 16000,
      encoding: .pcm16)
    let path = try write(full.prefix(44 + 3000), "truncated.wav")
    assertReaderError(path, contains: "truncated: its header promises 32000 bytes of audio, the file holds 3000")
  }

  func testStreamedWAVWithPlaceholderSizeDecodesWhatIsThere() throws {
    // What `espeak-ng --stdout` and other pipe writers produce: a size they could not fill in.
    let tone = sineWave(frequency: 440, sampleRate: 16000, count: 1600)
    let path = try write(
      wavBytes(channels: [tone], sampleRate: 16000, encoding: .pcm16, declaredDataBytes: 0x7FFF_F000), "streamed.wav")
    XCTAssertEqual(try AudioDecoder.read(path: path).samples.count, 1600)
  }

  func testZeroLengthAudioIsAnError() throws {
    let path = try write(wavBytes(channels: [[]], sampleRate: 16000, encoding: .pcm16), "silence.wav")
    assertReaderError(path, contains: "holds no audio samples")
  }

  func testTextFileNamedWAVIsAnError() throws {
    let path = try write(Data("this is not a sound\n".utf8), "notes.wav")
    assertReaderError(path, contains: "is not a readable audio file (libsndfile: ")
    assertReaderError(try write(Data(), "empty.wav"), contains: "is empty")
  }

  func testNaNSampleInFloatWAVIsAnError() throws {
    var samples = sineWave(frequency: 440, sampleRate: 16000, count: 3200)
    samples[1600] = .nan
    let path = try write(wavBytes(channels: [samples], sampleRate: 16000, encoding: .float32), "nan.wav")
    assertReaderError(path, contains: "sample 1600 (at 0.100 s) is nan")
  }

  /// The power spectrum's strongest bin; with `count = sampleRate` bins are 1 Hz apart.
  private func peakFrequency(_ samples: [Float], sampleRate: Int) -> Int {
    let count = sampleRate
    let power = Tensor(shape: [count / 2 + 1])
    samples.withUnsafeBufferPointer { FFT.powerSpectrum(output: power.data, input: $0.baseAddress!, count: count) }
    return power.values.indices.max { power[$0] < power[$1] }!
  }

  func testResamplingKeepsFrequencyAndDuration() throws {
    let tone = AudioClip(samples: sineWave(frequency: 1000, sampleRate: 44100, count: 88200), sampleRate: 44100)
    for quality in ResamplingQuality.allCases {
      let resampled = try tone.resampled(to: 16000, quality: quality, file: "tone")
      XCTAssertEqual(resampled.sampleRate, 16000)
      XCTAssertEqual(Double(resampled.samples.count), 32000, accuracy: 1, "\(quality): 2 s stay 2 s")
      XCTAssertEqual(peakFrequency(Array(resampled.samples[8000..<24000]), sampleRate: 16000), 1000, "\(quality)")
      // The amplitude survives too (0.5 in, away from the filter's edge transients).
      XCTAssertEqual(resampled.samples[8000..<24000].max()!, 0.5, accuracy: 0.01, "\(quality)")
    }
    XCTAssertEqual(try tone.resampled(to: 44100, quality: .best, file: "tone").samples, tone.samples)
  }

  func testResamplingRatioBeyondLibsamplerateIsAnError() {
    let clip = AudioClip(samples: [0, 1, 0], sampleRate: 10)
    XCTAssertThrowsError(try clip.resampled(to: 16000, quality: .fastest, file: "slow.wav")) { error in
      XCTAssertEqual((error as? ReaderError)?.file, "slow.wav")
    }
  }
}
