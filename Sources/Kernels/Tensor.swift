/// A dense, row-major Float32 tensor that owns one aligned allocation.
///
/// Reference semantics on purpose: layers, optimisers and BLAS calls share
/// buffers by pointer, and a workspace is allocated once per (batch, tokens)
/// shape and reused for every step.
public final class Tensor: @unchecked Sendable {
  /// The dimensions, outermost first, e.g. `[batch, tokens, channels]`.
  public let shape: [Int]
  /// The number of elements, the product of `shape`.
  public let count: Int
  /// The first element; valid for `count` elements until the tensor is released.
  public let data: UnsafeMutablePointer<Float>

  /// A zero-filled tensor.
  public init(shape: [Int]) {
    precondition(shape.allSatisfy { $0 >= 0 }, "Tensor shape \(shape) has a negative dimension")
    self.shape = shape
    self.count = shape.reduce(1, *)
    let raw = UnsafeMutableRawPointer.allocate(
      byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
    data = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    data.initialize(repeating: 0, count: max(count, 1))
  }

  /// A tensor holding a copy of `values`, which must have `shape`'s element count.
  public convenience init(shape: [Int], values: [Float]) {
    self.init(shape: shape)
    precondition(values.count == count, "\(values.count) values do not fill shape \(shape)")
    values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: count) }
  }

  deinit {
    data.deallocate()
  }

  public var rank: Int { shape.count }

  /// The elements as an array (a copy).
  public var values: [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }

  public var buffer: UnsafeMutableBufferPointer<Float> {
    UnsafeMutableBufferPointer(start: data, count: count)
  }

  public subscript(index: Int) -> Float {
    get { data[index] }
    set { data[index] = newValue }
  }

  /// Sets every element to zero (gradients are zeroed once per step).
  public func zero() {
    data.update(repeating: 0, count: count)
  }

  /// Copies `other`'s elements, which must be as many as this tensor's.
  public func copy(from other: Tensor) {
    precondition(other.count == count, "copy: \(other.shape) into \(shape)")
    data.update(from: other.data, count: count)
  }

  /// A copy with another shape of the same element count (from `shape` → `newShape`).
  public func reshaped(_ newShape: [Int]) -> Tensor {
    let result = Tensor(shape: newShape)
    precondition(result.count == count, "reshape \(shape) → \(newShape) changes the element count")
    result.data.update(from: data, count: count)
    return result
  }

  /// True when every element is finite (no NaN, no ±Inf).
  public var isFinite: Bool {
    for index in 0..<count where !data[index].isFinite { return false }
    return true
  }
}
