import Foundation
import Kernels
import MetaTX
import Readers
import TestSupport
import XCTest

/// train-head → eval → predict on small generated data, through the binary.
final class TaskCommandTests: XCTestCase {
  private var folder: URL!
  override func setUpWithError() throws { folder = try makeTemporaryFolder() }
  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }
  private func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

  /// Two Gaussian blobs in 3 features plus a categorical column; label a/b.
  private func writeTable(_ name: String, rows: Int, seed: UInt64) throws -> String {
    var rng = SeededRNG(seed: seed)
    var lines = ["x1,x2,x3,colour,label"]
    for index in 0..<rows {
      let label = index % 2
      let centre: Float = label == 0 ? -1 : 1
      let values = (0..<3).map { _ in centre + rng.normal(mean: 0, std: 0.6) }
      let colour = ["red", "green", "blue"][Int(rng.next() % 3)]
      lines.append(values.map { "\($0)" }.joined(separator: ",") + ",\(colour),\(label == 0 ? "a" : "b")")
    }
    try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path(name)))
    return path(name)
  }

  private func writeSmallEncoder() throws -> String {
    var rng = SeededRNG(seed: 9)
    let encoder = Encoder(config: EncoderConfig(dim: 16, depth: 1, heads: 2), rng: &rng)
    try encoder.write(to: path("encoder.safetensors"))
    return path("encoder.safetensors")
  }

  func testTrainEvalPredictOnATable() throws {
    let train = try writeTable("train.csv", rows: 80, seed: 1)
    let test = try writeTable("test.csv", rows: 40, seed: 2)
    let encoder = try writeSmallEncoder()
    let task = path("task.safetensors")
    let trained = try runMetatx(["train-head", "--modality", "tabular", "--train", train, "--val", test,
      "--encoder", encoder, "--epochs", "8", "--batch-size", "16", "--lr", "1e-2", "--pool", "cls",
      "--log", path("log.jsonl"), "--seed", "3", "-o", task])
    XCTAssertEqual(trained.status, 0, trained.standardError)
    XCTAssertTrue(trained.outputText.isEmpty, "messages go to stderr")
    XCTAssertTrue(FileManager.default.fileExists(atPath: task))
    let log = try String(contentsOfFile: path("log.jsonl"), encoding: .utf8).split(separator: "\n")
    XCTAssertEqual(log.count, 8)
    XCTAssertTrue(log[0].contains("\"trainLoss\""))

    let evaluated = try runMetatx(["eval", "--model", task, "--data", test, "--json"])
    XCTAssertEqual(evaluated.status, 0, evaluated.standardError)
    let report = try JSONSerialization.jsonObject(with: evaluated.standardOutput) as! [String: Any]
    XCTAssertGreaterThan(report["accuracy"] as! Double, 0.85, "separable blobs")
    XCTAssertEqual((report["confusionMatrix"] as! [[Int]]).count, 2)
    let table = try runMetatx(["eval", "--model", task, "--data", test])
    XCTAssertTrue(table.outputText.contains("accuracy"), table.outputText)

    let predicted = try runMetatx(["predict", "--model", task, test, "--top-k", "2"])
    XCTAssertEqual(predicted.status, 0, predicted.standardError)
    let lines = predicted.outputText.split(separator: "\n")
    XCTAssertEqual(lines.count, 40, "one line per row, in order")
    XCTAssertTrue(lines[0].hasPrefix("\(test)#1\t"), String(lines[0]))
    XCTAssertEqual(lines[0].split(separator: "\t").count, 5, "id, then two label/probability pairs")

    // The same seed gives the same weights (the record's timings differ).
    let again = path("again.safetensors")
    _ = try runMetatx(["train-head", "--modality", "tabular", "--train", train, "--val", test, "--encoder", encoder,
      "--epochs", "8", "--batch-size", "16", "--lr", "1e-2", "--pool", "cls", "--seed", "3", "-o", again])
    let first = try SafeTensorsFile(path: task), second = try SafeTensorsFile(path: again)
    XCTAssertEqual(first.names, second.names)
    for name in first.names { XCTAssertEqual(try first.floats(name), try second.floats(name), name) }

    let ridge = try runMetatx(["train-head", "--modality", "tabular", "--train", train, "--encoder", encoder,
      "--head", "ridge", "-o", path("ridge.safetensors")])
    XCTAssertEqual(ridge.status, 0, ridge.standardError)
  }

  func testBadRowsStopOrAreSkippedAndCounted() throws {
    let encoder = try writeSmallEncoder()
    // Six good series and a last row (row 8, the header being row 1) naming a missing file.
    let manifest = path("series.csv")
    var lines = ["path,label"]
    for index in 0..<6 {
      let series = path("s\(index).npy")
      try NPYArray(shape: [32], values: (0..<32).map { Float($0 % (index % 2 == 0 ? 4 : 8)) }).write(to: series)
      lines.append("s\(index).npy,\(index % 2 == 0 ? "short" : "long")")
    }
    lines.append("missing.npy,short")
    try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: manifest))
    let stopped = try runMetatx(["train-head", "--modality", "timeseries", "--train", manifest, "--encoder", encoder,
      "--epochs", "1", "-o", path("t.safetensors")])
    XCTAssertNotEqual(stopped.status, 0)
    XCTAssertTrue(stopped.standardError.contains("series.csv: row 8"), stopped.standardError)
    XCTAssertFalse(FileManager.default.fileExists(atPath: path("t.safetensors")), "no task file after an error")
    let skipped = try runMetatx(["train-head", "--modality", "timeseries", "--train", manifest, "--encoder", encoder,
      "--epochs", "1", "--skip-bad", "-o", path("t.safetensors")])
    XCTAssertEqual(skipped.status, 0, skipped.standardError)
    XCTAssertTrue(skipped.standardError.contains("skipped 1 bad row"), skipped.standardError)
    let noModel = try runMetatx(["eval", "--model", path("absent.safetensors"), "--data", manifest])
    XCTAssertNotEqual(noModel.status, 0)
    XCTAssertTrue(noModel.standardError.contains("absent.safetensors: cannot open"), noModel.standardError)
  }

  func testEmbedWritesOneEmbeddingPerInputInOrderInEveryFormat() throws {
    let encoder = try writeSmallEncoder()
    let captions = path("captions.txt")
    try Data("a photo of a cat\na photo of a dog\n".utf8).write(to: URL(fileURLWithPath: captions))
    let jsonl = try runMetatx(["embed", "--encoder", encoder, "--normalize", captions])
    XCTAssertEqual(jsonl.status, 0, jsonl.standardError)
    let lines = jsonl.outputText.split(separator: "\n")
    XCTAssertEqual(lines.count, 2)
    let first = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as! [String: Any]
    XCTAssertEqual(first["id"] as? String, "\(captions)#1")
    let vector = (first["embedding"] as! [Double])
    XCTAssertEqual(vector.count, 16)
    XCTAssertEqual(vector.reduce(0) { $0 + $1 * $1 }, 1, accuracy: 1e-4, "--normalize gives unit vectors")

    let manifest = path("texts.csv")
    try Data("text\n\"a cat, sitting\"\na dog\nthe sea\n".utf8).write(to: URL(fileURLWithPath: manifest))
    let npyPath = path("texts.npy")
    let npy = try runMetatx(["embed", "--encoder", encoder, "--modality", "text", "--data", manifest, "-o", npyPath])
    XCTAssertEqual(npy.status, 0, npy.standardError)
    XCTAssertEqual(try NPYArray.read(path: npyPath).shape, [3, 16])
    let sidecar = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path("texts.json")))) as! [String: Any]
    XCTAssertEqual((sidecar["ids"] as! [String]).count, 3)
    XCTAssertEqual((sidecar["settings"] as! [String: String])["pooling"], "mean")

    let csv = try runMetatx(["embed", "--encoder", encoder, "--format", "csv", "--modality", "text", "-"],
      input: Data("hello\nworld\n".utf8))
    XCTAssertEqual(csv.status, 0, csv.standardError)
    let rows = csv.outputText.split(separator: "\n")
    XCTAssertEqual(rows.count, 3, "header and two rows")
    XCTAssertTrue(rows[0].hasPrefix("id,e0,e1"))
    XCTAssertEqual(rows[1].split(separator: ",").count, 17)

    let failed = try runMetatx(["embed", "--encoder", encoder, "--modality", "text", path("absent.txt"), "-o", path("out.jsonl")])
    XCTAssertNotEqual(failed.status, 0)
    XCTAssertFalse(FileManager.default.fileExists(atPath: path("out.jsonl")), "no partial output")
  }

  /// A run stopped after epoch 2 (as Ctrl-C would stop it) and resumed ends
  /// with the same task-file tensors as a run never stopped; its log holds every epoch.
  func testAStoppedRunResumesToTheUninterruptedRunsWeights() throws {
    let train = try writeTable("train.csv", rows: 48, seed: 4), val = try writeTable("val.csv", rows: 16, seed: 5)
    let encoder = try writeSmallEncoder()
    func trainHead(_ output: String, epochs: Int = 4, _ extra: [String] = []) throws -> CommandResult {
      try runMetatx(["train-head", "--modality", "tabular", "--train", train, "--val", val, "--encoder", encoder,
        "--epochs", String(epochs), "--batch-size", "16", "--lr", "1e-2", "--pool", "cls", "--tune-encoder",
        "--seed", "3", "-o", output] + extra)
    }
    let straight = path("straight.safetensors")
    let uninterrupted = try trainHead(straight)
    XCTAssertEqual(uninterrupted.status, 0, uninterrupted.standardError)
    XCTAssertFalse(FileManager.default.fileExists(atPath: straight + ".checkpoint"), "removed after a complete run")

    let task = path("task.safetensors"), checkpoint = task + ".checkpoint", log = path("log.jsonl")
    let stopped = try trainHead(task, ["--stop-after-epoch", "2", "--log", log])
    XCTAssertEqual(stopped.status, 130, stopped.standardError)
    XCTAssertTrue(stopped.standardError.contains("\(checkpoint) holds epoch 2"), stopped.standardError)
    XCTAssertTrue(stopped.standardError.contains("--resume"), stopped.standardError)
    XCTAssertNoThrow(try TaskFile.load(path: task), "the best epoch so far is a complete task file")
    let fresh = try trainHead(task)
    XCTAssertNotEqual(fresh.status, 0, "a checkpoint is not overwritten without --resume")
    XCTAssertTrue(fresh.standardError.contains("\(checkpoint): a stopped run's checkpoint"), fresh.standardError)
    let otherOptions = try trainHead(task, epochs: 5, ["--resume"])
    XCTAssertNotEqual(otherOptions.status, 0)
    XCTAssertTrue(otherOptions.standardError.contains("options.epochs: 4 in the checkpoint, 5 now"), otherOptions.standardError)

    let resumed = try trainHead(task, ["--resume", "--log", log])
    XCTAssertEqual(resumed.status, 0, resumed.standardError)
    XCTAssertFalse(FileManager.default.fileExists(atPath: checkpoint))
    let epochs = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map {
      try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])["epoch"] as? Int
    }
    XCTAssertEqual(epochs, [1, 2, 3, 4])
    let first = try SafeTensorsFile(path: straight), second = try SafeTensorsFile(path: task)
    XCTAssertEqual(first.names, second.names)
    for name in first.names { XCTAssertEqual(try first.floats(name), try second.floats(name), name) }
  }

  /// Ctrl-C (SIGINT) stops the run at a step: exit status 130, a message
  /// naming the checkpoint, and whole files (no temporary ones left).
  func testCtrlCStopsWithWholeFilesAndStatus130() throws {
    let train = try writeTable("train.csv", rows: 32, seed: 6)
    let encoder = try writeSmallEncoder()
    let task = path("task.safetensors"), checkpoint = task + ".checkpoint"
    let run = try interruptAtFirstCheckpoint(["train-head", "--modality", "tabular", "--train", train, "--encoder", encoder,
      "--epochs", "100000", "--batch-size", "8", "--pool", "cls", "-o", task], checkpoint: checkpoint)
    XCTAssertTrue(run.wasRunningAtCheckpoint, "still training when the first checkpoint appears")
    let message = run.standardError
    guard let status = run.status else { return XCTFail("Ctrl-C did not stop the run: \(message)") }
    XCTAssertEqual(status, 130, message)
    XCTAssertTrue(message.contains("\(checkpoint) holds epoch"), message)
    XCTAssertEqual(try SafeTensorsFile(path: checkpoint).metadata["format"], TrainingCheckpoint.format)
    XCTAssertNoThrow(try TaskFile.load(path: task))
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.contains(".tmp-") }
    XCTAssertEqual(leftovers, [], "no temporary files left")
  }
}
