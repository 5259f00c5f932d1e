import Foundation
import Kernels
import TestSupport
import XCTest

final class LAPACKAndRNGTests: XCTestCase {
  func testCholeskySolveRecoversSolution() throws {
    // A = MᵀM + I is SPD; solve A x = A·x₀ and compare with x₀.
    var rng = SeededRNG(seed: 1)
    let n = 6
    let m = (0..<(n * n)).map { _ in rng.uniform(-1, 1) }
    var a = [Float](repeating: 0, count: n * n)
    for i in 0..<n {
      for j in 0..<n {
        a[i * n + j] = (0..<n).reduce(0) { $0 + m[$1 * n + i] * m[$1 * n + j] } + (i == j ? 1 : 0)
      }
    }
    let x0: [Float] = (0..<(n * 2)).map { Float($0) - 5 }
    var b = [Float](repeating: 0, count: n * 2)
    for i in 0..<n {
      for r in 0..<2 { b[i * 2 + r] = (0..<n).reduce(0) { $0 + a[i * n + $1] * x0[$1 * 2 + r] } }
    }
    let x = try LAPACK.solvePositiveDefinite(a, n: n, b, rightHandSides: 2)
    XCTAssertLessThan(worstDifference(x, x0).absolute, 1e-3)
    XCTAssertThrowsError(try LAPACK.solvePositiveDefinite([1, 2, 2, 1], n: 2, [1, 1], rightHandSides: 1)) {
      XCTAssertEqual($0 as? LinalgError, .notPositiveDefinite(minor: 2))
    }
  }

  func testSymmetricEigenOfPathGraphLaplacian() throws {
    // Laplacian of the path 0–1–2: eigenvalues 0, 1, 3; eigenvectors
    // (1,1,1)/√3, (1,0,−1)/√2, (1,−2,1)/√6 up to sign.
    let laplacian: [Float] = [1, -1, 0, -1, 2, -1, 0, -1, 1]
    let (values, vectors) = try LAPACK.symmetricEigen(laplacian, n: 3)
    XCTAssertEqual(values[0], 0, accuracy: 1e-6)
    XCTAssertEqual(values[1], 1, accuracy: 1e-6)
    XCTAssertEqual(values[2], 3, accuracy: 1e-6)
    let expected: [[Float]] = [[1, 1, 1].map { $0 / 3.0.squareRoot() }.map(Float.init),
                               [1, 0, -1].map { $0 / 2.0.squareRoot() }.map(Float.init),
                               [1, -2, 1].map { $0 / 6.0.squareRoot() }.map(Float.init)]
    for column in 0..<3 {
      // Eigenvectors are defined up to sign: |v · e| = 1 for unit vectors.
      let vector = (0..<3).map { vectors[$0 * 3 + column] }
      let alignment = zip(vector, expected[column]).reduce(Float(0)) { $0 + $1.0 * $1.1 }
      XCTAssertEqual(abs(alignment), 1, accuracy: 1e-5, "eigenvector \(column): \(vector)")
    }
  }

  func testSVDReconstructsAndQRIsOrthonormal() throws {
    var rng = SeededRNG(seed: 9)
    let rows = 7, columns = 4
    let a = (0..<(rows * columns)).map { _ in Float(rng.normal()) }
    let (u, s, vt) = try LAPACK.svd(a, rows: rows, columns: columns)
    XCTAssertEqual(s, s.sorted(by: >))
    var rebuilt = [Float](repeating: 0, count: rows * columns)
    for i in 0..<rows {
      for j in 0..<columns {
        rebuilt[i * columns + j] = (0..<columns).reduce(0) { $0 + u[i * columns + $1] * s[$1] * vt[$1 * columns + j] }
      }
    }
    XCTAssertLessThan(worstDifference(rebuilt, a).absolute, 1e-4)
    let q = try LAPACK.orthonormalColumns(a, rows: rows, columns: columns)
    for i in 0..<columns {
      for j in 0..<columns {
        let dot = (0..<rows).reduce(Float(0)) { $0 + q[$1 * columns + i] * q[$1 * columns + j] }
        XCTAssertEqual(dot, i == j ? 1 : 0, accuracy: 1e-5)
      }
    }
  }

  func testRNGIsReproducibleAndWellDistributed() {
    var first = SeededRNG(seed: 42)
    var second = SeededRNG(seed: 42)
    XCTAssertEqual((0..<5).map { _ in first.next() }, (0..<5).map { _ in second.next() })
    var other = SeededRNG(seed: 43)
    XCTAssertNotEqual(first.next(), other.next())
    var rng = SeededRNG(seed: 1)
    let samples = (0..<20_000).map { _ in rng.normal() }
    let mean = samples.reduce(0, +) / Double(samples.count)
    let variance = samples.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(samples.count)
    XCTAssertEqual(mean, 0, accuracy: 0.03)
    XCTAssertEqual(variance, 1, accuracy: 0.05)
    let truncated = (0..<5000).map { _ in rng.truncatedNormal(std: 0.02, low: -0.04, high: 0.04) }
    XCTAssertTrue(truncated.allSatisfy { abs($0) <= 0.04 })
    let permutation = rng.permutation(50)
    XCTAssertEqual(permutation.sorted(), Array(0..<50))
    XCTAssertNotEqual(permutation, Array(0..<50))
    let uniform = (0..<10_000).map { _ in rng.uniform() }
    XCTAssertTrue(uniform.allSatisfy { $0 >= 0 && $0 < 1 })
    XCTAssertEqual(uniform.reduce(0, +) / 10_000, 0.5, accuracy: 0.02)
  }

  func testRNGSnapshotContinuesTheSameSequenceThroughJSON() throws {
    var original = SeededRNG(seed: 5).derived("checkpoint")
    _ = original.permutation(17)
    _ = original.normal()  // leaves a Box–Muller spare pending
    let snapshot = original.snapshot
    XCTAssertNotNil(snapshot.spareNormal)
    XCTAssertTrue(snapshot.words.contains { $0 > 1 << 53 }, "words beyond a double's exact integers")
    let decoded = try JSONDecoder().decode(SeededRNG.Snapshot.self, from: JSONEncoder().encode(snapshot))
    XCTAssertEqual(decoded, snapshot)
    var restored = try XCTUnwrap(SeededRNG(restoring: decoded))
    XCTAssertEqual(restored.normal(), original.normal())
    XCTAssertEqual((0..<8).map { _ in restored.next() }, (0..<8).map { _ in original.next() })
    XCTAssertNil(SeededRNG(restoring: SeededRNG.Snapshot(words: [0, 0, 0, 0], spareNormal: nil)))
    XCTAssertNil(SeededRNG(restoring: SeededRNG.Snapshot(words: [1, 2, 3], spareNormal: nil)))
  }
}
