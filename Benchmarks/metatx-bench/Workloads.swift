import Dispatch
import Kernels
import MetaTX

/// What one row of the benchmark times.
enum WorkloadKind: String {
  /// `Encoder.forward(keepActivations: false)`.
  case forward
  /// Forward with activations, backward, `AdamW.update`, `zeroGradients`.
  case trainStep = "train_step"
}

/// One measurement: a preset, a workload and a batch, with its GEMM limit.
struct Measurement {
  let preset: EncoderPreset
  let kind: WorkloadKind
  let batch: Int
  /// Median wall time of one workload run.
  let seconds: Double
  /// Matmul FLOPs of one run (3× the forward's for a training step).
  let flops: Double
  /// Median rate of the encoder's own Linear products through `Linalg.gemm`.
  let limitGflops: Double
  /// Median over repeats of this repeat's rate over the limit run beside it:
  /// steadier than the ratio of the two medians when the machine's load changes.
  let percentOfLimit: Double

  var sequencesPerSecond: Double { Double(batch) / seconds }
  var gflops: Double { flops / seconds / 1e9 }
}

/// Monotonic wall-clock seconds.
func wallSeconds() -> Double {
  Double(DispatchTime.now().uptimeNanoseconds) / 1e9
}

func median(_ values: [Double]) -> Double {
  let sorted = values.sorted()
  let middle = sorted.count / 2
  return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/// Times `workload` and `limit` alternately, one warm-up each then `repeats`
/// timed runs of each. Alternating exposes each pair to the same load on a
/// shared machine, so the ratio within a pair is steadier than either time.
///
/// - Returns: the median times, and the median over pairs of
///   `limit time / workload time` (the workload's rate as a fraction of the
///   limit's, when both are scaled by their FLOPs).
func timeAlternating(repeats: Int, workload: () -> Void, limit: () -> Void) -> (
  workload: Double, limit: Double, pairedRatio: Double
) {
  workload()
  limit()
  var workloadTimes: [Double] = []
  var limitTimes: [Double] = []
  for _ in 0..<repeats {
    var start = wallSeconds()
    workload()
    workloadTimes.append(wallSeconds() - start)
    start = wallSeconds()
    limit()
    limitTimes.append(wallSeconds() - start)
  }
  let ratios = zip(limitTimes, workloadTimes).map { $0 / $1 }
  return (median(workloadTimes), median(limitTimes), median(ratios))
}

/// The encoder's Linear products (qkv, proj, fc1, fc2 of every block) for
/// `rows = batch × tokens`, run back to back as OpenBLAS sgemm calls with
/// OpenBLAS's own threads on the encoder's own weights: the rate the encoder
/// would reach if it were nothing but these GEMMs, as OpenBLAS runs them.
/// (metatx splits its GEMMs over its own workers instead, which can beat it.)
///
/// For training each Linear also runs its two backward products, `dX = dY·W`
/// and `dW += dYᵀ·X`, in the order the backward pass meets them.
struct GemmLimit {
  let encoder: Encoder
  let rows: Int
  let training: Bool
  /// `[rows, max(3D, hidden)]` operands, large enough for every product's A and C.
  private let input: Tensor
  private let output: Tensor
  private let outputGradient: Tensor
  /// `[max(3D, hidden) · D]` stands in for every weight gradient, so the encoder's own stay untouched.
  private let weightGradient: Tensor

  init(encoder: Encoder, rows: Int, training: Bool) {
    self.encoder = encoder
    self.rows = rows
    self.training = training
    let width = max(3 * encoder.config.dim, encoder.config.mlpHidden)
    var rng = SeededRNG(seed: 1)
    input = Tensor(shape: [rows, width])
    output = Tensor(shape: [rows, width])
    outputGradient = Tensor(shape: [rows, width])
    weightGradient = Tensor(shape: [width * encoder.config.dim])
    rng.fillUniform(input, -1, 1)
    rng.fillUniform(outputGradient, -1, 1)
  }

  private var linears: [Linear] {
    encoder.blocks.flatMap { [$0.attention.qkv, $0.attention.proj, $0.fc1, $0.fc2] }
  }

  /// FLOPs of one `run()`.
  var flops: Double {
    let perPass = linears.reduce(0) { $0 + 2 * rows * $1.inputs * $1.outputs }
    return Double(training ? 3 * perPass : perPass)
  }

  func run() {
    for linear in linears {
      Linalg.gemm(
        .none, .transposed, m: rows, n: linear.outputs, k: linear.inputs, a: input.data,
        lda: linear.inputs, b: linear.weight.value, ldb: linear.inputs, beta: 0,
        c: output.data, ldc: linear.outputs, threading: .openBLAS)
    }
    guard training else { return }
    for linear in linears.reversed() {
      Linalg.gemm(
        .none, .none, m: rows, n: linear.inputs, k: linear.outputs, a: outputGradient.data,
        lda: linear.outputs, b: linear.weight.value, ldb: linear.inputs, beta: 0,
        c: output.data, ldc: linear.inputs, threading: .openBLAS)
      Linalg.gemm(
        .transposed, .none, m: linear.outputs, n: linear.inputs, k: rows,
        a: outputGradient.data, lda: linear.outputs, b: input.data, ldb: linear.inputs,
        beta: 1, c: weightGradient.data, ldc: linear.inputs, threading: .openBLAS)
    }
  }
}

/// Measures the forward pass of `encoder` at `batch`.
func measureForward(
  _ preset: EncoderPreset, encoder: Encoder, batch: Int, tokens: Int, repeats: Int
) -> Measurement {
  var rng = SeededRNG(seed: 2)
  let input = Tensor(shape: [batch, tokens, encoder.config.dim])
  rng.fillNormal(input, std: 1)
  let limit = GemmLimit(encoder: encoder, rows: batch * tokens, training: false)
  let times = timeAlternating(
    repeats: repeats,
    workload: { _ = encoder.forward(input.data, batch: batch, tokens: tokens, keepActivations: false) },
    limit: limit.run)
  let flops = 2 * Double(encoder.config.forwardMultiplyAccumulates(tokens: tokens) * batch)
  return Measurement(
    preset: preset, kind: .forward, batch: batch, seconds: times.workload, flops: flops,
    limitGflops: limit.flops / times.limit / 1e9,
    percentOfLimit: 100 * times.pairedRatio * flops / limit.flops)
}

/// Measures one training step of `encoder` at `batch`: forward keeping
/// activations, backward of the loss `Σ y ∘ dy`, AdamW update, zero gradients.
func measureTrainingStep(
  _ preset: EncoderPreset, encoder: Encoder, batch: Int, tokens: Int, repeats: Int
) -> Measurement {
  var rng = SeededRNG(seed: 3)
  let input = Tensor(shape: [batch, tokens, encoder.config.dim])
  let dOutput = Tensor(shape: input.shape)
  rng.fillNormal(input, std: 1)
  rng.fillNormal(dOutput, std: 1)
  let optimiser = AdamW(groups: [ParameterGroup(encoder.parameters)])
  let limit = GemmLimit(encoder: encoder, rows: batch * tokens, training: true)
  let times = timeAlternating(
    repeats: repeats,
    workload: {
      _ = encoder.forward(input.data, batch: batch, tokens: tokens, keepActivations: true)
      _ = encoder.backward(dOutput.data)
      optimiser.update(learningRate: 1e-4)
      encoder.parameters.zeroGradients()
    },
    limit: limit.run)
  let flops = 3 * 2 * Double(encoder.config.forwardMultiplyAccumulates(tokens: tokens) * batch)
  return Measurement(
    preset: preset, kind: .trainStep, batch: batch, seconds: times.workload, flops: flops,
    limitGflops: limit.flops / times.limit / 1e9,
    percentOfLimit: 100 * times.pairedRatio * flops / limit.flops)
}
