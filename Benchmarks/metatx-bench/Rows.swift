import MetaTX

/// One row of the table: a preset, workload and batch measured in every round,
/// with the peer's figure from the same round where it ran.
struct BenchRow {
  let preset: EncoderPreset
  let kind: WorkloadKind
  let batch: Int
  private(set) var measurements: [Measurement] = []
  /// metatx's rate over the peer's, one per round in which the peer ran.
  private(set) var ratios: [Double] = []
  private var peerRates: [Double] = []
  private var peerPercents: [Double] = []

  init(first measurement: Measurement) {
    preset = measurement.preset
    kind = measurement.kind
    batch = measurement.batch
  }

  mutating func add(_ measurement: Measurement, peer record: PeerRecord?) {
    precondition(
      measurement.preset == preset && measurement.kind == kind && measurement.batch == batch,
      "rounds must measure the same rows in the same order")
    measurements.append(measurement)
    guard let record else { return }
    ratios.append(measurement.sequencesPerSecond / record.sequencesPerSecond)
    peerRates.append(record.sequencesPerSecond)
    peerPercents.append(100 * measurement.flops / record.secondsMedian / 1e9 / measurement.limitGflops)
  }

  var rounds: Int { measurements.count }
  var seconds: Double { median(measurements.map(\.seconds)) }
  var sequencesPerSecond: Double { median(measurements.map(\.sequencesPerSecond)) }
  var gflops: Double { median(measurements.map(\.gflops)) }
  var limitGflops: Double { median(measurements.map(\.limitGflops)) }
  var percentOfLimit: Double { median(measurements.map(\.percentOfLimit)) }
  var peerSequencesPerSecond: Double? { peerRates.isEmpty ? nil : median(peerRates) }
  var peerPercentOfLimit: Double? { peerPercents.isEmpty ? nil : median(peerPercents) }
  var ratioToPeer: Double? { ratios.isEmpty ? nil : median(ratios) }
}
