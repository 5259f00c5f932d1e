// metatx-bench: throughput of the shared encoder against the GEMM limit and
// the PyTorch peer, all measured in one run (`make bench`; `--help` for flags).
import Foundation
import Kernels
import MetaTX

func printError(_ text: String) {
  FileHandle.standardError.write(Data((text + "\n").utf8))
}

let options: BenchOptions
do {
  options = try BenchOptions.parse(Array(CommandLine.arguments.dropFirst()))
} catch let error as UsageError {
  if let message = error.message {
    printError("metatx-bench: \(message)\n\n\(BenchOptions.usage)")
    exit(2)
  }
  print(BenchOptions.usage)
  exit(0)
}

Threads.configure(options.threads)
let tokens = BenchOptions.tokens

let python = peerPython(options.peer)
var peer = PeerResults()
if case .failure(let skipped) = python { peer.skipped = skipped.reason }
var measurements: [Measurement] = []
for preset in options.presets {
  var rng = SeededRNG(seed: 0)
  let encoder = Encoder(config: preset.config, rng: &rng)
  var presetMeasurements: [Measurement] = []
  for batch in BenchOptions.forwardBatches {
    printError("measuring \(preset.rawValue) forward, batch \(batch)…")
    presetMeasurements.append(
      measureForward(preset, encoder: encoder, batch: batch, tokens: tokens, repeats: options.repeats))
  }
  if BenchOptions.trainingPresets.contains(preset) {
    printError("measuring \(preset.rawValue) training step, batch \(BenchOptions.trainingBatch)…")
    presetMeasurements.append(
      measureTrainingStep(
        preset, encoder: encoder, batch: BenchOptions.trainingBatch, tokens: tokens,
        repeats: options.repeats))
  }
  measurements += presetMeasurements
  if case .success(let path) = python, peer.skipped == nil {
    printError("running the PyTorch peer on \(preset.rawValue)…")
    switch runPeer(
      python: path, measurements: presetMeasurements, threads: Threads.count,
      repeats: options.repeats, tokens: tokens)
    {
    case .success(let records): peer.records += records
    case .failure(let skipped): peer.skipped = skipped.reason
    }
  }
}

if options.json {
  if let reason = peer.skipped { printError("peer skipped: \(reason)") }
  for measurement in measurements {
    let record = peer.record(for: measurement)
    let object: [String: Any] = [
      "preset": measurement.preset.rawValue,
      "kind": measurement.kind.rawValue,
      "batch": measurement.batch,
      "tokens": tokens,
      "threads": Threads.count,
      "repeats": options.repeats,
      "seconds_median": measurement.seconds,
      "sequences_per_second": measurement.sequencesPerSecond,
      "gflops": measurement.gflops,
      "gemm_limit_gflops": measurement.limitGflops,
      "percent_of_limit": measurement.percentOfLimit,
      "peer_impl": record.map { "\($0.impl), torch \($0.torch)" } ?? NSNull(),
      "peer_sequences_per_second": record?.sequencesPerSecond ?? NSNull(),
      "peer_percent_of_limit": record.map {
        100 * measurement.flops / $0.secondsMedian / 1e9 / measurement.limitGflops
      } ?? NSNull(),
      "ratio_to_peer": record.map { measurement.sequencesPerSecond / $0.sequencesPerSecond }
        ?? NSNull(),
    ]
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
  }
} else {
  print(
    "metatx-bench: \(Threads.count) threads, \(tokens) tokens, median of \(options.repeats) "
      + "after 1 warm-up")
  print(
    "GEMM limit: OpenBLAS sgemm over the preset's own Linear products (qkv, proj, fc1, fc2; "
      + "training adds dX and dW), rows = batch × \(tokens), timed alternately with each row.")
  if let first = peer.records.first {
    print(
      "peer: PyTorch \(first.torch), \(first.impl), Scripts/bench_torch.py after each preset "
        + "in the same run")
  }
  if let reason = peer.skipped { print("peer: skipped (\(reason))") }
  print()
  let header = [
    pad("preset", 7, left: true), pad("kind", 11, left: true), pad("batch", 5),
    pad("seq/s", 9), pad("GFLOP/s", 9), pad("limit", 9), pad("% limit", 8), " |",
    pad("torch seq/s", 12), pad("torch %", 8), pad("metatx/torch", 13),
  ].joined(separator: " ")
  print(header)
  print(String(repeating: "-", count: header.count))
  for measurement in measurements {
    var cells = [
      pad(measurement.preset.rawValue, 7, left: true),
      pad(measurement.kind.rawValue, 11, left: true),
      pad("\(measurement.batch)", 5),
      pad(fixed(measurement.sequencesPerSecond, 2), 9),
      pad(fixed(measurement.gflops, 1), 9),
      pad(fixed(measurement.limitGflops, 1), 9),
      pad(fixed(measurement.percentOfLimit, 1), 8),
      " |",
    ]
    if let record = peer.record(for: measurement) {
      let torchPercent =
        100 * measurement.flops / record.secondsMedian / 1e9 / measurement.limitGflops
      cells += [
        pad(fixed(record.sequencesPerSecond, 2), 12), pad(fixed(torchPercent, 1), 8),
        pad(fixed(measurement.sequencesPerSecond / record.sequencesPerSecond, 2) + "×", 13),
      ]
    } else {
      cells += [pad("—", 12), pad("—", 8), pad("—", 13)]
    }
    print(cells.joined(separator: " "))
  }
  print()
  print(
    "GFLOP/s counts matmuls only: 2 × forwardMultiplyAccumulates(tokens: \(tokens)) × batch "
      + "per forward, 3× that per training step.")
  print(
    "'% limit' is the median over repeats of metatx's rate over the limit run beside it; "
      + "'torch %' divides torch's median rate by the median 'limit'.")
}

func fixed(_ value: Double, _ decimals: Int) -> String {
  String(format: "%.\(decimals)f", value)
}

func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
  let padding = String(repeating: " ", count: max(0, width - text.count))
  return left ? text + padding : padding + text
}
