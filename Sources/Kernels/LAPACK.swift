import CBLAS

/// A LAPACK routine that could not finish.
public enum LinalgError: Error, Equatable, CustomStringConvertible {
  /// Cholesky found a leading minor that is not positive (1-based order).
  case notPositiveDefinite(minor: Int)
  /// An iterative routine (eigen/SVD) did not converge.
  case didNotConverge(routine: String, info: Int)
  /// LAPACK rejected an argument (a bug in the caller, reported instead of crashing).
  case invalidArgument(routine: String, position: Int)

  public var description: String {
    switch self {
    case .notPositiveDefinite(let minor):
      return "matrix is not positive definite (leading minor \(minor)); increase the ridge penalty"
    case .didNotConverge(let routine, let info):
      return "LAPACK \(routine) did not converge (info \(info))"
    case .invalidArgument(let routine, let position):
      return "LAPACK \(routine) rejected argument \(position)"
    }
  }
}

/// LAPACK wrappers for the few factorisations metatx needs. They work in
/// Double internally: these run once per fit (ridge heads, Laplacian
/// eigenvectors, orthogonal init), never in a training loop, so accuracy wins.
/// Matrices are row-major `[rows, columns]` Float arrays.
public enum LAPACK {
  /// Solves `A X = B` for symmetric positive-definite `A` `[n, n]` by Cholesky
  /// (`dposv`); `B` and the result are `[n, rightHandSides]`.
  public static func solvePositiveDefinite(
    _ a: [Float], n: Int, _ b: [Float], rightHandSides: Int
  ) throws -> [Float] {
    precondition(a.count == n * n, "solvePositiveDefinite: A has \(a.count) ≠ \(n)×\(n) elements")
    precondition(b.count == n * rightHandSides, "solvePositiveDefinite: B is not [\(n), \(rightHandSides)]")
    var matrix = a.map(Double.init)
    var solution = b.map(Double.init)
    let info = LAPACKE_dposv(
      LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "U")), Int32(n), Int32(rightHandSides),
      &matrix, Int32(n), &solution, Int32(rightHandSides))
    if info > 0 { throw LinalgError.notPositiveDefinite(minor: Int(info)) }
    if info < 0 { throw LinalgError.invalidArgument(routine: "dposv", position: Int(-info)) }
    return solution.map(Float.init)
  }

  /// Eigen-decomposition of a symmetric `A` `[n, n]` (`dsyevd`).
  /// - Returns: eigenvalues in ascending order, and eigenvectors as the
  ///   columns of a row-major `[n, n]` matrix (column `j` pairs with value `j`).
  public static func symmetricEigen(_ a: [Float], n: Int) throws -> (
    values: [Float], vectors: [Float]
  ) {
    precondition(a.count == n * n, "symmetricEigen: A has \(a.count) ≠ \(n)×\(n) elements")
    var matrix = a.map(Double.init)
    var values = [Double](repeating: 0, count: n)
    let info = LAPACKE_dsyevd(
      LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "V")), Int8(UInt8(ascii: "U")), Int32(n), &matrix,
      Int32(n), &values)
    if info > 0 { throw LinalgError.didNotConverge(routine: "dsyevd", info: Int(info)) }
    if info < 0 { throw LinalgError.invalidArgument(routine: "dsyevd", position: Int(-info)) }
    return (values.map(Float.init), matrix.map(Float.init))
  }

  /// Thin singular value decomposition `A = U · diag(S) · Vᵀ` of `A` `[m, n]`
  /// (`dgesdd`). `U` is `[m, r]`, `S` has `r = min(m, n)` descending values,
  /// `Vᵀ` is `[r, n]`.
  public static func svd(_ a: [Float], rows m: Int, columns n: Int) throws -> (
    u: [Float], s: [Float], vt: [Float]
  ) {
    precondition(a.count == m * n, "svd: A has \(a.count) ≠ \(m)×\(n) elements")
    let r = min(m, n)
    var matrix = a.map(Double.init)
    var s = [Double](repeating: 0, count: r)
    var u = [Double](repeating: 0, count: m * r)
    var vt = [Double](repeating: 0, count: r * n)
    let info = LAPACKE_dgesdd(
      LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "S")), Int32(m), Int32(n), &matrix, Int32(n), &s,
      &u, Int32(r), &vt, Int32(n))
    if info > 0 { throw LinalgError.didNotConverge(routine: "dgesdd", info: Int(info)) }
    if info < 0 { throw LinalgError.invalidArgument(routine: "dgesdd", position: Int(-info)) }
    return (u.map(Float.init), s.map(Float.init), vt.map(Float.init))
  }

  /// The orthonormal factor `Q` `[m, n]` (m ≥ n) of the thin QR decomposition
  /// of `A` `[m, n]` (`dgeqrf` + `dorgqr`), with signs fixed so that `R` has a
  /// non-negative diagonal; this makes `Q` of a Gaussian matrix Haar-distributed
  /// (the orthogonal initialisation of Saxe et al.).
  public static func orthonormalColumns(_ a: [Float], rows m: Int, columns n: Int) throws
    -> [Float]
  {
    precondition(a.count == m * n, "orthonormalColumns: A has \(a.count) ≠ \(m)×\(n) elements")
    precondition(m >= n, "orthonormalColumns: needs rows \(m) ≥ columns \(n)")
    var matrix = a.map(Double.init)
    var tau = [Double](repeating: 0, count: n)
    var info = LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, Int32(m), Int32(n), &matrix, Int32(n), &tau)
    if info != 0 { throw LinalgError.invalidArgument(routine: "dgeqrf", position: Int(-info)) }
    let diagonalSigns = (0..<n).map { matrix[$0 * n + $0] < 0 ? -1.0 : 1.0 }
    info = LAPACKE_dorgqr(
      LAPACK_ROW_MAJOR, Int32(m), Int32(n), Int32(n), &matrix, Int32(n), &tau)
    if info != 0 { throw LinalgError.invalidArgument(routine: "dorgqr", position: Int(-info)) }
    for row in 0..<m {
      for column in 0..<n { matrix[row * n + column] *= diagonalSigns[column] }
    }
    return matrix.map(Float.init)
  }
}
