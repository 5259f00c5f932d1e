import Foundation

/// Row-wise and elementwise kernels of the transformer, on row-major buffers.
///
/// The fast versions are written as simple pointer loops over `FastMath` so the
/// compiler vectorises them, and split rows over `Threads` workers. Each has a
/// plain twin (`naive…`, Double accumulation, Foundation math) for the tests.
public enum Elementwise {
  /// Rows per worker chunk below which splitting costs more than it saves.
  private static let minimumParallelElements = 32_768

  private static func parallelRows(
    _ rows: Int, columns: Int, _ body: (Range<Int>) -> Void
  ) {
    let minimumRows = max(1, minimumParallelElements / max(1, columns))
    Threads.parallelRanges(rows, minimumChunk: minimumRows, body)
  }

  // MARK: Softmax

  /// In-place softmax of each row of `x` `[rows, columns]`.
  ///
  /// With `keyMask` (`[rows / rowsPerMaskRow, columns]`, 1 = keep, 0 = masked),
  /// masked columns get probability exactly 0. A row with every column masked
  /// becomes all zeros (callers reject sequences with no real token).
  public static func softmaxRows(
    _ x: UnsafeMutablePointer<Float>, rows: Int, columns: Int,
    keyMask: UnsafePointer<Float>? = nil, rowsPerMaskRow: Int = 1
  ) {
    parallelRows(rows, columns: columns) { range in
      for row in range {
        let values = x + row * columns
        let mask = keyMask.map { $0 + (row / rowsPerMaskRow) * columns }
        let maximum = Reduce.maximum(values, count: columns, keeping: mask)
        if maximum == -.infinity {
          values.update(repeating: 0, count: columns)
          continue
        }
        // Separate passes, each without a loop-carried dependence, so each vectorises.
        for column in 0..<columns { values[column] = FastMath.exp(values[column] - maximum) }
        if let mask {
          for column in 0..<columns { values[column] = mask[column] != 0 ? values[column] : 0 }
        }
        let inverse = 1 / Reduce.sum(values, count: columns)
        for column in 0..<columns { values[column] *= inverse }
      }
    }
  }

  /// The plain twin of `softmaxRows`.
  public static func naiveSoftmaxRows(
    _ x: UnsafeMutablePointer<Float>, rows: Int, columns: Int,
    keyMask: UnsafePointer<Float>? = nil, rowsPerMaskRow: Int = 1
  ) {
    for row in 0..<rows {
      let values = x + row * columns
      let mask = keyMask.map { $0 + (row / rowsPerMaskRow) * columns }
      let kept = (0..<columns).filter { mask == nil || mask![$0] != 0 }
      guard let maximum = kept.map({ Double(values[$0]) }).max() else {
        values.update(repeating: 0, count: columns)
        continue
      }
      let sum = kept.reduce(0.0) { $0 + Foundation.exp(Double(values[$1]) - maximum) }
      for column in 0..<columns {
        let keep = mask == nil || mask![column] != 0
        values[column] = keep ? Float(Foundation.exp(Double(values[column]) - maximum) / sum) : 0
      }
    }
  }

  /// Softmax backward, in place: `dx = p ∘ (dp − Σ_j dp_j p_j)` per row, where
  /// `p` is the forward output. `gradient` holds `dp` on entry, `dx` on return.
  public static func softmaxRowsBackward(
    _ gradient: UnsafeMutablePointer<Float>, probabilities: UnsafePointer<Float>,
    rows: Int, columns: Int
  ) {
    parallelRows(rows, columns: columns) { range in
      for row in range {
        let g = gradient + row * columns
        let p = probabilities + row * columns
        let weighted = Reduce.dot(g, p, count: columns)
        for column in 0..<columns { g[column] = p[column] * (g[column] - weighted) }
      }
    }
  }

  /// The plain twin of `softmaxRowsBackward`.
  public static func naiveSoftmaxRowsBackward(
    _ gradient: UnsafeMutablePointer<Float>, probabilities: UnsafePointer<Float>,
    rows: Int, columns: Int
  ) {
    for row in 0..<rows {
      let g = gradient + row * columns
      let p = probabilities + row * columns
      var weighted = 0.0
      for column in 0..<columns { weighted += Double(g[column]) * Double(p[column]) }
      for column in 0..<columns {
        g[column] = Float(Double(p[column]) * (Double(g[column]) - weighted))
      }
    }
  }

  // MARK: LayerNorm

