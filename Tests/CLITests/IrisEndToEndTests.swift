import Foundation
import Readers
import TestSupport
import XCTest

/// A real dataset end to end through the binary and the built-in default
/// model: iris (Tests/CLITests/Fixtures/iris) through train-head → eval →
/// predict → embed, as a user's script would run it.
final class IrisEndToEndTests: XCTestCase {
  private var folder: URL!
  override func setUpWithError() throws { folder = try makeTemporaryFolder() }
  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }
  private func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

  private func fixture(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/iris/\(name)").path
  }

  private let species = Set(["setosa", "versicolor", "virginica"])

  func testIrisTrainEvalPredictEmbedOnTheDefaultModel() throws {
    // The settings of `make accuracy` for tabular data (measured there: 0.933 on this test split).
    let task = path("iris.task")
    let trained = try runMetatx(["train-head", "--modality", "tabular", "--train", fixture("train-fit.csv"),
      "--val", fixture("train-val.csv"), "--pool", "cls+mean", "--epochs", "30", "--patience", "8",
      "--batch-size", "16", "--seed", "0", "--log", path("epochs.jsonl"), "-o", task])
    XCTAssertEqual(trained.status, 0, trained.standardError)
    XCTAssertTrue(trained.outputText.isEmpty, "messages go to standard error")
    let taskFile = try SafeTensorsFile(path: task)
    XCTAssertFalse(taskFile.names.contains { $0.hasPrefix("encoder.") }, "the frozen default encoder is named, not copied")
    let reference = try XCTUnwrap(taskFile.metadata["encoder_reference"])
    XCTAssertTrue(reference.contains("\"isBuiltInDefault\":true") && reference.contains("default.safetensors"), reference)
    XCTAssertFalse(FileManager.default.fileExists(atPath: task + ".checkpoint"), "a completed run removes its checkpoint")
    let epochs = try String(contentsOfFile: path("epochs.jsonl"), encoding: .utf8).split(separator: "\n")
    XCTAssertTrue((9...30).contains(epochs.count), "30 epochs or an early stop after 8 without improvement: \(epochs.count)")

    let evaluated = try runMetatx(["eval", "--model", task, "--data", fixture("test.csv"), "--json"])
    XCTAssertEqual(evaluated.status, 0, evaluated.standardError)
    let report = try XCTUnwrap(JSONSerialization.jsonObject(with: evaluated.standardOutput) as? [String: Any])
    let accuracy = try XCTUnwrap(report["accuracy"] as? Double)
    XCTAssertGreaterThanOrEqual(accuracy, 0.9, "45 test flowers, three classes (chance 0.33)")
    let confusion = try XCTUnwrap(report["confusionMatrix"] as? [[Int]])
    XCTAssertEqual(confusion.flatMap { $0 }.reduce(0, +), 45)

    let predicted = try runMetatx(["predict", "--model", task, fixture("test.csv"), "--json"])
    XCTAssertEqual(predicted.status, 0, predicted.standardError)
    let predictions = predicted.outputText.split(separator: "\n").map {
      try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
    }
    XCTAssertEqual(predictions.count, 45, "one line per row")
    let truth = try String(contentsOfFile: fixture("test.csv"), encoding: .utf8).split(separator: "\n").dropFirst()
      .map { String($0.split(separator: ",").last!) }
    var correct = 0
    for (index, prediction) in predictions.enumerated() {
      let top = try XCTUnwrap(prediction?["top"] as? [[String: Any]], "line \(index + 1)")
      let label = try XCTUnwrap(top.first?["label"] as? String, "line \(index + 1)")
      XCTAssertTrue(species.contains(label), label)
      XCTAssertEqual(prediction?["id"] as? String, "\(fixture("test.csv"))#\(index + 1)", "input order")
      if label == truth[index] { correct += 1 }
    }
    XCTAssertEqual(Double(correct) / 45, accuracy, accuracy: 1e-9, "predict and eval agree")

    // The task's trained tabular tokenizer gives the embeddings: one per row, of the encoder's width.
    let embedded = try runMetatx(["embed", "--model", task, "--modality", "tabular", "--pool", "cls+mean",
      fixture("test.csv"), "--format", "tsv"])
    XCTAssertEqual(embedded.status, 0, embedded.standardError)
    let rows = embedded.outputText.split(separator: "\n")
    XCTAssertEqual(rows.count, 1 + 45, "a header, then one row per flower")
    XCTAssertEqual(rows[0].split(separator: "\t").count, 1 + 2 * 192, "id, then cls+mean of the tiny encoder")
    XCTAssertTrue(rows[1].hasPrefix("\(fixture("test.csv"))#1\t"), String(rows[1].prefix(80)))
    XCTAssertTrue(rows[1].split(separator: "\t").dropFirst().allSatisfy { Float($0)?.isFinite == true })
  }

  /// A ridge probe named by reference and one holding a copy of the encoder predict the same.
  func testEmbeddedAndReferencedEncodersPredictAlike() throws {
    let referenced = path("referenced.task"), embedded = path("embedded.task")
    for (output, extra) in [(referenced, [String]()), (embedded, ["--embed-encoder"])] {
      let trained = try runMetatx(["train-head", "--modality", "tabular", "--train", fixture("train.csv"),
        "--head", "ridge", "--pool", "cls+mean", "-o", output] + extra)
      XCTAssertEqual(trained.status, 0, trained.standardError)
    }
    XCTAssertTrue(try SafeTensorsFile(path: embedded).names.contains("encoder.0.attn.qkv.weight"))
    let sizes = try [referenced, embedded].map { try FileManager.default.attributesOfItem(atPath: $0)[.size] as! Int }
    XCTAssertLessThan(sizes[0] * 10, sizes[1], "the reference saves the encoder's megabytes: \(sizes)")
    let outputs = try [referenced, embedded].map { task in
      try runMetatx(["predict", "--model", task, fixture("test.csv")]).outputText
    }
    XCTAssertFalse(outputs[0].isEmpty)
    XCTAssertEqual(outputs[0], outputs[1])
  }
}
