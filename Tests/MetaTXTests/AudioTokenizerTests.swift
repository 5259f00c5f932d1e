import Foundation
import MetaTX
import Readers
import TestSupport
import XCTest

final class AudioTokenizerTests: XCTestCase {
  private var folder: URL!

  override func setUpWithError() throws { folder = try makeTemporaryFolder() }
  override func tearDown() { try? FileManager.default.removeItem(at: folder) }

  private func writeWAV(_ samples: [Float], sampleRate: Int, name: String) throws -> String {
    let path = folder.appendingPathComponent(name).path
    try wavBytes(channels: [samples], sampleRate: sampleRate, encoding: .pcm16).write(to: URL(fileURLWithPath: path))
    return path
  }

  private func astFilterBank(window: FilterBankWindow) -> KaldiFilterBank {
    KaldiFilterBank(
      sampleRate: 16000, frameLengthMilliseconds: 25, frameShiftMilliseconds: 10, melBins: 128, lowFrequency: 20,
      highFrequency: 0, preemphasis: 0.97, window: window)
  }

  /// A tiny configuration for learned-part tests: 26 bins × 36 frames → 2 × 3 patches.
  private func smallConfiguration() -> AudioTokenizerConfiguration {
    var configuration = AudioTokenizerConfiguration()
    configuration.melBins = 26
    configuration.frames = 36
    return configuration
  }

  // MARK: Fixed preprocessing

  func testFilterBankMatchesTorchaudioKaldiFbank() throws {
    let fixture = try openFixture("audio_fbank.safetensors")
    let signal = try fixture.floats("signal")
    for window in FilterBankWindow.allCases {
      let expected = try fixture.tensor("fbank_\(window.rawValue)")
      let actual = astFilterBank(window: window)(signal)
      XCTAssertEqual(actual.shape, expected.shape, "\(window)")
      // Both sides use Float32 FFTs, whose rounding is relative to the frame's
      // total power: in the lowest mel bins, which pre-emphasis leaves ~1e-7 of
      // the peak, it moves the log by up to ~1e-3. Meaningful energies agree tightly.
      let worst = worstDifference(actual.values, expected.values)
      XCTAssertLessThan(worst.absolute, 2e-3, "\(window): worst log-mel difference at \(worst.index)")
      let strong = (0..<expected.count).filter { expected[$0] > -10 }
      XCTAssertGreaterThan(strong.count, expected.count / 2)
      let strongWorst = worstDifference(strong.map { actual[$0] }, strong.map { expected[$0] })
      XCTAssertLessThan(strongWorst.absolute, 2e-4, "\(window): log-mel energies above e^-10")
    }
  }

  func testFilterBankGeometry() {
    let bank = astFilterBank(window: .povey)
    XCTAssertEqual([bank.frameLength, bank.frameShift, bank.fftSize], [400, 160, 512])
    XCTAssertEqual(bank.melWeights.shape, [128, 257])
    // Snip edges: whole frames only.
    XCTAssertEqual(bank.frameCount(samples: 399), 0)
    XCTAssertEqual(bank.frameCount(samples: 400), 1)
    XCTAssertEqual(bank.frameCount(samples: 16000), 98)
    XCTAssertEqual(bank(Array(repeating: 0.1, count: 399)).shape, [0, 128])
  }

  func testToneOfOneKilohertzPeaksInItsMelBin() {
    let bank = astFilterBank(window: .povey)
    // Filter b's centre is mel(20) + (b + 1)·Δ, Δ = (mel(8000) − mel(20)) / 129: the
    // tone belongs to the filter whose centre is nearest to mel(1000).
    let low = KaldiFilterBank.mel(20), delta = (KaldiFilterBank.mel(8000) - low) / 129
    let expected = Int(((KaldiFilterBank.mel(1000) - low) / delta - 1).rounded())
    let energies = bank(sineWave(frequency: 1000, sampleRate: 16000, count: 16000))
    for frame in [0, 50, 97] {
      let row = (0..<128).map { energies[frame * 128 + $0] }
      XCTAssertEqual(row.indices.max { row[$0] < row[$1] }, expected, "frame \(frame)")
    }
  }

