import Foundation
import MetaTX
import TestSupport
import XCTest

/// A minimal tokenizer for testing the shared machinery: a `.npy` of raw
/// patches `[N, P]` is one sample, projected by `PatchProjection`.
final class RawPatchTokenizer: Tokenizer {
  struct Configuration: Codable, Equatable {
    var patchWidth: Int
    var maximumTokens: Int
  }
  static let modality = Modality.tokens
  let configuration: Configuration
  let dim: Int
  let parameters: ParameterSet
  let projection: PatchProjection

  init(configuration: Configuration, dim: Int) throws {
    self.configuration = configuration
    self.dim = dim
    parameters = ParameterSet(PatchProjection.specs(
      "patch", patchWidth: configuration.patchWidth, dim: dim, cls: true, maximumPositions: configuration.maximumTokens))
    projection = PatchProjection("patch", parameters: parameters)
  }

  static func defaultConfiguration(fittingTo paths: [String]) throws -> Configuration {
    let width = try paths.first.map { try NPYArray.read(path: $0).shape.last ?? 1 } ?? 4
    return Configuration(patchWidth: width, maximumTokens: 16)
  }

  func initialise(_ rng: inout SeededRNG) { projection.initialise(&rng) }

  func read(path: String) throws -> [Tensor] {
    let array = try NPYArray.read(path: path)
    guard array.shape.count == 2, array.shape[1] == configuration.patchWidth else {
      throw ReaderError(file: path, "expected [N, \(configuration.patchWidth)], found \(array.shape)")
    }
    return [array.tensor]
  }

  func rawFeatures(_ sample: Tensor) -> Tensor { sample }

  func forward(_ samples: [Tensor], training: Bool, rng: inout SeededRNG) -> TokenBatch {
    let count = samples.map { $0.shape[0] }.max() ?? 0
    let raw = Tensor(shape: [samples.count, count, configuration.patchWidth])
    let mask = Tensor(shape: [samples.count, count])
    for (b, sample) in samples.enumerated() {
      (raw.data + b * count * configuration.patchWidth).update(from: sample.data, count: sample.count)
      for n in 0..<sample.shape[0] { mask[b * count + n] = 1 }
    }
    return projection.forward(raw: raw, mask: mask)
  }

  func backward(_ dTokens: UnsafePointer<Float>) {
    projection.backward(dTokens, parameterGradients: parameters.isTrainable)
  }
}

final class ModelFileTests: XCTestCase {
  func testModelRoundTripsEncoderAndTokenizerAndTokenizesIdentically() throws {
    let folder = try makeTemporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let samplePath = folder.appendingPathComponent("sample.npy").path
    try NPYArray(shape: [3, 5], values: (0..<15).map { Float($0) / 10 }).write(to: samplePath)
    let shortPath = folder.appendingPathComponent("short.npy").path
    try NPYArray(shape: [1, 5], values: [1, 2, 3, 4, 5]).write(to: shortPath)

    var rng = SeededRNG(seed: 3)
    let encoder = Encoder(config: EncoderConfig(dim: 8, depth: 1, heads: 2), rng: &rng)
    let tokenizer = try AnyTokenizer.fresh(RawPatchTokenizer.self, fittingTo: [samplePath], dim: 8, rng: &rng)
    let model = Model(encoder: encoder, tokenizers: [tokenizer])
    let modelPath = folder.appendingPathComponent("model.safetensors").path
    try model.write(to: modelPath)

    let file = try SafeTensorsFile(path: modelPath)
    XCTAssertEqual(file.metadata["format"], "metatx-model")
    let loaded = try Model.load(from: file) { modality, file in
      modality == .tokens ? try AnyTokenizer.load(RawPatchTokenizer.self, from: file) : nil
    }
    XCTAssertEqual(loaded.encoder.config, encoder.config)
    XCTAssertEqual(loaded.encoder.parameters.values.values, encoder.parameters.values.values)
    let restored = try XCTUnwrap(loaded.tokenizers[.tokens])
    XCTAssertEqual((restored.base as! RawPatchTokenizer).configuration, (tokenizer.base as! RawPatchTokenizer).configuration)
    let before = try tokenizer.tokenize(paths: [samplePath, shortPath], rng: &rng)
    let after = try restored.tokenize(paths: [samplePath, shortPath], rng: &rng)
    XCTAssertEqual(after.tokens.shape, [2, 4, 8])
    XCTAssertEqual(after.tokens.values, before.tokens.values)
    XCTAssertEqual(after.mask?.values, [1, 1, 1, 1, 1, 1, 0, 0])
  }

  func testNonModelFilesAndNewerFormatsAreRefused() throws {
    var writer = SafeTensorsWriter()
    writer.add("x", shape: [1], floats: [0])
    let plain = try SafeTensorsFile(data: writer.serialized(), name: "plain.safetensors")
    XCTAssertThrowsError(try Model.load(from: plain) { _, _ in nil }) {
      XCTAssertTrue("\($0)".contains("plain.safetensors: not a metatx model"), "\($0)")
    }
    let future = try SafeTensorsFile(
      data: writer.serialized(metadata: ["format": "metatx-model", "format_version": "99"]), name: "future.safetensors")
    XCTAssertThrowsError(try Model.load(from: future) { _, _ in nil }) {
      XCTAssertTrue("\($0)".contains("format version 99 is newer"), "\($0)")
    }
  }
}
