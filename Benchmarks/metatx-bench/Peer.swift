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

/// The PyTorch peer's results, or why there are none.
enum PeerOutcome {
  case measured([PeerRecord])
  case skipped(String)

  /// The peer's record for `measurement`, if it timed the same thing.
  func record(for measurement: Measurement) -> PeerRecord? {
    guard case .measured(let records) = self else { return nil }
    return records.first {
      $0.preset == measurement.preset.rawValue && $0.batch == measurement.batch
        && $0.kind == measurement.kind.rawValue
    }
  }
}

/// The package root, two folders above this file (`Benchmarks/metatx-bench/`).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .deletingLastPathComponent().deletingLastPathComponent()

/// The Python to run the peer with, or why there is none.
func peerPython(_ choice: PeerChoice) -> Result<String, UsageError> {
  switch choice {
  case .none:
    return .failure(UsageError("--no-peer"))
  case .python(let path):
    return .success(path)
  case .automatic:
    if let path = ProcessInfo.processInfo.environment["METATX_PEER_PYTHON"], !path.isEmpty {
      return .success(path)
    }
    let venv = packageRoot.appendingPathComponent(".venv-bench/bin/python").path
    if FileManager.default.isExecutableFile(atPath: venv) { return .success(venv) }
    return .failure(
      UsageError("no --peer, $METATX_PEER_PYTHON or .venv-bench/bin/python"))
  }
}

/// Runs `Scripts/bench_torch.py` with the same presets, batches, threads and
/// repeats as `measurements`, and parses its JSON lines. Never fails the
/// benchmark: any problem becomes a `.skipped` reason.
func runPeer(
  _ choice: PeerChoice, measurements: [Measurement], threads: Int, repeats: Int, tokens: Int
) -> PeerOutcome {
  let python: String
  switch peerPython(choice) {
  case .success(let path): python = path
  case .failure(let reason): return .skipped(reason.message ?? "")
  }
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
    return .skipped("could not start \(python): \(error.localizedDescription)")
  }
  let data = output.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  guard process.terminationStatus == 0 else {
    return .skipped("\(python) \(script) exited with status \(process.terminationStatus)")
  }
  let decoder = JSONDecoder()
  decoder.keyDecodingStrategy = .convertFromSnakeCase
  let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
  var records: [PeerRecord] = []
  for line in lines where line.hasPrefix("{") {
    do {
      records.append(try decoder.decode(PeerRecord.self, from: Data(line.utf8)))
    } catch {
      return .skipped("unreadable peer line '\(line.prefix(80))': \(error)")
    }
  }
  return records.isEmpty ? .skipped("the peer printed no measurements") : .measured(records)
}