  func testReadResamplesPadsAndNormalises() throws {
    // 0.5 s at 44.1 kHz → 8000 samples at 16 kHz → 48 frames, padded to 512.
    let tone = sineWave(frequency: 1000, sampleRate: 44100, count: 22050)
    let path = try writeWAV(tone, sampleRate: 44100, name: "tone44.wav")
    let tokenizer = try AudioTokenizer(configuration: AudioTokenizerConfiguration(), dim: 8)
    let sample = try XCTUnwrap(tokenizer.read(path: path).first)
    XCTAssertEqual(sample.spectrogram.shape, [512, 128])
    XCTAssertEqual(sample.audioFrames, 48)
    let mean: Float = -4.2677393, std: Float = 4.5689974
    XCTAssertEqual(sample.spectrogram[511 * 128 + 5], (0 - mean) / (2 * std), accuracy: 1e-6, "AST pads with 0 then normalises")
    // The resampled tone still peaks in 1 kHz's mel bin.
    let low = KaldiFilterBank.mel(20), delta = (KaldiFilterBank.mel(8000) - low) / 129
    let expected = Int(((KaldiFilterBank.mel(1000) - low) / delta - 1).rounded())
    let row = (0..<128).map { sample.spectrogram[20 * 128 + $0] }
    XCTAssertEqual(row.indices.max { row[$0] < row[$1] }, expected)
  }

  func testLongClipIsCroppedToTheConfiguredFrames() throws {
    var configuration = AudioTokenizerConfiguration()
    configuration.frames = 100
    let tokenizer = try AudioTokenizer(configuration: configuration, dim: 4)
    let path = try writeWAV(sineWave(frequency: 500, sampleRate: 16000, count: 48000), sampleRate: 16000, name: "long.wav")
    let sample = try XCTUnwrap(tokenizer.read(path: path).first)
    XCTAssertEqual(sample.spectrogram.shape, [100, 128])
    XCTAssertEqual(sample.audioFrames, 100)
  }

  func testPatchCountFollowsTheFormula() throws {
    for frames in [16, 26, 100, 512, 1024] {
      var configuration = AudioTokenizerConfiguration()
      configuration.frames = frames
      let expected = ((128 - 16) / 10 + 1) * ((frames - 16) / 10 + 1)
      XCTAssertEqual(configuration.patchCount, expected, "\(frames) frames")
      let tokenizer = try AudioTokenizer(configuration: configuration, dim: 4)
      let sample = AudioSample(spectrogram: Tensor(shape: [frames, 128]), audioFrames: frames)
      XCTAssertEqual(tokenizer.rawFeatures(sample).shape, [expected, 256])
    }
    XCTAssertEqual(AudioTokenizerConfiguration().patchCount, 12 * 50)
  }

  func testPatchesUnfoldFrequencyMajorAsAST() throws {
    let configuration = smallConfiguration()
    let tokenizer = try AudioTokenizer(configuration: configuration, dim: 4)
    // value = 1000·frame + bin, so every patch element names where it came from.
    let spectrogram = Tensor(shape: [36, 26])
    for frame in 0..<36 {
      for bin in 0..<26 { spectrogram[frame * 26 + bin] = Float(1000 * frame + bin) }
    }
    let raw = tokenizer.rawFeatures(AudioSample(spectrogram: spectrogram, audioFrames: 36))
    XCTAssertEqual(raw.shape, [6, 256])
    for (f, t) in [(0, 0), (0, 2), (1, 0), (1, 2)] {
      let patch = f * 3 + t
      for (i, j) in [(0, 0), (3, 7), (15, 15)] {
        let frame: Int = t * 10 + j, bin: Int = f * 10 + i
        XCTAssertEqual(raw[patch * 256 + i * 16 + j], Float(1000 * frame + bin), "patch (\(f), \(t)) [\(i), \(j)]")
      }
    }
  }

  func testFittedStatisticsAreThoseOfTheLogMelValues() throws {
    let first = sineWave(frequency: 700, sampleRate: 16000, count: 4000)
    let second = sineWave(frequency: 2500, sampleRate: 16000, count: 2400, amplitude: 0.1)
    let paths = [try writeWAV(first, sampleRate: 16000, name: "a.wav"), try writeWAV(second, sampleRate: 16000, name: "b.wav")]
    let fitted = try AudioTokenizer.fittingStatistics(to: paths)
    // The reference: the same files' samples as decoded, through the filter bank directly.
    let values = try paths.flatMap { astFilterBank(window: .povey)(try AudioDecoder.read(path: $0).samples).values }
    XCTAssertEqual(values.count, (23 + 13) * 128)
    let mean = values.reduce(0.0) { $0 + Double($1) } / Double(values.count)
    let std = (values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(values.count)).squareRoot()
    XCTAssertEqual(Double(fitted.mean), mean, accuracy: 1e-4)
    XCTAssertEqual(Double(fitted.std), std, accuracy: 1e-4)
    XCTAssertEqual(fitted.frames, AudioTokenizerConfiguration().frames)
  }

