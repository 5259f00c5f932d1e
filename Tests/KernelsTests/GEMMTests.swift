import Kernels
import TestSupport
import XCTest

final class GEMMTests: XCTestCase {
  private func randomTensor(_ shape: [Int], _ rng: inout SeededRNG) -> Tensor {
    let tensor = Tensor(shape: shape)
    rng.fillUniform(tensor, -1, 1)
    return tensor
  }

  func testGemmMatchesNaiveTwinForAllTransposesAndOddShapes() {
    var rng = SeededRNG(seed: 7)
    for (m, n, k) in [(1, 1, 1), (3, 5, 7), (17, 9, 33), (64, 1, 5), (1, 31, 2)] {
      for transA in [Transpose.none, .transposed] {
        for transB in [Transpose.none, .transposed] {
          // Padded leading dimensions exercise the stride arguments too.
          let lda = (transA == .none ? k : m) + 3
          let ldb = (transB == .none ? n : k) + 2
          let ldc = n + 1
          let a = randomTensor([(transA == .none ? m : k) * lda], &rng)
          let b = randomTensor([(transB == .none ? k : n) * ldb], &rng)
          let fast = randomTensor([m * ldc], &rng)
          let plain = Tensor(shape: fast.shape, values: fast.values)
          for beta: Float in [0, 1, 0.5] {
            Linalg.gemm(transA, transB, m: m, n: n, k: k, alpha: 1.5, a: a.data, lda: lda,
              b: b.data, ldb: ldb, beta: beta, c: fast.data, ldc: ldc)
            Linalg.naiveGemm(transA, transB, m: m, n: n, k: k, alpha: 1.5, a: a.data, lda: lda,
              b: b.data, ldb: ldb, beta: beta, c: plain.data, ldc: ldc)
            let worst = worstDifference(fast.values, plain.values)
            XCTAssertLessThan(worst.absolute, 1e-4,
              "m \(m) n \(n) k \(k) \(transA) \(transB) beta \(beta): worst at \(worst.index)")
          }
        }
      }
    }
  }

  /// Large GEMMs are split into row blocks over the workers: every transpose
  /// combination and awkward row counts (edges of the 16-row alignment) agree
  /// with the naive twin, and the result does not depend on the thread count
  /// to the bit (each row of C is one OpenBLAS row computation however split).
  func testSplitGemmMatchesTwinAndIsBitIdenticalAcrossThreadCounts() {
    var rng = SeededRNG(seed: 17)
    var splitCount = 0
    for (m, n, k) in [(197, 96, 120), (33, 300, 640), (48, 64, 100), (300, 17, 1000), (64, 128, 128)] {
      for transA in [Transpose.none, .transposed] {
        for transB in [Transpose.none, .transposed] {
          let lda = (transA == .none ? k : m) + 1
          let ldb = (transB == .none ? n : k) + 3
          let ldc = n + 2
          let a = randomTensor([(transA == .none ? m : k) * lda], &rng)
          let b = randomTensor([(transB == .none ? k : n) * ldb], &rng)
          let start = randomTensor([m * ldc], &rng)
          var results: [[Float]] = []
          for threads in [1, 2, 3, 4] {
            Threads.configure(threads)
            if Linalg.rowBlocks(m: m, n: n, k: k) > 1 { splitCount += 1 }
            let c = Tensor(shape: start.shape, values: start.values)
            Linalg.gemm(transA, transB, m: m, n: n, k: k, alpha: 0.75, a: a.data, lda: lda,
              b: b.data, ldb: ldb, beta: 0.5, c: c.data, ldc: ldc)
            results.append(c.values)
          }
          Threads.configure()
          let plain = Tensor(shape: start.shape, values: start.values)
          Linalg.naiveGemm(transA, transB, m: m, n: n, k: k, alpha: 0.75, a: a.data, lda: lda,
            b: b.data, ldb: ldb, beta: 0.5, c: plain.data, ldc: ldc)
          let label = "m \(m) n \(n) k \(k) \(transA) \(transB)"
          XCTAssertLessThan(worstDifference(results[0], plain.values).absolute, 1e-3, label)
          for (index, result) in results.enumerated().dropFirst() {
            XCTAssertTrue(result == results[0], "\(label): \(index + 1) threads differ from 1")
          }
        }
      }
    }
    XCTAssertGreaterThan(splitCount, 20, "most of these products are split")
  }

