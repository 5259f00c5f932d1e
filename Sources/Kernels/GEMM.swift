import CBLAS

/// Whether a matrix operand is used as stored or transposed.
public enum Transpose: Sendable {
  case none
  case transposed

  fileprivate var cblas: CBLAS_TRANSPOSE { self == .none ? CblasNoTrans : CblasTrans }
}

/// Who runs the threads of one GEMM.
public enum GemmThreading: Sendable {
  /// Split by rows of `C` over metatx's worker pool (`Threads`), each block a
  /// single-threaded OpenBLAS call: the default.
  case workers
  /// One OpenBLAS call with OpenBLAS's own threads: the benchmark's reference.
  case openBLAS
}

/// Dense linear algebra on row-major Float32 matrices: the BLAS boundary.
///
/// Every entry point checks shapes and leading dimensions before calling
/// OpenBLAS, so a wrong stride fails loudly here instead of reading out of
/// bounds inside BLAS. Each fast routine has a plain twin (`naive…`) that the
/// tests compare against.
public enum Linalg {
  /// `C = alpha · op(A) · op(B) + beta · C`, row-major.
  ///
  /// - Parameters:
  ///   - m, n, k: `op(A)` is `[m, k]`, `op(B)` is `[k, n]`, `C` is `[m, n]`.
  ///   - lda, ldb, ldc: row strides of the stored matrices (`A` stored `[m, k]`
  ///     when not transposed, `[k, m]` when transposed; likewise `B`).
  ///   - beta: `1` accumulates into `C` (backward passes), `0` overwrites.
  ///   - threading: who runs the threads (default: metatx's workers).
  public static func gemm(
    _ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int, alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, threading: GemmThreading = .workers
  ) {
    checkGemm(transA, transB, m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc)
    guard m > 0, n > 0 else { return }
    if k == 0 {
      scaleMatrix(c, rows: m, columns: n, stride: ldc, by: beta)
      return
    }
    switch threading {
    case .openBLAS:
      Threads.withBlasThreads {
        singleGemm(
          transA, transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
          beta: beta, c: c, ldc: ldc)
      }
    case .workers:
      let blocks = rowBlocks(m: m, n: n, k: k)
      guard blocks > 1 else {
        singleGemm(
          transA, transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
          beta: beta, c: c, ldc: ldc)
        return
      }
      // Rows `first..<end` of op(A) start at row `first` of A, or at its column
      // `first` when A is stored transposed; C's rows likewise.
      Threads.parallelSlices(blocks) { block in
        let first = rowBlockStart(block, of: blocks, rows: m)
        let end = rowBlockStart(block + 1, of: blocks, rows: m)
        singleGemm(
          transA, transB, m: end - first, n: n, k: k, alpha: alpha,
          a: a + (transA == .none ? first * lda : first), lda: lda, b: b, ldb: ldb,
          beta: beta, c: c + first * ldc, ldc: ldc)
      }
    }
  }

  /// A row block must hold more than this many multiply-adds. OpenBLAS (0.3.21,
  /// AVX-512 kernels) runs products of at most 100³ multiply-adds through a
  /// separate small-matrix kernel that rounds differently, so a block below the
  /// line would make results depend on the thread count; above it, each row of C
  /// comes out the same however the rows are split. It is also about where a
  /// second thread starts to pay for the hand-over.
  public static let smallestRowBlock = 1_000_000
  /// Row blocks are multiples of the OpenBLAS micro-kernel's 16 rows (AVX-512),
  /// so no block runs the slower edge kernels more than a single call would.
  public static let rowBlockAlignment = 16

  /// The number of row blocks a GEMM is split into: at most one per thread,
  /// each at least one aligned row group and above `smallestRowBlock`; 1 inside
  /// a parallel region (the caller already spreads the work).
  public static func rowBlocks(m: Int, n: Int, k: Int) -> Int {
    guard Threads.count > 1, !Threads.isInsideParallelRegion else { return 1 }
    var blocks = min(Threads.count, m / rowBlockAlignment)
    while blocks > 1 {
      var smallestRows = m
      for block in 0..<blocks {
        let rows = rowBlockStart(block + 1, of: blocks, rows: m) - rowBlockStart(block, of: blocks, rows: m)
        smallestRows = min(smallestRows, rows)
      }
      if smallestRows * n * k > smallestRowBlock { break }
      blocks -= 1
    }
    return max(1, blocks)
  }

  /// The first row of `block` among `blocks` over `rows` rows: near-equal
  /// blocks, each boundary rounded down to the alignment.
  public static func rowBlockStart(_ block: Int, of blocks: Int, rows: Int) -> Int {
    guard block < blocks else { return rows }
    return rows * block / blocks / rowBlockAlignment * rowBlockAlignment
  }

