import Foundation
import Kernels
import XCTest

final class ThreadsTests: XCTestCase {
  /// metatx shortens OpenBLAS's idle spin unless the user chose one, and the
  /// restarted BLAS pool still computes a GEMM on OpenBLAS's own threads correctly.
  func testBlasSpinWaitIsShortenedAndThePoolStillWorks() {
    Threads.configure(2)
    defer { Threads.configure() }
    if let chosen = ProcessInfo.processInfo.environment["OPENBLAS_THREAD_TIMEOUT"] {
      XCTAssertEqual(Threads.blasThreadTimeout, Int(chosen) ?? 0, "the user's timeout is kept")
    } else {
      XCTAssertEqual(Threads.blasThreadTimeout, Threads.blasSpinWaitExponent)
    }
    let m = 300, n = 200, k = 150
    var rng = SeededRNG(seed: 5)
    let a = Tensor(shape: [m, k]), b = Tensor(shape: [k, n])
    rng.fillNormal(a, std: 1)
    rng.fillNormal(b, std: 1)
    let fast = Tensor(shape: [m, n]), plain = Tensor(shape: [m, n])
    Linalg.gemm(
      .none, .none, m: m, n: n, k: k, a: a.data, lda: k, b: b.data, ldb: n, beta: 0, c: fast.data,
      ldc: n, threading: .openBLAS)
    Linalg.naiveGemm(.none, .none, m: m, n: n, k: k, a: a.data, lda: k, b: b.data, ldb: n, beta: 0, c: plain.data, ldc: n)
    var worst: Float = 0
    for i in 0..<fast.count { worst = max(worst, abs(fast[i] - plain[i])) }
    XCTAssertLessThan(worst, 1e-3)
  }
}