  /// LayerNorm over the last dimension: `out = (x − μ) / √(σ² + eps) · w + b`,
  /// σ² the biased variance (PyTorch `nn.LayerNorm`).
  ///
  /// - Parameters:
  ///   - output, input: `[rows, channels]`.
  ///   - mean, rstd: `[rows]`, saved for backward (`rstd = 1/√(σ² + eps)`).
  ///   - weight, bias: `[channels]`.
  public static func layerNormForward(
    output: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>,
    rstd: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
    weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
    rows: Int, channels: Int, eps: Float
  ) {
    parallelRows(rows, columns: channels) { range in
      for row in range {
        let x = input + row * channels
        let y = output + row * channels
        let mu = Reduce.sum(x, count: channels) / Float(channels)
        let squares = Reduce.squaredDeviation(x, from: mu, count: channels)
        let inverseDeviation = 1 / (squares / Float(channels) + eps).squareRoot()
        for c in 0..<channels { y[c] = (x[c] - mu) * inverseDeviation * weight[c] + bias[c] }
        mean[row] = mu
        rstd[row] = inverseDeviation
      }
    }
  }

  /// The plain twin of `layerNormForward`.
  public static func naiveLayerNormForward(
    output: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>,
    rstd: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
    weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
    rows: Int, channels: Int, eps: Float
  ) {
    for row in 0..<rows {
      let x = (0..<channels).map { Double(input[row * channels + $0]) }
      let mu = x.reduce(0, +) / Double(channels)
      let variance = x.reduce(0) { $0 + ($1 - mu) * ($1 - mu) } / Double(channels)
      let inverseDeviation = 1 / (variance + Double(eps)).squareRoot()
      for c in 0..<channels {
        output[row * channels + c] = Float(
          (x[c] - mu) * inverseDeviation * Double(weight[c]) + Double(bias[c]))
      }
      mean[row] = Float(mu)
      rstd[row] = Float(inverseDeviation)
    }
  }

  /// LayerNorm backward; accumulates into `dInput`, `dWeight`, `dBias`
  /// (`dWeight`/`dBias` may be nil when the parameters are frozen).
  ///
  /// With `n̂ = (x − μ)·rstd` and `g = dy ∘ w`:
  /// `dx += rstd · (g − mean(g) − n̂ · mean(g ∘ n̂))`, `dw += Σ_rows dy ∘ n̂`, `db += Σ_rows dy`.
  public static func layerNormBackward(
    dInput: UnsafeMutablePointer<Float>, dWeight: UnsafeMutablePointer<Float>?,
    dBias: UnsafeMutablePointer<Float>?, dOutput: UnsafePointer<Float>,
    input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, rows: Int, channels: Int
  ) {
    parallelRows(rows, columns: channels) { range in
      for row in range {
        let x = input + row * channels
        let dy = dOutput + row * channels
        let dx = dInput + row * channels
        let mu = mean[row]
        let inverseDeviation = rstd[row]
        // Σ g n̂ = rstd · Σ g (x − μ)
        let meanG = Reduce.dot(dy, weight, count: channels) / Float(channels)
        let meanGN =
          inverseDeviation * Reduce.centredProduct(dy, weight, x, centre: mu, count: channels)
          / Float(channels)
        for c in 0..<channels {
          let normalised = (x[c] - mu) * inverseDeviation
          let g = dy[c] * weight[c]
          dx[c] += inverseDeviation * (g - meanG - normalised * meanGN)
        }
      }
    }
    guard let dWeight, let dBias else { return }
    // Parameter gradients sum over rows: split the channels instead, so each
    // worker owns its slice of dWeight/dBias and no reduction is needed.
    Threads.parallelRanges(channels, minimumChunk: max(1, channels / Threads.count)) { slice in
      for row in 0..<rows {
        let x = input + row * channels
        let dy = dOutput + row * channels
        let mu = mean[row]
        let inverseDeviation = rstd[row]
        for c in slice {
          dWeight[c] += dy[c] * (x[c] - mu) * inverseDeviation
          dBias[c] += dy[c]
        }
      }
    }
  }

  /// The plain twin of `layerNormBackward`, from the definition in Double.
  public static func naiveLayerNormBackward(
    dInput: UnsafeMutablePointer<Float>, dWeight: UnsafeMutablePointer<Float>?,
    dBias: UnsafeMutablePointer<Float>?, dOutput: UnsafePointer<Float>,
    input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, rows: Int, channels: Int
  ) {
    let n = Double(channels)
    for row in 0..<rows {
      let base = row * channels
      let normalised = (0..<channels).map {
        (Double(input[base + $0]) - Double(mean[row])) * Double(rstd[row])
      }
      let g = (0..<channels).map { Double(dOutput[base + $0]) * Double(weight[$0]) }
      let meanG = g.reduce(0, +) / n
      let meanGN = zip(g, normalised).reduce(0) { $0 + $1.0 * $1.1 } / n
      for c in 0..<channels {
        dInput[base + c] += Float(Double(rstd[row]) * (g[c] - meanG - normalised[c] * meanGN))
        dWeight?[c] += Float(Double(dOutput[base + c]) * normalised[c])
        dBias?[c] += dOutput[base + c]
      }
    }
  }