  /// The row blocks cover every row once, aligned to 16, one per thread at most.
  func testRowBlocksPartitionTheRows() {
    for threads in [2, 3, 4] {
      Threads.configure(threads)
      for m in [32, 33, 47, 197, 1576] {
        let blocks = Linalg.rowBlocks(m: m, n: 512, k: 512)
        XCTAssertEqual(blocks, min(threads, m / 16), "m \(m), \(threads) threads")
        // 60 × 60 × rows: below 100³ multiply-adds up to 277 rows, so never split here,
        // and 1576 rows are split into blocks no smaller than that.
        let narrow = Linalg.rowBlocks(m: m, n: 60, k: 60)
        XCTAssertEqual(narrow, m <= 277 ? 1 : min(threads, 1576 / 278), "m \(m) × 60 × 60")
        var covered = 0
        for block in 0..<blocks {
          let first = Linalg.rowBlockStart(block, of: blocks, rows: m)
          let end = Linalg.rowBlockStart(block + 1, of: blocks, rows: m)
          XCTAssertEqual(first, covered)
          XCTAssertEqual(first % 16, 0)
          XCTAssertGreaterThan(end, first)
          covered = end
        }
        XCTAssertEqual(covered, m)
      }
    }
    Threads.configure(1)
    XCTAssertEqual(Linalg.rowBlocks(m: 1576, n: 768, k: 768), 1)
    Threads.configure()
  }

  func testBatchedGemmMatchesNaiveTwinAcrossThreads() {
    var rng = SeededRNG(seed: 11)
    let batch = 7, m = 5, n = 6, k = 4
    let a = randomTensor([batch, m, k], &rng)
    let b = randomTensor([batch, n, k], &rng)
    let fast = Tensor(shape: [batch, m, n])
    let plain = Tensor(shape: [batch, m, n])
    let offsets = { (i: Int) in Linalg.BatchOffsets(a: i * m * k, b: i * n * k, c: i * m * n) }
    for threads in [1, 2, 3] {
      Threads.configure(threads)
      Linalg.batchedGemm(.none, .transposed, m: m, n: n, k: k, a: a.data, lda: k, b: b.data,
        ldb: k, beta: 0, c: fast.data, ldc: n, batchCount: batch, offsets: offsets)
      Linalg.naiveBatchedGemm(.none, .transposed, m: m, n: n, k: k, a: a.data, lda: k, b: b.data,
        ldb: k, beta: 0, c: plain.data, ldc: n, batchCount: batch, offsets: offsets)
      XCTAssertLessThan(worstDifference(fast.values, plain.values).absolute, 1e-5, "threads \(threads)")
    }
    Threads.configure()
  }

  func testGemvAxpyDotMatchTwins() {
    var rng = SeededRNG(seed: 3)
    let rows = 13, columns = 9
    let a = randomTensor([rows, columns], &rng)
    for trans in [Transpose.none, .transposed] {
      let inputs = trans == .none ? columns : rows
      let outputs = trans == .none ? rows : columns
      let x = randomTensor([inputs], &rng)
      let fast = randomTensor([outputs], &rng)
      let plain = Tensor(shape: [outputs], values: fast.values)
      Linalg.gemv(trans, rows: rows, columns: columns, alpha: 0.5, a: a.data, lda: columns,
        x: x.data, beta: 2, y: fast.data)
      Linalg.naiveGemv(trans, rows: rows, columns: columns, alpha: 0.5, a: a.data, lda: columns,
        x: x.data, beta: 2, y: plain.data)
      XCTAssertLessThan(worstDifference(fast.values, plain.values).absolute, 1e-5)
    }
    let x = randomTensor([101], &rng)
    let y1 = randomTensor([101], &rng)
    let y2 = Tensor(shape: [101], values: y1.values)
    XCTAssertEqual(Linalg.dot(count: 101, x: x.data, y: y1.data),
      Linalg.naiveDot(count: 101, x: x.data, y: y1.data), accuracy: 1e-4)
    Linalg.axpy(count: 101, alpha: -0.25, x: x.data, y: y1.data)
    Linalg.naiveAxpy(count: 101, alpha: -0.25, x: x.data, y: y2.data)
    XCTAssertLessThan(worstDifference(y1.values, y2.values).absolute, 1e-6)
  }

  func testGemmKnownProduct() {
    // [[1,2],[3,4]] · [[5,6],[7,8]] = [[19,22],[43,50]]
    let a = Tensor(shape: [2, 2], values: [1, 2, 3, 4])
    let b = Tensor(shape: [2, 2], values: [5, 6, 7, 8])
    let c = Tensor(shape: [2, 2])
    Linalg.gemm(.none, .none, m: 2, n: 2, k: 2, a: a.data, lda: 2, b: b.data, ldb: 2, beta: 0,
      c: c.data, ldc: 2)
    XCTAssertEqual(c.values, [19, 22, 43, 50])
  }
}
