import CBLAS
import Foundation

/// The one place that decides how many threads metatx uses.
///
/// All parallel work runs on one pool of metatx's own threads (`WorkerPool`):
/// large GEMMs are split by rows over it, each part a single-threaded OpenBLAS
/// call, and so are attention's per-head products and the elementwise kernels.
/// OpenBLAS itself stays at one thread, so its own pool never starts and never
/// competes with metatx's for the cores. (Measured on the 2-core machine: an
/// encoder GEMM split over the pool ran at 1.0–1.25× OpenBLAS's own two-thread
/// rate, the gain largest on the small products of a batch-1 tiny forward.)
public enum Threads {
  nonisolated(unsafe) private static var pool = WorkerPool(threads: initialCount())

  /// The number of threads in use (the pool's workers and the calling thread).
  public static var count: Int { pool.threads }

  /// Whether a parallel region is running: work started inside one runs serially.
  public static var isInsideParallelRegion: Bool { pool.isRunningRegion }

  /// Sets the thread count: `requested` when given, else `OPENBLAS_NUM_THREADS`,
  /// else every core. Call it between parallel regions, not during one.
  public static func configure(_ requested: Int? = nil) {
    let cores = ProcessInfo.processInfo.activeProcessorCount
    let chosen = max(1, requested ?? environmentCount() ?? cores)
    guard chosen != pool.threads else { return }
    pool.shutDown()
    pool = WorkerPool(threads: chosen)
  }

  private static func environmentCount() -> Int? {
    guard let text = ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"],
      let value = Int(text), value > 0
    else { return nil }
    return value
  }

  private static func initialCount() -> Int {
    shortenBlasSpinWait()
    openblas_set_num_threads(1)
    return max(1, environmentCount() ?? ProcessInfo.processInfo.activeProcessorCount)
  }

  /// Runs `body` with OpenBLAS using `count` threads of its own: only for
  /// measuring OpenBLAS's threaded rate (the benchmark's GEMM limit).
  public static func withBlasThreads<Result>(_ body: () -> Result) -> Result {
    openblas_set_num_threads(Int32(count))
    defer { openblas_set_num_threads(1) }
    return body()
  }

  /// The power of two of CPU cycles an idle OpenBLAS thread spins before it sleeps,
  /// unless `OPENBLAS_THREAD_TIMEOUT` says otherwise.
  public static let blasSpinWaitExponent = 20

  /// The OpenBLAS thread-pool timeout in effect (a power of two; 0 when OpenBLAS
  /// keeps its built-in 28).
  public static var blasThreadTimeout: Int { Int(openblas_thread_timeout()) }

  /// After a threaded call, OpenBLAS's idle threads spin for 2^28 cycles (about
  /// 0.1 s) before they sleep. metatx runs OpenBLAS threaded only for the
  /// benchmark's reference rate (`withBlasThreads`), measured alternately with
  /// the encoder: with the default spin the reference's threads would still be
  /// spinning on both cores when the encoder's turn starts. OpenBLAS reads the
  /// timeout once, when its pool starts, so it is set here and the pool
  /// restarted; a user's own OPENBLAS_THREAD_TIMEOUT is kept.
  private static func shortenBlasSpinWait() {
    guard ProcessInfo.processInfo.environment["OPENBLAS_THREAD_TIMEOUT"] == nil else { return }
    setenv("OPENBLAS_THREAD_TIMEOUT", "\(blasSpinWaitExponent)", 0)
    openblas_read_env()
    unsetenv("OPENBLAS_THREAD_TIMEOUT")
    _ = blas_thread_shutdown_()
  }

  /// Runs `body(i)` for every `i` in `0..<iterations`, spread over the threads
  /// in contiguous slices. A region started inside another runs serially.
  public static func parallelFor(_ iterations: Int, _ body: (Int) -> Void) {
    guard iterations > 0 else { return }
    let slices = min(count, iterations, WorkerPool.maximumSlices)
    pool.run(slices: slices) { slice in
      // Contiguous slices keep each thread's memory traffic local.
      let start = iterations * slice / slices
      let end = iterations * (slice + 1) / slices
      for index in start..<end { body(index) }
    }
  }

  /// Runs `body(slice)` for each slice in `0..<slices` on the pool: for callers
  /// that partition the work themselves (GEMM row blocks).
  public static func parallelSlices(_ slices: Int, _ body: (Int) -> Void) {
    pool.run(slices: slices, body)
  }

  /// Splits `0..<total` into at most `count` contiguous ranges of at least
  /// `minimumChunk` elements and runs `body(range)` on each in parallel.
  public static func parallelRanges(
    _ total: Int, minimumChunk: Int, _ body: (Range<Int>) -> Void
  ) {
    guard total > 0 else { return }
    let chunks = max(1, min(count, total / max(1, minimumChunk)))
    if chunks == 1 {
      body(0..<total)
      return
    }
    parallelFor(chunks) { chunk in
      body((total * chunk / chunks)..<(total * (chunk + 1) / chunks))
    }
  }
}
