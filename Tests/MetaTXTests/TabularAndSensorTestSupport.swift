import Foundation
import MetaTX
import Readers
import TestSupport
import XCTest

/// Helpers shared by the tabular, IMU, time-series and hyperspectral tokenizer tests.

/// A fresh temporary directory for one test's input files.
struct TokenizerScratch {
  let path: String

  init() throws {
    path = FileManager.default.temporaryDirectory.path + "/tokenizer-tests-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
  }

  /// Writes `text` to `name` in the directory and returns its path.
  func write(_ name: String, _ text: String) throws -> String {
    let file = path + "/" + name
    try Data(text.utf8).write(to: URL(fileURLWithPath: file))
    return file
  }

  /// Writes a float32 `.npy` of `shape` to `name` and returns its path.
  func writeNPY(_ name: String, shape: [Int], values: [Float]) throws -> String {
    let file = path + "/" + name
    try NPYArray(shape: shape, values: values).write(to: file)
    return file
  }

  func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Asserts that `expression` throws a one-line `ReaderError` containing every string of `parts`.
func assertReaderError(
  _ expression: @autoclosure () throws -> Any, contains parts: [String], file: StaticString = #filePath,
  line: UInt = #line
) {
  XCTAssertThrowsError(try expression(), file: file, line: line) { error in
    guard let readerError = error as? ReaderError else {
      return XCTFail("expected a ReaderError, got \(error)", file: file, line: line)
    }
    XCTAssertFalse(readerError.description.contains("\n"), "error spans lines: \(readerError)", file: file, line: line)
    for part in parts {
      XCTAssertTrue(readerError.description.contains(part), "\"\(readerError)\" lacks \"\(part)\"", file: file, line: line)
    }
  }
}

/// Finite-difference check of every parameter tensor of `tokenizer` on
/// `samples` (L = Σ tokens ∘ dTokens); returns the worst result per tensor.
func tokenizerGradientErrors<T: Tokenizer>(_ tokenizer: T, samples: [T.Sample], seed: UInt64 = 11) -> [String: GradientCheckResult] {
  var rng = SeededRNG(seed: seed)
  let parameters = tokenizer.parameters
  // Larger than initialisation values, so that no gradient is tiny by accident.
  rng.fillUniform(parameters.values, -0.5, 0.5)
  let first = tokenizer.forward(samples, training: false, rng: &rng)
  let dTokens = randomTensor(first.tokens.shape, seed: seed + 1)
  let loss = { () -> Double in
    var unused = SeededRNG(seed: 0)
    let batch = tokenizer.forward(samples, training: false, rng: &unused)
    return weightedSum(batch.tokens.data, dTokens.data, count: batch.tokens.count)
  }
  _ = loss()
  parameters.zeroGradients()
  tokenizer.backward(dTokens.data)
  let gradients = parameters.gradients.values
  var results: [String: GradientCheckResult] = [:]
  for entry in parameters.entries {
    let indices = sampledIndices(entry.count, maximum: 48).map { entry.offset + $0 }
    results[entry.name] = checkGradient(values: parameters.values.data, analytic: gradients, indices: indices, loss: loss)
  }
  return results
}

/// Saves `tokenizer` into an in-memory model file and loads it back.
func savedAndLoaded<T: Tokenizer>(_ tokenizer: T) throws -> T {
  var writer = SafeTensorsWriter()
  var metadata: [String: String] = [:]
  try tokenizer.add(to: &writer, metadata: &metadata)
  return try T.load(from: SafeTensorsFile(data: writer.serialized(metadata: metadata), name: "model.safetensors"))
}

/// Asserts that `original` and `restored` tokenize `path` to identical tokens and masks.
func assertSameTokens<T: Tokenizer>(_ original: T, _ restored: T, path: String, file: StaticString = #filePath, line: UInt = #line) throws {
  XCTAssertEqual(original.configuration, restored.configuration, file: file, line: line)
  var rng = SeededRNG(seed: 1)
  let before = try original.tokenize(paths: [path], rng: &rng)
  let after = try restored.tokenize(paths: [path], rng: &rng)
  XCTAssertEqual(before.tokens.shape, after.tokens.shape, file: file, line: line)
  XCTAssertEqual(before.tokens.values, after.tokens.values, file: file, line: line)
  XCTAssertEqual(before.mask?.values, after.mask?.values, file: file, line: line)
}
