import Kernels
import Readers

/// The fixed (parameter-free, deterministic) geometry of point-cloud
/// tokenization: surface sampling of meshes, unit-sphere normalisation,
/// farthest-point sampling and k-nearest-neighbour grouping (Point-BERT,
/// Yu et al. 2022; Point-MAE, Pang et al. 2022). Points are `[N, 3]` row-major.
public enum PointCloudSampling {
  /// `count` points drawn uniformly over the surface of the mesh `geometry`:
  /// polygons are fan-triangulated (`v₀ vᵢ vᵢ₊₁`), a triangle is chosen with
  /// probability proportional to its area, and a point in it by the uniform
  /// barycentric map `(1 − √r₁) a + √r₁ (1 − r₂) b + √r₁ r₂ c`.
  /// A mesh whose triangles all have zero area yields its vertices instead.
  public static func sampleSurface(_ geometry: PointCloudGeometry, count: Int, rng: inout SeededRNG) -> [Float] {
    let p = geometry.points
    var triangles: [(Int, Int, Int)] = []
    var cumulativeArea: [Double] = []
    var total = 0.0
    for face in geometry.faces {
      for corner in 1..<(face.count - 1) {
        let (a, b, c) = (face[0], face[corner], face[corner + 1])
        let u = (0..<3).map { Double(p[b * 3 + $0] - p[a * 3 + $0]) }
        let v = (0..<3).map { Double(p[c * 3 + $0] - p[a * 3 + $0]) }
        let cross = [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]]
        let area = 0.5 * (cross[0] * cross[0] + cross[1] * cross[1] + cross[2] * cross[2]).squareRoot()
        guard area > 0 else { continue }
        total += area
        triangles.append((a, b, c))
        cumulativeArea.append(total)
      }
    }
    guard total > 0 else { return p }
    var points = [Float](repeating: 0, count: count * 3)
    for sample in 0..<count {
      let target = rng.uniform() * total
      // The first triangle whose cumulative area exceeds the target (binary search).
      var low = 0, high = triangles.count - 1
      while low < high {
        let middle = (low + high) / 2
        if cumulativeArea[middle] > target { high = middle } else { low = middle + 1 }
      }
      let (a, b, c) = triangles[low]
      let root = rng.uniform().squareRoot(), r2 = rng.uniform()
      let (wa, wb, wc) = (1 - root, root * (1 - r2), root * r2)
      for axis in 0..<3 {
        points[sample * 3 + axis] = Float(
          wa * Double(p[a * 3 + axis]) + wb * Double(p[b * 3 + axis]) + wc * Double(p[c * 3 + axis]))
      }
    }
    return points
  }

  /// Centres `points` on their centroid and divides by the largest distance
  /// from it, so the cloud fits the unit sphere (Point-BERT's `pc_normalize`).
  /// A cloud of one repeated point is only centred.
  public static func normalise(_ points: [Float]) -> [Float] {
    let count = points.count / 3
    var centroid = [Double](repeating: 0, count: 3)
    for index in 0..<count { for axis in 0..<3 { centroid[axis] += Double(points[index * 3 + axis]) } }
    centroid = centroid.map { $0 / Double(max(count, 1)) }
    var radius = 0.0
    for index in 0..<count {
      var squared = 0.0
      for axis in 0..<3 {
        let d = Double(points[index * 3 + axis]) - centroid[axis]
        squared += d * d
      }
      radius = max(radius, squared)
    }
    radius = radius.squareRoot()
    let scale = radius > 0 ? 1 / radius : 1
    var result = points
    for index in 0..<count {
      for axis in 0..<3 {
        result[index * 3 + axis] = Float((Double(points[index * 3 + axis]) - centroid[axis]) * scale)
      }
    }
    return result
  }

  /// Farthest-point sampling: starts from point 0 and repeatedly takes the
  /// point farthest from those taken (ties: the lowest index), keeping each
  /// point's distance to the taken set, `O(N · count)`.
  /// - Returns: `count` indices into `points` `[N, 3]`, in the order taken.
  ///   Once every distinct point is taken (all distances 0), the remaining
  ///   picks are point 0.
  public static func farthestPoints(_ points: [Float], count: Int) -> [Int] {
    let n = points.count / 3
    precondition(n > 0, "farthest-point sampling needs points")
    var distance = [Float](repeating: .infinity, count: n)
    var chosen: [Int] = []
    chosen.reserveCapacity(count)
    var current = 0
    points.withUnsafeBufferPointer { p in
      for _ in 0..<count {
        chosen.append(current)
        let (cx, cy, cz) = (p[current * 3], p[current * 3 + 1], p[current * 3 + 2])
        var best = 0
        var bestDistance: Float = -1
        for index in 0..<n {
          let dx = p[index * 3] - cx, dy = p[index * 3 + 1] - cy, dz = p[index * 3 + 2] - cz
          let d = min(distance[index], dx * dx + dy * dy + dz * dz)
          distance[index] = d
          if d > bestDistance {
            bestDistance = d
            best = index
          }
        }
        current = best
      }
    }
    return chosen
  }

  /// The plain twin of `farthestPoints`: recomputes every point's distance to
  /// the whole chosen set at each step, `O(N · count²)`.
  public static func naiveFarthestPoints(_ points: [Float], count: Int) -> [Int] {
    let n = points.count / 3
    var chosen = [0]
    while chosen.count < count {
      var best = 0
      var bestDistance: Float = -1
      for index in 0..<n {
        let d = chosen.map { squaredDistance(points, index, points, $0) }.min()!
        if d > bestDistance {
          bestDistance = d
          best = index
        }
      }
      chosen.append(best)
    }
    return Array(chosen.prefix(count))
  }

  /// The `k` nearest points of `points` `[N, 3]` to each centre of `centres`
  /// `[G, 3]`, nearest first (ties: the lower index), by partial selection: a
  /// sorted list of the best `k` so far, which most candidates fail to enter
  /// after one comparison.
  /// - Returns: `[G, k]` indices into `points`; requires `k ≤ N`.
  public static func nearestNeighbours(_ points: [Float], centres: [Float], k: Int) -> [Int] {
    let n = points.count / 3, groups = centres.count / 3
    precondition(k <= n, "\(k) neighbours of \(n) points")
    var result = [Int](repeating: 0, count: groups * k)
    var bestDistance = [Float](repeating: 0, count: k)
    var bestIndex = [Int](repeating: 0, count: k)
    for group in 0..<groups {
      var filled = 0
      for index in 0..<n {
        let d = squaredDistance(points, index, centres, group)
        if filled == k, d >= bestDistance[k - 1] { continue }
        // Insertion into the sorted prefix; equal distances keep index order.
        var slot = filled == k ? k - 1 : filled
        while slot > 0, bestDistance[slot - 1] > d {
          bestDistance[slot] = bestDistance[slot - 1]
          bestIndex[slot] = bestIndex[slot - 1]
          slot -= 1
        }
        bestDistance[slot] = d
        bestIndex[slot] = index
        filled = min(filled + 1, k)
      }
      for j in 0..<k { result[group * k + j] = bestIndex[j] }
    }
    return result
  }

  /// The plain twin of `nearestNeighbours`: a full stable sort per centre.
  public static func naiveNearestNeighbours(_ points: [Float], centres: [Float], k: Int) -> [Int] {
    let n = points.count / 3, groups = centres.count / 3
    var result: [Int] = []
    for group in 0..<groups {
      let order = (0..<n).sorted {
        let (a, b) = (squaredDistance(points, $0, centres, group), squaredDistance(points, $1, centres, group))
        return a < b || (a == b && $0 < $1)
      }
      result += order.prefix(k)
    }
    return result
  }

  /// `|a[i] − b[j]|²` for `[·, 3]` point arrays.
  @inline(__always)
  static func squaredDistance(_ a: [Float], _ i: Int, _ b: [Float], _ j: Int) -> Float {
    let dx = a[i * 3] - b[j * 3], dy = a[i * 3 + 1] - b[j * 3 + 1], dz = a[i * 3 + 2] - b[j * 3 + 2]
    return dx * dx + dy * dy + dz * dz
  }
}
