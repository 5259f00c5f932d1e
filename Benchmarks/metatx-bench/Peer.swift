import Foundation
import MetaTX

/// One line of `Scripts/bench_torch.py --json`.
struct PeerRecord: Decodable {
  let preset: String
  let batch: Int
  let kind: String
  let secondsMedian: Double
  let sequencesPerSecond: Double
  let impl: String
  let torch: String
}

/// The PyTorch peer's results so far, and why any are missing.
struct PeerResults {
  var records: [PeerRecord] = []
  /// Why the peer did not run or failed (the first reason), or nil.
  var skipped: String?

  /// The peer's record for `measurement`, if it timed the same thing.
  func record(for measurement: Measurement) -> PeerRecord? {
    records.first {
      $0.preset == measurement.preset.rawValue && $0.batch == measurement.batch
        && $0.kind == measurement.kind.rawValue
    }
  }
}

/// A reason the peer gives no figures.
struct PeerSkipped: Error {
  let reason: String
}

/// The package root, two folders above this file (`Benchmarks/metatx-bench/`).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .deletingLastPathComponent().deletingLastPathComponent()

/// The Python to run the peer with, or why there is none.
func peerPython(_ choice: PeerChoice) -> Result<String, PeerSkipped> {
  switch choice {
  case .none:
    return .failure(PeerSkipped(reason: "--no-peer"))
  case .python(let path):
    return .success(path)
  case .automatic:
    if let path = ProcessInfo.processInfo.environment["METATX_PEER_PYTHON"], !path.isEmpty {
      return .success(path)
    }
    let venv = packageRoot.appendingPathComponent(".venv-bench/bin/python").path
    if FileManager.default.isExecutableFile(atPath: venv) { return .success(venv) }
    return .failure(
      PeerSkipped(reason: "no --peer, $METATX_PEER_PYTHON or .venv-bench/bin/python"))
  }
}

/// Runs `Scripts/bench_torch.py` with `python` on the presets, batches and
/// workloads of `measurements` (one preset's, so that the peer runs right after
/// metatx and meets the same machine load), with the same threads and repeats,
/// and parses its JSON lines.
func runPeer(
  python: String, measurements: [Measurement], threads: Int, repeats: Int, tokens: Int
) -> Result<[PeerRecord], PeerSkipped> {
  func list<T: Hashable>(_ values: [T]) -> String {
    var seen = Set<T>()
    return values.filter { seen.insert($0).inserted }.map { "\($0)" }.joined(separator: ",")
  }
  let forward = measurements.filter { $0.kind == .forward }
  let training = measurements.filter { $0.kind == .trainStep }
  let script = packageRoot.appendingPathComponent("Scripts/bench_torch.py").path
  var arguments = [
    script, "--json", "--tokens", "\(tokens)", "--threads", "\(threads)",
    "--repeats", "\(repeats)", "--warmup", "1",
    "--presets", list(forward.map(\.preset.rawValue)),
    "--batches", list(forward.map(\.batch)),
    "--train-presets", list(training.map(\.preset.rawValue)),
  ]
  if let batch = training.first?.batch { arguments += ["--train-batch", "\(batch)"] }

  let process = Process()
  // A bare name is looked up on PATH, as a shell would.
  if python.contains("/") {
    process.executableURL = URL(fileURLWithPath: python)
  } else {
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    arguments.insert(python, at: 0)
  }
  process.arguments = arguments
  let output = Pipe()
  process.standardOutput = output
  // The peer's warnings and tracebacks go straight to our stderr.
  process.standardError = FileHandle.standardError
  do {
    try process.run()
  } catch {
    return .failure(PeerSkipped(reason: "could not start \(python): \(error.localizedDescription)"))
  }
  let data = output.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  guard process.terminationStatus == 0 else {
    return .failure(
      PeerSkipped(reason: "\(python) \(script) exited with status \(process.terminationStatus)"))
  }
  let decoder = JSONDecoder()
  decoder.keyDecodingStrategy = .convertFromSnakeCase
  var records: [PeerRecord] = []
  for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where line.hasPrefix("{") {
    do {
      records.append(try decoder.decode(PeerRecord.self, from: Data(line.utf8)))
    } catch {
      return .failure(PeerSkipped(reason: "unreadable peer line '\(line.prefix(80))': \(error)"))
    }
  }
  return records.isEmpty
    ? .failure(PeerSkipped(reason: "the peer printed no measurements")) : .success(records)
}