  // MARK: GELU (exact, erf form)

  /// `out = x · Φ(x) = 0.5 · x · (1 + erf(x / √2))` over `count` elements.
  public static func geluForward(
    output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, count: Int
  ) {
    Threads.parallelRanges(count, minimumChunk: minimumParallelElements) { range in
      for index in range {
        let x = input[index]
        output[index] = 0.5 * x * (1 + FastMath.erf(x * 0.707_106_78))
      }
    }
  }

  /// The plain twin of `geluForward`.
  public static func naiveGeluForward(
    output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, count: Int
  ) {
    for index in 0..<count {
      let x = Double(input[index])
      output[index] = Float(0.5 * x * (1 + Foundation.erf(x / 2.0.squareRoot())))
    }
  }

  /// GELU backward: `dx += dy · (Φ(x) + x · φ(x))`, φ the standard normal density;
  /// with `accumulate: false`, `dx` is overwritten instead (the caller then
  /// needs no zero-fill pass first).
  public static func geluBackward(
    dInput: UnsafeMutablePointer<Float>, dOutput: UnsafePointer<Float>,
    input: UnsafePointer<Float>, count: Int, accumulate: Bool = true
  ) {
    @inline(__always) func derivative(_ x: Float) -> Float {
      let cdf = 0.5 * (1 + FastMath.erf(x * 0.707_106_78))
      let density = 0.398_942_28 * FastMath.exp(-0.5 * x * x)
      return cdf + x * density
    }
    Threads.parallelRanges(count, minimumChunk: minimumParallelElements) { range in
      if accumulate {
        for index in range { dInput[index] += dOutput[index] * derivative(input[index]) }
      } else {
        for index in range { dInput[index] = dOutput[index] * derivative(input[index]) }
      }
    }
  }

  /// The plain twin of `geluBackward`.
  public static func naiveGeluBackward(
    dInput: UnsafeMutablePointer<Float>, dOutput: UnsafePointer<Float>,
    input: UnsafePointer<Float>, count: Int, accumulate: Bool = true
  ) {
    for index in 0..<count {
      let x = Double(input[index])
      let cdf = 0.5 * (1 + Foundation.erf(x / 2.0.squareRoot()))
      let density = Foundation.exp(-0.5 * x * x) / (2 * Double.pi).squareRoot()
      let previous = accumulate ? dInput[index] : 0
      dInput[index] = previous + Float(Double(dOutput[index]) * (cdf + x * density))
    }
  }

  // MARK: Simple maps

  /// `x *= factor` over `count` elements.
  public static func scale(_ x: UnsafeMutablePointer<Float>, count: Int, by factor: Float) {
    Threads.parallelRanges(count, minimumChunk: minimumParallelElements) { range in
      for index in range { x[index] *= factor }
    }
  }

  /// `output[r] = x[r] + vector` for every row `r` of `[rows, columns]`
  /// (a bias added onto a skip connection); `output` may alias `x`.
  public static func addRowVector(
    output: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, rows: Int, columns: Int,
    vector: UnsafePointer<Float>
  ) {
    parallelRows(rows, columns: columns) { range in
      for row in range {
        let target = output + row * columns
        let source = x + row * columns
        for column in 0..<columns { target[column] = source[column] + vector[column] }
      }
    }
  }

  /// `output[r] = vector` for every row `r` of `[rows, columns]` (a bias that a
  /// GEMM then adds onto).
  public static func broadcastRows(
    output: UnsafeMutablePointer<Float>, rows: Int, columns: Int, vector: UnsafePointer<Float>
  ) {
    parallelRows(rows, columns: columns) { range in
      for row in range { (output + row * columns).update(from: vector, count: columns) }
    }
  }

  /// Accumulates the column sums of `x` `[rows, columns]` into `sums` `[columns]`
  /// (a bias gradient).
  public static func accumulateColumnSums(
    _ sums: UnsafeMutablePointer<Float>, of x: UnsafePointer<Float>, rows: Int, columns: Int
  ) {
    Threads.parallelRanges(columns, minimumChunk: 64) { slice in
      for row in 0..<rows {
        let values = x + row * columns
        for column in slice { sums[column] += values[column] }
      }
    }
  }
}
