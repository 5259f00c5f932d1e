import Foundation
import Readers
import TestSupport
import XCTest

/// End-to-end runs of `metatx tokenize` (and `embed` on a tokenized modality).
final class TokenizeCommandTests: XCTestCase {
  private var folder: URL!

  override func setUpWithError() throws { folder = try makeTemporaryFolder() }
  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

  private func write(_ name: String, _ text: String) throws -> String {
    let path = folder.appendingPathComponent(name).path
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    return path
  }

  func testTextPrintsCLIPIdsAndPiecesPerLineAndJSON() throws {
    let input = try write("captions.txt", "A photo of a cat\n\nhello world\n")
    let result = try runMetatx(["tokenize", input])
    XCTAssertEqual(result.status, 0, result.standardError)
    let lines = result.outputText.split(separator: "\n").map(String.init)
    XCTAssertEqual(lines.count, 2, "one line per non-empty input line")
    XCTAssertEqual(lines[0], "49406 320 1125 539 320 2368 49407\t<start_of_text> a</w> photo</w> of</w> a</w> cat</w> <end_of_text>")
    let json = try runMetatx(["tokenize", "--json", input])
    let first = try JSONSerialization.jsonObject(with: Data(json.outputText.split(separator: "\n")[0].utf8)) as! [String: Any]
    XCTAssertEqual(first["ids"] as? [Int], [49406, 320, 1125, 539, 320, 2368, 49407])
    XCTAssertEqual(first["line"] as? Int, 1)
    // Standard input works too.
    let piped = try runMetatx(["tokenize", "--modality", "text", "-"], input: Data("a photo of a cat\n".utf8))
    XCTAssertEqual(piped.outputText.split(separator: "\t").first, "49406 320 1125 539 320 2368 49407")
  }

  func testTrainedBPEIsWrittenAndUsed() throws {
    let corpus = try write("corpus.txt", String(repeating: "the cat sat on the mat with the hat\n", count: 20))
    let merges = folder.appendingPathComponent("merges.txt").path
    let trained = try runMetatx(["tokenize", "--train-bpe", corpus, "--vocab-size", "530", "-o", merges])
    XCTAssertEqual(trained.status, 0, trained.standardError)
    let mergeLines = try String(contentsOfFile: merges, encoding: .utf8).split(separator: "\n")
    XCTAssertEqual(mergeLines.first, "#version: metatx-bpe 1")
    // At most 530 − 514 merges; this small corpus runs out of pairs sooner.
    XCTAssertTrue((2...17).contains(mergeLines.count), "\(mergeLines.count) lines")
    XCTAssertTrue(trained.standardError.contains("learned \(mergeLines.count - 1) merges"), trained.standardError)
    let input = try write("line.txt", "the cat\n")
    let result = try runMetatx(["tokenize", "--bpe", merges, input])
    XCTAssertEqual(result.status, 0, result.standardError)
    XCTAssertTrue(result.outputText.contains("the</w> cat</w>"), result.outputText)
    let bad = try write("bad-merges.txt", "#version: 1\nzz qq extra\n")
    let refused = try runMetatx(["tokenize", "--bpe", bad, input])
    XCTAssertNotEqual(refused.status, 0)
    XCTAssertTrue(refused.standardError.contains("bad-merges.txt: merge 1"), refused.standardError)
  }

  func testTableTokensAreWrittenWithShapeAndBadCSVFails() throws {
    let table = try write("table.csv", "x,y,colour,label\n1,10,red,0\n2,11,blue,1\n3,12,red,0\n4,13,green,1\n5,14,red,1\n6,15,blue,0\n")
    let output = folder.appendingPathComponent("tokens.npy").path
    let result = try runMetatx(["tokenize", table, "--dim", "8", "-o", output])
    XCTAssertEqual(result.status, 0, result.standardError)
    XCTAssertTrue(result.outputText.contains("samples 6\ttokens 4\tshape [4, 8]"), result.outputText)
    XCTAssertEqual(try NPYArray.read(path: output).shape, [6, 4, 8])
    let raw = try runMetatx(["tokenize", table, "--raw"])
    XCTAssertEqual(raw.status, 0, raw.standardError)
    let bad = try write("bad.csv", "x,y\n1,2\n3,oops\n")
    let failed = try runMetatx(["tokenize", "--modality", "timeseries", bad])
    XCTAssertNotEqual(failed.status, 0)
    XCTAssertTrue(failed.standardError.contains("bad.csv:"), failed.standardError)
    XCTAssertEqual(failed.standardError.split(separator: "\n").count, 1, "one line: \(failed.standardError)")
  }

  func testEmbedRunsAPointCloudThroughTokenizerAndEncoder() throws {
    var lines: [String] = []
    for i in 0..<200 {
      let t = Double(i) * 0.37, p = Double(i) * 0.11
      lines.append("\(cos(t) * sin(p)) \(sin(t) * sin(p)) \(cos(p))")
    }
    let cloud = try write("sphere.xyz", lines.joined(separator: "\n"))
    let output = folder.appendingPathComponent("embedding.npy").path
    let result = try runMetatx(["embed", "--encoder", "random:tiny", "--pool", "cls", cloud, "-o", output])
    XCTAssertEqual(result.status, 0, result.standardError)
    XCTAssertTrue(result.standardError.contains("untrained"), "says the tokenizer is untrained")
    let embedding = try NPYArray.read(path: output)
    XCTAssertEqual(embedding.shape, [1, 192])
    XCTAssertTrue(embedding.values.allSatisfy(\.isFinite))
  }
}