  private static func singleGemm(
    _ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int, alpha: Float,
    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    cblas_sgemm(
      CblasRowMajor, transA.cblas, transB.cblas, Int32(m), Int32(n), Int32(k), alpha,
      a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
  }

  /// The plain twin of `gemm`: three loops, accumulating in Double.
  public static func naiveGemm(
    _ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int, alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    checkGemm(transA, transB, m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc)
    for row in 0..<m {
      for column in 0..<n {
        var sum = 0.0
        for inner in 0..<k {
          let aValue = transA == .none ? a[row * lda + inner] : a[inner * lda + row]
          let bValue = transB == .none ? b[inner * ldb + column] : b[column * ldb + inner]
          sum += Double(aValue) * Double(bValue)
        }
        let previous = beta == 0 ? 0 : Double(beta) * Double(c[row * ldc + column])
        c[row * ldc + column] = Float(Double(alpha) * sum + previous)
      }
    }
  }

  /// Operand offsets of one product in a batch of GEMMs.
  public struct BatchOffsets: Sendable {
    public var a: Int
    public var b: Int
    public var c: Int
    public init(a: Int, b: Int, c: Int) {
      self.a = a
      self.b = b
      self.c = c
    }
  }

  /// Many small GEMMs of one shape, `C_i = alpha · op(A_i) · op(B_i) + beta · C_i`,
  /// where operand `i` starts at `offsets(i)` elements from `a`, `b`, `c`.
  ///
  /// Attention's per-(batch, head) products are far too small to keep OpenBLAS's
  /// threads busy, so the batch is spread over `Threads` workers instead, each
  /// calling single-threaded BLAS.
  public static func batchedGemm(
    _ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int, alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
    batchCount: Int, offsets: (Int) -> BatchOffsets
  ) {
    Threads.parallelFor(batchCount) { index in
      let offset = offsets(index)
      gemm(
        transA, transB, m: m, n: n, k: k, alpha: alpha, a: a + offset.a, lda: lda,
        b: b + offset.b, ldb: ldb, beta: beta, c: c + offset.c, ldc: ldc)
    }
  }

  /// The plain twin of `batchedGemm`: one `naiveGemm` after another.
  public static func naiveBatchedGemm(
    _ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int, alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
    batchCount: Int, offsets: (Int) -> BatchOffsets
  ) {
    for index in 0..<batchCount {
      let offset = offsets(index)
      naiveGemm(
        transA, transB, m: m, n: n, k: k, alpha: alpha, a: a + offset.a, lda: lda,
        b: b + offset.b, ldb: ldb, beta: beta, c: c + offset.c, ldc: ldc)
    }
  }

  /// `y = alpha · op(A) · x + beta · y` with `A` stored `[rows, columns]`.
  public static func gemv(
    _ trans: Transpose, rows: Int, columns: Int, alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int, x: UnsafePointer<Float>, beta: Float,
    y: UnsafeMutablePointer<Float>
  ) {
    precondition(rows >= 0 && columns >= 0, "gemv: negative size \(rows)×\(columns)")
    precondition(lda >= max(1, columns), "gemv: lda \(lda) < columns \(columns)")
    guard rows > 0, columns > 0 else { return }
    cblas_sgemv(
      CblasRowMajor, trans.cblas, Int32(rows), Int32(columns), alpha, a, Int32(lda), x, 1,
      beta, y, 1)
  }

  /// The plain twin of `gemv`.
  public static func naiveGemv(
    _ trans: Transpose, rows: Int, columns: Int, alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int, x: UnsafePointer<Float>, beta: Float,
    y: UnsafeMutablePointer<Float>
  ) {
    let outputs = trans == .none ? rows : columns
    let inputs = trans == .none ? columns : rows
    for output in 0..<outputs {
      var sum = 0.0
      for input in 0..<inputs {
        let element = trans == .none ? a[output * lda + input] : a[input * lda + output]
        sum += Double(element) * Double(x[input])
      }
      let previous = beta == 0 ? 0 : Double(beta) * Double(y[output])
      y[output] = Float(Double(alpha) * sum + previous)
    }
  }

  /// `y += alpha · x` over `count` elements.
  public static func axpy(
    count: Int, alpha: Float, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>
  ) {
    guard count > 0 else { return }
    cblas_saxpy(Int32(count), alpha, x, 1, y, 1)
  }

  /// The plain twin of `axpy`.
  public static func naiveAxpy(
    count: Int, alpha: Float, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>
  ) {
    for index in 0..<count { y[index] += alpha * x[index] }
  }

  /// `Σ x_i y_i` over `count` elements.
  public static func dot(count: Int, x: UnsafePointer<Float>, y: UnsafePointer<Float>) -> Float {
    guard count > 0 else { return 0 }
    return cblas_sdot(Int32(count), x, 1, y, 1)
  }

  /// The plain twin of `dot`, accumulating in Double.
  public static func naiveDot(count: Int, x: UnsafePointer<Float>, y: UnsafePointer<Float>)
    -> Float
  {
    var sum = 0.0
    for index in 0..<count { sum += Double(x[index]) * Double(y[index]) }
    return Float(sum)
  }

  private static func checkGemm(
    _ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int,
    lda: Int, ldb: Int, ldc: Int
  ) {
    precondition(m >= 0 && n >= 0 && k >= 0, "gemm: negative size m \(m) n \(n) k \(k)")
    let aColumns = transA == .none ? k : m
    let bColumns = transB == .none ? n : k
    precondition(lda >= max(1, aColumns), "gemm: lda \(lda) < \(aColumns) columns of A")
    precondition(ldb >= max(1, bColumns), "gemm: ldb \(ldb) < \(bColumns) columns of B")
    precondition(ldc >= max(1, n), "gemm: ldc \(ldc) < \(n) columns of C")
    precondition(
      m < Int(Int32.max) && n < Int(Int32.max) && k < Int(Int32.max),
      "gemm: sizes exceed BLAS's 32-bit integers")
  }

  private static func scaleMatrix(
    _ c: UnsafeMutablePointer<Float>, rows: Int, columns: Int, stride: Int, by factor: Float
  ) {
    for row in 0..<rows {
      for column in 0..<columns {
        c[row * stride + column] = factor == 0 ? 0 : c[row * stride + column] * factor
      }
    }
  }
}
