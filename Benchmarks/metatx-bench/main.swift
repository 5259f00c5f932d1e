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
var rows: [BenchRow] = []
for preset in options.presets {
  var rng = SeededRNG(seed: 0)
  let encoder = Encoder(config: preset.config, rng: &rng)
  var presetRows: [BenchRow] = []
  for round in 1...options.rounds {
    let roundNote = options.rounds > 1 ? " (round \(round) of \(options.rounds))" : ""
    var roundMeasurements: [Measurement] = []
    for batch in BenchOptions.forwardBatches {
      printError("measuring \(preset.rawValue) forward, batch \(batch)\(roundNote)…")
      roundMeasurements.append(
        measureForward(preset, encoder: encoder, batch: batch, tokens: tokens, repeats: options.repeats))
    }
    if BenchOptions.trainingPresets.contains(preset) {
      printError("measuring \(preset.rawValue) training step, batch \(BenchOptions.trainingBatch)\(roundNote)…")
      roundMeasurements.append(
        measureTrainingStep(
          preset, encoder: encoder, batch: BenchOptions.trainingBatch, tokens: tokens,
          repeats: options.repeats))
    }
    var roundPeer = PeerResults()
    if case .success(let path) = python, peer.skipped == nil {
      printError("running the PyTorch peer on \(preset.rawValue)\(roundNote)…")
      switch runPeer(
        python: path, measurements: roundMeasurements, threads: Threads.count,
        repeats: options.repeats, tokens: tokens)
      {
      case .success(let records):
        roundPeer.records = records
        if peer.records.isEmpty { peer.records = records }
      case .failure(let skipped): peer.skipped = skipped.reason
      }
    }
    for (index, measurement) in roundMeasurements.enumerated() {
      if round == 1 { presetRows.append(BenchRow(first: measurement)) }
      presetRows[index].add(measurement, peer: roundPeer.record(for: measurement))
    }
  }
  rows += presetRows
}

if options.json {
  if let reason = peer.skipped { printError("peer skipped: \(reason)") }
  for row in rows {
    let object: [String: Any] = [
      "preset": row.preset.rawValue,
      "kind": row.kind.rawValue,
      "batch": row.batch,
      "tokens": tokens,
      "threads": Threads.count,
      "repeats": options.repeats,
      "rounds": row.rounds,
      "seconds_median": row.seconds,
      "sequences_per_second": row.sequencesPerSecond,
      "gflops": row.gflops,
      "gemm_limit_gflops": row.limitGflops,
      "percent_of_limit": row.percentOfLimit,
      "peer_impl": peer.records.first.map { "\($0.impl), torch \($0.torch)" } ?? NSNull(),
      "peer_sequences_per_second": row.peerSequencesPerSecond ?? NSNull(),
      "peer_percent_of_limit": row.peerPercentOfLimit ?? NSNull(),
      "ratio_to_peer": row.ratioToPeer ?? NSNull(),
      "ratio_to_peer_per_round": row.ratios.isEmpty ? NSNull() : row.ratios,
    ]
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
  }
} else {
  print(
    "metatx-bench: \(Threads.count) threads, \(tokens) tokens, median of \(options.repeats) "
      + "after 1 warm-up, \(options.rounds) round(s) per preset")
  print(
    "GEMM limit: OpenBLAS sgemm on OpenBLAS's own threads over the preset's own Linear products "
      + "(qkv, proj, fc1, fc2; training adds dX and dW), rows = batch × \(tokens), timed alternately "
      + "with each row. (metatx splits its GEMMs over its own workers, so it can pass 100 %.)")
  if let first = peer.records.first {
    print(
      "peer: PyTorch \(first.torch), \(first.impl), Scripts/bench_torch.py after metatx in "
        + "each round")
  }
  if let reason = peer.skipped { print("peer: skipped (\(reason))") }
  print()
  let header = [
    pad("preset", 7, left: true), pad("kind", 11, left: true), pad("batch", 5),
    pad("seq/s", 9), pad("GFLOP/s", 9), pad("limit", 9), pad("% limit", 8), " |",
    pad("torch seq/s", 12), pad("torch %", 8), pad("metatx/torch", 13), "  per round",
  ].joined(separator: " ")
  print(header)
  print(String(repeating: "-", count: header.count))
  for row in rows {
    var cells = [
      pad(row.preset.rawValue, 7, left: true),
      pad(row.kind.rawValue, 11, left: true),
      pad("\(row.batch)", 5),
      pad(fixed(row.sequencesPerSecond, 2), 9),
      pad(fixed(row.gflops, 1), 9),
      pad(fixed(row.limitGflops, 1), 9),
      pad(fixed(row.percentOfLimit, 1), 8),
      " |",
    ]
    if let torchRate = row.peerSequencesPerSecond, let torchPercent = row.peerPercentOfLimit,
      let ratio = row.ratioToPeer
    {
      cells += [
        pad(fixed(torchRate, 2), 12), pad(fixed(torchPercent, 1), 8),
        pad(fixed(ratio, 2) + "×", 13),
        "  " + row.ratios.map { fixed($0, 2) }.joined(separator: " "),
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
    "Each figure is the median over rounds; '% limit' is, within a round, the median over "
      + "repeats of metatx's rate over the limit run beside it; 'torch %' divides torch's rate by "
      + "that round's limit; 'metatx/torch' is the median of the rounds' own ratios (listed).")
}

func fixed(_ value: Double, _ decimals: Int) -> String {
  String(format: "%.\(decimals)f", value)
}

func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
  let padding = String(repeating: " ", count: max(0, width - text.count))
  return left ? text + padding : padding + text
}
