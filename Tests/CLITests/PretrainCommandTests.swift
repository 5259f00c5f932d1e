import Foundation
import Kernels
import MetaTX
import Readers
import TestSupport
import XCTest

/// `metatx pretrain` on a generated pair manifest, then `embed` of both
/// modalities into the one shared space.
final class PretrainCommandTests: XCTestCase {
  private var folder: URL!
  override func setUpWithError() throws { folder = try makeTemporaryFolder() }
  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }
  private func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

  func testPretrainWritesAModelWhoseEmbeddingsShareOneSpace() throws {
    var rng = SeededRNG(seed: 1)
    var rows = ["timeseries,hyperspectral,split"]
    for index in 0..<24 {
      let z = (0..<3).map { _ in Float(rng.normal()) }
      let series = (0..<32).map { t in z[0] * sin(Float(t) / 4) + z[1] * sin(Float(t) / 2) + z[2] }
      let spectrum = (0..<16).map { b in z[0] * cos(Float(b) / 4) + z[1] - z[2] * Float(b) / 16 }
      try NPYArray(shape: [32], values: series).write(to: path("s\(index).npy"))
      try NPYArray(shape: [1, 16], values: spectrum).write(to: path("h\(index).npy"))
      rows.append("s\(index).npy,h\(index).npy,\(index < 18 ? "train" : "val")")
    }
    try Data((rows.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path("pairs.csv")))
    var encoderRng = SeededRNG(seed: 2)
    try Encoder(config: EncoderConfig(dim: 16, depth: 1, heads: 2), rng: &encoderRng).write(to: path("init.safetensors"))

    let model = path("model.safetensors")
    let trained = try runMetatx(["pretrain", "--pairs", path("pairs.csv"), "--init", path("init.safetensors"),
      "--embed-dim", "8", "--epochs", "3", "--batch-size", "6", "--lr", "1e-3", "--warmup", "2",
      "--log", path("log.jsonl"), "--verbose", "-o", model])
    XCTAssertEqual(trained.status, 0, trained.standardError)
    XCTAssertTrue(trained.standardError.contains("18 timeseries–hyperspectral pairs; validating on 6"), trained.standardError)
    let log = try String(contentsOfFile: path("log.jsonl"), encoding: .utf8).split(separator: "\n")
    XCTAssertEqual(log.count, 3)
    XCTAssertTrue(log[0].contains("validationRecallAt1"), String(log[0]))

    for (modality, file) in [("timeseries", "s0.npy"), ("hyperspectral", "h0.npy")] {
      let embedded = try runMetatx(["embed", "--model", model, "--modality", modality, path(file)])
      XCTAssertEqual(embedded.status, 0, embedded.standardError)
      let line = try JSONSerialization.jsonObject(with: Data(embedded.outputText.split(separator: "\n")[0].utf8)) as! [String: Any]
      let vector = line["embedding"] as! [Double]
      XCTAssertEqual(vector.count, 8, "\(modality) lands in the 8-wide shared space")
      XCTAssertEqual(vector.reduce(0) { $0 + $1 * $1 }, 1, accuracy: 1e-4, "unit length")
    }
    let single = try runMetatx(["pretrain", "--pairs", path("pairs.csv"), "--batch-size", "1", "-o", path("x.safetensors")])
    XCTAssertNotEqual(single.status, 0)
    XCTAssertTrue(single.standardError.contains("--batch-size"), single.standardError)
  }

  func testRetrievalAndZeroShotReports() throws {
    var rows = ["timeseries,text"], zeroShotRows = ["timeseries,label"]
    for index in 0..<12 {
      let square = index % 2 == 1
      let values = (0..<32).map { t -> Float in
        let wave = sin(Float(t) / 3 + Float(index))
        return square ? (wave >= 0 ? 1 : -1) : wave
      }
      try NPYArray(shape: [32], values: values).write(to: path("w\(index).npy"))
      rows.append("w\(index).npy,\"a \(square ? "square" : "sine") wave, number \(index)\"")
      zeroShotRows.append("w\(index).npy,\(square ? "square" : "sine")")
    }
    try Data((rows.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path("pairs.csv")))
    try Data((zeroShotRows.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path("labelled.csv")))
    var encoderRng = SeededRNG(seed: 3)
    try Encoder(config: EncoderConfig(dim: 16, depth: 1, heads: 2), rng: &encoderRng).write(to: path("init.safetensors"))
    let model = path("model.safetensors")
    let trained = try runMetatx(["pretrain", "--pairs", path("pairs.csv"), "--init", path("init.safetensors"),
      "--embed-dim", "8", "--epochs", "2", "--batch-size", "6", "-o", model])
    XCTAssertEqual(trained.status, 0, trained.standardError)

    let retrieval = try runMetatx(["eval", "--model", model, "--retrieval", path("pairs.csv"), "--json"])
    XCTAssertEqual(retrieval.status, 0, retrieval.standardError)
    let report = try JSONSerialization.jsonObject(with: retrieval.standardOutput) as! [String: Any]
    let directions = report["directions"] as! [[String: Any]]
    XCTAssertEqual(directions.count, 2, "both ways")
    XCTAssertNotNil(directions[0]["medianRank"])

    let zeroShot = try runMetatx(["eval", "--model", model, "--zero-shot", path("labelled.csv"),
      "--inputs", "timeseries", "--classes", "a {} wave", "--classes", "the {} signal", "--json"])
    XCTAssertEqual(zeroShot.status, 0, zeroShot.standardError)
    let zeroShotReport = try JSONSerialization.jsonObject(with: zeroShot.standardOutput) as! [String: Any]
    XCTAssertEqual(zeroShotReport["classNames"] as? [String], ["sine", "square"])
    XCTAssertNotNil(zeroShotReport["accuracy"] as? Double)

    let notPretrained = try runMetatx(["eval", "--model", path("init.safetensors"), "--retrieval", path("pairs.csv")])
    XCTAssertNotEqual(notPretrained.status, 0)
    XCTAssertTrue(notPretrained.standardError.contains("init.safetensors:"), notPretrained.standardError)
  }

  /// A run stopped after step 4 (mid-epoch, as Ctrl-C would stop it) and
  /// resumed writes the same model tensors as a run never stopped; its log
  /// holds every step and epoch once; a leftover checkpoint needs --resume.
  func testAStoppedRunResumesToTheUninterruptedRunsModel() throws {
    var rng = SeededRNG(seed: 4)
    var rows = ["timeseries,hyperspectral"]
    for index in 0..<20 {
      let z = (0..<2).map { _ in Float(rng.normal()) }
      try NPYArray(shape: [32], values: (0..<32).map { t in z[0] * sin(Float(t) / 4) + z[1] })
        .write(to: path("s\(index).npy"))
      try NPYArray(shape: [1, 16], values: (0..<16).map { b in z[0] * cos(Float(b) / 4) - z[1] })
        .write(to: path("h\(index).npy"))
      rows.append("s\(index).npy,h\(index).npy")
    }
    try Data((rows.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path("pairs.csv")))
    var encoderRng = SeededRNG(seed: 5)
    try Encoder(config: EncoderConfig(dim: 16, depth: 1, heads: 2), rng: &encoderRng).write(to: path("init.safetensors"))
    func pretrain(_ output: String, epochs: Int = 3, _ extra: [String] = []) throws -> CommandResult {
      try runMetatx(["pretrain", "--pairs", path("pairs.csv"), "--init-from", path("init.safetensors"),
        "--embed-dim", "8", "--epochs", String(epochs), "--batch-size", "6", "--lr", "1e-2", "--warmup", "2",
        "--seed", "3", "-o", output] + extra)
    }
    let straight = path("straight.safetensors")
    let uninterrupted = try pretrain(straight)
    XCTAssertEqual(uninterrupted.status, 0, uninterrupted.standardError)
    XCTAssertFalse(FileManager.default.fileExists(atPath: straight + ".checkpoint"), "removed after a complete run")

    let model = path("model.safetensors"), checkpoint = model + ".checkpoint", log = path("log.jsonl")
    let stopped = try pretrain(model, ["--stop-after-step", "4", "--checkpoint-every", "2", "--log", log,
      "--log-every-step"])
    XCTAssertEqual(stopped.status, 130, stopped.standardError)
    XCTAssertTrue(stopped.standardError.contains("stopped after step 4 of 12; \(checkpoint) holds it"), stopped.standardError)
    XCTAssertTrue(stopped.standardError.contains("--resume"), stopped.standardError)
    XCTAssertFalse(FileManager.default.fileExists(atPath: model), "no model before the run completes")
    XCTAssertEqual(try SafeTensorsFile(path: checkpoint).metadata["format"], PretrainingCheckpoint.format)
    let fresh = try pretrain(model)
    XCTAssertNotEqual(fresh.status, 0, "a checkpoint is not overwritten without --resume")
    XCTAssertTrue(fresh.standardError.contains("\(checkpoint): a stopped run's checkpoint"), fresh.standardError)
    let otherOptions = try pretrain(model, epochs: 4, ["--resume"])
    XCTAssertNotEqual(otherOptions.status, 0)
    XCTAssertTrue(otherOptions.standardError.contains("options.epochs: 3 in the checkpoint, 4 now"), otherOptions.standardError)

    let resumed = try pretrain(model, ["--resume", "--checkpoint-every", "2", "--log", log, "--log-every-step"])
    XCTAssertEqual(resumed.status, 0, resumed.standardError)
    XCTAssertFalse(FileManager.default.fileExists(atPath: checkpoint))
    let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map {
      try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
    }
    XCTAssertEqual(lines.compactMap { $0["step"] as? Int }, Array(1...12), "one line per step")
    XCTAssertEqual(lines.filter { $0["validationRecallAt1"] != nil }.compactMap { $0["epoch"] as? Int }, [1, 2, 3])
    XCTAssertNotNil(lines[0]["logitScale"])
    XCTAssertNotNil(lines[0]["learningRate"])
    XCTAssertNotNil(lines[0]["samplesPerSecond"])
    let first = try SafeTensorsFile(path: straight), second = try SafeTensorsFile(path: model)
    XCTAssertEqual(first.metadata, second.metadata)
    XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: straight)), try Data(contentsOf: URL(fileURLWithPath: model)),
      "two processes write the same model byte for byte (metadata JSON with sorted keys)")
    XCTAssertEqual(first.names, second.names)
    for name in first.names {
      let differing = zip(try first.floats(name), try second.floats(name)).filter { $0.bitPattern != $1.bitPattern }.count
      XCTAssertEqual(differing, 0, "\(name): \(differing) values differ")
    }
  }

  /// Ctrl-C (SIGINT) stops the run at a step: exit status 130, a message
  /// naming the checkpoint, which is whole (no temporary files left).
  func testCtrlCStopsWithACheckpointAndStatus130() throws {
    var rows = ["timeseries,hyperspectral"]
    for index in 0..<8 {
      try NPYArray(shape: [32], values: (0..<32).map { Float($0 % (index + 2)) }).write(to: path("s\(index).npy"))
      try NPYArray(shape: [1, 16], values: (0..<16).map { Float($0 % (index + 3)) }).write(to: path("h\(index).npy"))
      rows.append("s\(index).npy,h\(index).npy")
    }
    try Data((rows.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path("pairs.csv")))
    var encoderRng = SeededRNG(seed: 6)
    try Encoder(config: EncoderConfig(dim: 16, depth: 1, heads: 2), rng: &encoderRng).write(to: path("init.safetensors"))
    let model = path("model.safetensors"), checkpoint = model + ".checkpoint"
    let run = try interruptAtFirstCheckpoint(["pretrain", "--pairs", path("pairs.csv"), "--init-from", path("init.safetensors"),
      "--embed-dim", "8", "--epochs", "100000", "--batch-size", "4", "-o", model], checkpoint: checkpoint)
    XCTAssertTrue(run.wasRunningAtCheckpoint, "still training when the first checkpoint appears")
    let message = run.standardError
    guard let status = run.status else { return XCTFail("Ctrl-C did not stop the run: \(message)") }
    XCTAssertEqual(status, 130, message)
    XCTAssertTrue(message.contains("\(checkpoint) holds it: run the same command with --resume"), message)
    let file = try SafeTensorsFile(path: checkpoint)
    XCTAssertEqual(file.metadata["format"], PretrainingCheckpoint.format)
    let json = try XCTUnwrap(file.metadata["checkpoint"])
    let record = try JSONDecoder().decode(PretrainingCheckpoint.Record.self, from: Data(json.utf8))
    XCTAssertTrue(message.contains("stopped after step \(record.step) of"), "the checkpoint holds the last complete step")
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.contains(".tmp-") }
    XCTAssertEqual(leftovers, [], "no temporary files left")
  }
}
