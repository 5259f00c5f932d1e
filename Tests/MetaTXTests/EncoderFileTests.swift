import Foundation
import MetaTX
import TestSupport
import XCTest

/// Broken encoder files get one clear error naming the file and the problem.
final class EncoderFileTests: XCTestCase {
  private func officialTensors(depth: Int = 1, dim: Int = 8, hidden: Int = 16) -> [(String, [Int])] {
    (0..<depth).flatMap { i in
      [("norm1.weight", [dim]), ("norm1.bias", [dim]), ("attn.qkv.weight", [3 * dim, dim]),
       ("attn.qkv.bias", [3 * dim]), ("attn.proj.weight", [dim, dim]), ("attn.proj.bias", [dim]),
       ("norm2.weight", [dim]), ("norm2.bias", [dim]), ("mlp.fc1.weight", [hidden, dim]),
       ("mlp.fc1.bias", [hidden]), ("mlp.fc2.weight", [dim, hidden]), ("mlp.fc2.bias", [dim])]
        .map { ("\(i).\($0.0)", $0.1) }
    }
  }

  private func file(
    _ tensors: [(String, [Int])], metadata: [String: String] = [:], value: Float = 0.01
  ) throws -> SafeTensorsFile {
    var writer = SafeTensorsWriter()
    for (name, shape) in tensors {
      writer.add(name, shape: shape, floats: [Float](repeating: value, count: shape.reduce(1, *)))
    }
    return try SafeTensorsFile(data: writer.serialized(metadata: metadata), name: "enc.safetensors")
  }

  private func assertRefused(_ file: SafeTensorsFile, heads: Int? = nil, _ phrase: String, line: UInt = #line) {
    XCTAssertThrowsError(try Encoder.load(from: file, heads: heads), line: line) { error in
      let text = "\(error)"
      XCTAssertTrue(text.hasPrefix("enc.safetensors: "), text, line: line)
      XCTAssertTrue(text.contains(phrase), "expected «\(phrase)» in «\(text)»", line: line)
    }
  }

  func testDepthDimHiddenAndHeadsAreInferred() throws {
    let encoder = try Encoder.load(from: try file(officialTensors(depth: 3, dim: 128, hidden: 96)))
    XCTAssertEqual(encoder.config, EncoderConfig(dim: 128, depth: 3, heads: 2, mlpHidden: 96))
    let withHeads = try Encoder.load(from: try file(officialTensors(), metadata: ["heads": "4", "eps": "1e-6"]))
    XCTAssertEqual(withHeads.config.heads, 4)
    XCTAssertEqual(withHeads.config.eps, 1e-6)
    XCTAssertEqual(try Encoder.load(from: try file(officialTensors()), heads: 2).config.heads, 2)
  }

  func testBrokenEncoderFilesAreRefused() throws {
    var missing = officialTensors()
    missing.removeAll { $0.0 == "0.attn.proj.bias" }
    assertRefused(try file(missing), "missing tensor 0.attn.proj.bias")
    var misshapen = officialTensors()
    misshapen[misshapen.firstIndex { $0.0 == "0.mlp.fc2.weight" }!].1 = [8, 15]
    assertRefused(try file(misshapen), "tensor 0.mlp.fc2.weight has shape [8, 15], expected [8, 16]")
    assertRefused(try file(officialTensors() + [("head.weight", [2, 8])]), "not part of a 1-block encoder")
    assertRefused(try file([("weights", [3])]), "no encoder blocks found")
    assertRefused(try file(officialTensors(), metadata: ["heads": "three"]), "metadata heads \"three\"")
    assertRefused(try file(officialTensors(), metadata: ["heads": "3"]), "dim 8 is not divisible by 3 heads")
    assertRefused(try file(officialTensors(), value: .nan), "holds NaN or infinite values")
  }
}
