import Foundation
import Readers
import TestSupport
import XCTest

/// train-head on the default model (which has a text tokenizer) with --bpe:
/// refused unless --fresh-tokenizers asks for a new tokenizer, which then uses
/// the given merges.
final class FreshTokenizerTests: XCTestCase {
  private var folder: URL!
  override func setUpWithError() throws { folder = try makeTemporaryFolder() }
  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }
  private func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

  func testBPEWithAModelTokenizerNeedsFreshTokenizers() throws {
    try Data(String(repeating: "the cat sat on the mat\nthe dog ran in the fog\n", count: 10).utf8)
      .write(to: URL(fileURLWithPath: path("corpus.txt")))
    let trained = try runMetatx(["tokenize", "--train-bpe", path("corpus.txt"), "--vocab-size", "530", "-o", path("merges.txt")])
    XCTAssertEqual(trained.status, 0, trained.standardError)
    let merges = try String(contentsOfFile: path("merges.txt"), encoding: .utf8).split(separator: "\n").count - 1

    var rows = ["text,label"]
    for index in 0..<12 { rows.append(index % 2 == 0 ? "the cat sat \(index),cat" : "the dog ran \(index),dog") }
    try Data((rows.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path("train.csv")))
    let common = ["train-head", "--modality", "text", "--train", path("train.csv"), "--epochs", "1", "--batch-size", "4",
      "--bpe", path("merges.txt"), "--threads", "1"]

    let refused = try runMetatx(common + ["-o", path("refused.task")])
    XCTAssertNotEqual(refused.status, 0)
    XCTAssertTrue(refused.standardError.contains("brings its own text tokenizer, which --bpe would not change"), refused.standardError)
    XCTAssertTrue(refused.standardError.contains("--fresh-tokenizers"), refused.standardError)
    XCTAssertFalse(FileManager.default.fileExists(atPath: path("refused.task")))

    let fresh = try runMetatx(common + ["--fresh-tokenizers", "-o", path("fresh.task")])
    XCTAssertEqual(fresh.status, 0, fresh.standardError)
    let task = try SafeTensorsFile(path: path("fresh.task"))
    let embedding = try XCTUnwrap(task.names.first { $0.contains("text") && $0.hasSuffix("embedding") }, "\(task.names)")
    // 514 byte-level and special ids, then one per merge (the default model's own has 673).
    XCTAssertEqual(task.info(embedding)?.shape.first, 514 + merges)
  }
}
