import CBLAS
import Dispatch
import Foundation

/// The one place that decides how many threads metatx uses.
///
/// Two kinds of parallelism must not multiply: OpenBLAS's own threads inside a
/// large GEMM, and metatx's workers that run many small GEMMs (one per batch ×
/// head in attention) or elementwise kernels side by side. Large GEMMs run with
/// `count` BLAS threads; worker regions switch BLAS to one thread for their
/// duration, so the machine never runs more than `count` busy threads.
public enum Threads {
  nonisolated(unsafe) private static var configuredCount: Int = initialCount()
  /// Set while a worker region runs: a nested `parallelFor` then runs serially,
  /// so regions never multiply threads or restore BLAS threading early.
  nonisolated(unsafe) private static var insideWorkerRegion = false

  /// The number of threads in use (BLAS and workers alike).
  public static var count: Int { configuredCount }

  /// Sets the thread count: `requested` when given, else `OPENBLAS_NUM_THREADS`,
  /// else every core.
  public static func configure(_ requested: Int? = nil) {
    let cores = ProcessInfo.processInfo.activeProcessorCount
    let chosen = requested ?? environmentCount() ?? cores
    configuredCount = max(1, chosen)
    openblas_set_num_threads(Int32(configuredCount))
  }

  private static func environmentCount() -> Int? {
    guard let text = ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"],
      let value = Int(text), value > 0
    else { return nil }
    return value
  }

  private static func initialCount() -> Int {
    shortenBlasSpinWait()
    let chosen = environmentCount() ?? ProcessInfo.processInfo.activeProcessorCount
    openblas_set_num_threads(Int32(max(1, chosen)))
    return max(1, chosen)
  }

  /// The power of two of CPU cycles an idle OpenBLAS thread spins before it sleeps,
  /// unless `OPENBLAS_THREAD_TIMEOUT` says otherwise.
  public static let blasSpinWaitExponent = 20

  /// The OpenBLAS thread-pool timeout in effect (a power of two; 0 when OpenBLAS
  /// keeps its built-in 28).
  public static var blasThreadTimeout: Int { Int(openblas_thread_timeout()) }

  /// After each GEMM, OpenBLAS's idle threads spin for 2^28 cycles (about 0.1 s)
  /// before they sleep. metatx's workers run between GEMMs (attention, elementwise
  /// kernels), so spinning BLAS threads would take their cores: measured on the
  /// 2-core machine, a small-encoder training step reached 75–84 % of the GEMM
  /// limit with the default spin and 81–87 % with 2^20 cycles (about 0.4 ms).
  /// OpenBLAS reads the timeout once, when its pool starts, so it is set here and
  /// the pool restarted; a user's own OPENBLAS_THREAD_TIMEOUT is kept.
  private static func shortenBlasSpinWait() {
    guard ProcessInfo.processInfo.environment["OPENBLAS_THREAD_TIMEOUT"] == nil else { return }
    setenv("OPENBLAS_THREAD_TIMEOUT", "\(blasSpinWaitExponent)", 0)
    openblas_read_env()
    unsetenv("OPENBLAS_THREAD_TIMEOUT")
    _ = blas_thread_shutdown_()
  }

  /// Runs `body(i)` for every `i` in `0..<iterations`, spread over the workers.
  /// BLAS calls inside `body` run single-threaded.
  public static func parallelFor(_ iterations: Int, _ body: (Int) -> Void) {
    guard iterations > 0 else { return }
    let workers = min(count, iterations)
    if workers <= 1 || insideWorkerRegion {
      for index in 0..<iterations { body(index) }
      return
    }
    withoutActuallyEscaping(body) { body in
      openblas_set_num_threads(1)
      insideWorkerRegion = true
      defer {
        insideWorkerRegion = false
        openblas_set_num_threads(Int32(configuredCount))
      }
      DispatchQueue.concurrentPerform(iterations: workers) { worker in
        // Contiguous slices keep each worker's memory traffic local.
        let start = iterations * worker / workers
        let end = iterations * (worker + 1) / workers
        for index in start..<end { body(index) }
      }
    }
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
