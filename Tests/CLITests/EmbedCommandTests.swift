import Foundation
import Kernels
import Readers
import TestSupport
import XCTest

/// End-to-end runs of the built `metatx` binary: outputs, messages, exit codes.
final class EmbedCommandTests: XCTestCase {
  private var folder: URL!

  override func setUpWithError() throws {
    folder = try makeTemporaryFolder()
  }

  override func tearDownWithError() throws {
    try? FileManager.default.removeItem(at: folder)
  }

  private func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

  private func writeTokens(_ name: String, shape: [Int], seed: UInt64 = 1, poison: Float? = nil) throws -> String {
    var rng = SeededRNG(seed: seed)
    var values = (0..<shape.reduce(1, *)).map { _ in Float(rng.normal()) }
    if let poison { values[values.count / 2] = poison }
    try NPYArray(shape: shape, values: values).write(to: path(name))
    return path(name)
  }

  func testVersionAndHelp() throws {
    let version = try runMetatx(["--version"])
    XCTAssertEqual(version.status, 0)
    XCTAssertTrue(version.outputText.contains("0.1"), version.outputText)
    let help = try runMetatx(["embed", "--help"])
    XCTAssertEqual(help.status, 0)
    for option in ["--encoder", "--pool", "--threads", "--seed", "--quiet", "--verbose"] {
      XCTAssertTrue(help.outputText.contains(option), "embed --help lacks \(option)")
    }
  }

  func testEmbedPoolsTokensWithARandomPresetAndIsDeterministic() throws {
    let input = try writeTokens("tokens.npy", shape: [3, 7, 192])
    for pooling in ["mean", "cls", "max", "cls+mean", "none"] {
      let result = try runMetatx(["embed", "--encoder", "random:tiny", "--seed", "5", "--pool", pooling,
        "--threads", "1", input, "-o", path("out-\(pooling).npy")])
      XCTAssertEqual(result.status, 0, result.standardError)
      XCTAssertTrue(result.outputText.isEmpty, "data went to the file, not stdout")
      let output = try NPYArray.read(path: path("out-\(pooling).npy"))
      let expected: [Int] = switch pooling {
      case "none": [3, 7, 192]
      case "cls+mean": [3, 384]
      default: [3, 192]
      }
      XCTAssertEqual(output.shape, expected, pooling)
      XCTAssertTrue(output.values.allSatisfy(\.isFinite))
    }
    // Same seed, same numbers; another seed, another encoder.
    let again = try runMetatx(["embed", "--encoder", "random:tiny", "--seed", "5", input, "-o", path("again.npy")])
    XCTAssertEqual(again.status, 0)
    XCTAssertEqual(try NPYArray.read(path: path("again.npy")), try NPYArray.read(path: path("out-mean.npy")))
    _ = try runMetatx(["embed", "--encoder", "random:tiny", "--seed", "6", input, "-o", path("other.npy")])
    XCTAssertNotEqual(try NPYArray.read(path: path("other.npy")), try NPYArray.read(path: path("out-mean.npy")))
  }

  func testEmbedReadsStdinWritesStdoutAndLoadsAnEncoderFile() throws {
    let encoderPath = path("encoder.safetensors")
    let fixture = try openFixture("encoder_d64_l2_h4.safetensors")
    var writer = SafeTensorsWriter()
    for name in fixture.names where name.first!.isNumber {
      writer.add(name, shape: fixture.info(name)!.shape, floats: try fixture.floats(name))
    }
    try writer.write(to: encoderPath, metadata: ["heads": "4"])
    let input = try writeTokens("single.npy", shape: [5, 64])
    let result = try runMetatx(["embed", "--modality", "tokens", "--encoder", encoderPath, "--pool", "none", "-"],
      input: try Data(contentsOf: URL(fileURLWithPath: input)))
    XCTAssertEqual(result.status, 0, result.standardError)
    let output = try NPYArray.read(data: result.standardOutput, name: "stdout")
    XCTAssertEqual(output.shape, [5, 64])
  }

  func testBadInputsFailWithOneLineNamingTheFileAndWriteNothing() throws {
    let nan = try writeTokens("nan.npy", shape: [4, 192], poison: .nan)
    let wide = try writeTokens("wide.npy", shape: [4, 100])
    let flat = try writeTokens("flat.npy", shape: [192])
    let corrupt = path("corrupt.npy")
    try Data("not an npy file".utf8).write(to: URL(fileURLWithPath: corrupt))
    let cases: [(arguments: [String], phrase: String)] = [
      (["--encoder", "random:tiny", nan], "nan.npy: value at [2, 0] is nan"),
      (["--encoder", "random:tiny", wide], "wide.npy: tokens have width 100"),
      (["--encoder", "random:tiny", flat], "flat.npy: token array has shape [192]"),
      (["--encoder", "random:tiny", corrupt], "corrupt.npy:"),
      (["--encoder", "random:huge", flat], "unknown preset \"huge\""),
      (["--encoder", path("missing.safetensors"), flat], "missing.safetensors: cannot open"),
      (["--encoder", "random:tiny", path("absent.npy")], "absent.npy: cannot open"),
      (["--encoder", "random:tiny", "--threads", "0", flat], "--threads must be at least 1"),
    ]
    for (arguments, phrase) in cases {
      let result = try runMetatx(["embed"] + arguments + ["-o", path("out.npy")])
      XCTAssertNotEqual(result.status, 0, arguments.joined(separator: " "))
      XCTAssertTrue(result.standardError.contains(phrase), "expected «\(phrase)» in «\(result.standardError)»")
      XCTAssertFalse(FileManager.default.fileExists(atPath: path("out.npy")), "no output after an error")
    }
  }
}