  func testBadConfigurationsAreRefused() {
    var tooFewBins = AudioTokenizerConfiguration()
    tooFewBins.melBins = 8
    var zeroStd = AudioTokenizerConfiguration()
    zeroStd.std = 0
    var aboveNyquist = AudioTokenizerConfiguration()
    aboveNyquist.highFrequency = 9000
    var hugeClip = AudioTokenizerConfiguration()
    hugeClip.frames = 1 << 40
    for configuration in [tooFewBins, zeroStd, aboveNyquist, hugeClip] {
      XCTAssertThrowsError(try AudioTokenizer(configuration: configuration, dim: 8))
    }
  }

  func testAudioExtensionsAreDetected() {
    for path in ["a.wav", "B.FLAC", "c.ogg", "d.mp3", "e.aiff", "-.opus"] {
      XCTAssertEqual(Modality.detect(path: path), .audio, path)
    }
  }

  func testUnreadableFileIsAReaderError() throws {
    let path = folder.appendingPathComponent("text.wav").path
    try Data("not audio".utf8).write(to: URL(fileURLWithPath: path))
    let tokenizer = try AudioTokenizer(configuration: smallConfiguration(), dim: 4)
    XCTAssertThrowsError(try tokenizer.read(path: path)) { XCTAssertEqual(($0 as? ReaderError)?.file, path) }
  }

  // MARK: Tokens

  func testTokensHaveTheDocumentedShapeAndAreDeterministic() throws {
    let path = try writeWAV(sineWave(frequency: 440, sampleRate: 16000, count: 8000), sampleRate: 16000, name: "a.wav")
    let tokenizer = try AudioTokenizer(configuration: AudioTokenizerConfiguration(), dim: 16)
    var seed = SeededRNG(seed: 5)
    tokenizer.initialise(&seed)
    var rng = SeededRNG(seed: 1)
    let first = try tokenizer.tokenize(paths: [path, path], rng: &rng)
    XCTAssertEqual(first.tokens.shape, [2, 601, 16])
    XCTAssertNil(first.mask)
    XCTAssertTrue(first.tokens.isFinite)
    let second = try tokenizer.tokenize(paths: [path, path], rng: &rng)
    XCTAssertEqual(first.tokens.values, second.tokens.values)
    XCTAssertEqual(Array(first.tokens.values[0..<(601 * 16)]), Array(first.tokens.values[(601 * 16)...]))
  }

  func testSavedTokenizerRestoresConfigurationAndTokens() throws {
    var configuration = smallConfiguration()
    configuration.window = .hanning
    configuration.resampling = .medium
    configuration.mean = -3.5
    let tokenizer = try AudioTokenizer(configuration: configuration, dim: 8)
    var rng = SeededRNG(seed: 9)
    tokenizer.initialise(&rng)
    var writer = SafeTensorsWriter()
    var metadata: [String: String] = [:]
    try tokenizer.add(to: &writer, metadata: &metadata)
    let file = try SafeTensorsFile(data: writer.serialized(metadata: metadata), name: "model.safetensors")
    let restored = try AudioTokenizer.load(from: file)
    XCTAssertEqual(restored.configuration, configuration)
    XCTAssertEqual(restored.dim, 8)
    let path = try writeWAV(sineWave(frequency: 440, sampleRate: 22050, count: 11025), sampleRate: 22050, name: "a.wav")
    let original = try tokenizer.tokenize(paths: [path], rng: &rng)
    let again = try restored.tokenize(paths: [path], rng: &rng)
    XCTAssertEqual(original.tokens.values, again.tokens.values)
  }

  func testGradientsOfTheLearnedPart() throws {
    let tokenizer = try AudioTokenizer(configuration: smallConfiguration(), dim: 5)
    var rng = SeededRNG(seed: 3)
    tokenizer.initialise(&rng)
    let samples = (0..<2).map { AudioSample(spectrogram: randomTensor([36, 26], seed: UInt64(10 + $0)), audioFrames: 36) }
    let dTokens = randomTensor([2, 7, 5], seed: 20)
    let loss = { () -> Double in
      var unused = SeededRNG(seed: 0)
      let batch = tokenizer.forward(samples, training: true, rng: &unused)
      return weightedSum(batch.tokens.data, dTokens.data, count: batch.tokens.count)
    }
    _ = loss()
    tokenizer.parameters.zeroGradients()
    tokenizer.backward(dTokens.data)
    let parameters = tokenizer.parameters
    let result = checkGradient(
      values: parameters.values.data, analytic: parameters.gradients.values,
      indices: sampledIndices(parameters.count, maximum: 200), loss: loss)
    XCTAssertLessThan(result.worstError, 2e-2, "\(result)")
    XCTAssertEqual(parameters.entries.map(\.name), ["patch.proj.weight", "patch.proj.bias", "patch.cls", "patch.positions"])
    XCTAssertEqual(parameters.entry("patch.positions")?.shape, [7, 5])
  }
}
