import Foundation

/// The one seeded random source of metatx (xoshiro256**, seeded by SplitMix64).
///
/// Every initialisation, shuffle, dropout-free augmentation and sampling step
/// draws from a `SeededRNG`, so a run is reproducible from its `--seed` alone.
/// Reference: Blackman & Vigna, "Scrambled linear pseudorandom number generators" (2021).
public struct SeededRNG: RandomNumberGenerator, Sendable {
  private var state: (UInt64, UInt64, UInt64, UInt64)
  private var spareNormal: Double?

  public init(seed: UInt64) {
    var mixer = seed
    func splitMix() -> UInt64 {
      mixer &+= 0x9E37_79B9_7F4A_7C15
      var z = mixer
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    state = (splitMix(), splitMix(), splitMix(), splitMix())
  }

  /// Everything that determines the rest of a generator's sequence, for
  /// checkpoints: the four xoshiro words and the Box–Muller spare, if any.
  public struct Snapshot: Codable, Equatable, Sendable {
    public var words: [UInt64]
    public var spareNormal: Double?

    public init(words: [UInt64], spareNormal: Double?) {
      self.words = words
      self.spareNormal = spareNormal
    }
  }

  /// The generator's current state; `init(restoring:)` continues the same sequence from it.
  public var snapshot: Snapshot {
    Snapshot(words: [state.0, state.1, state.2, state.3], spareNormal: spareNormal)
  }

  /// A generator that continues exactly where the one that took `snapshot` was;
  /// nil unless the snapshot holds four words, not all zero (xoshiro's one dead state).
  public init?(restoring snapshot: Snapshot) {
    guard snapshot.words.count == 4, snapshot.words.contains(where: { $0 != 0 }) else { return nil }
    state = (snapshot.words[0], snapshot.words[1], snapshot.words[2], snapshot.words[3])
    spareNormal = snapshot.spareNormal
  }

  /// An independent stream derived from this seed and a label, so that e.g.
  /// each layer's initialisation does not shift when another layer is added.
  public func derived(_ label: String) -> SeededRNG {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325  // FNV-1a over the label
    for byte in label.utf8 {
      hash ^= UInt64(byte)
      hash = hash &* 0x100_0000_01B3
    }
    return SeededRNG(seed: state.0 ^ hash)
  }

  public mutating func next() -> UInt64 {
    let result = rotateLeft(state.1 &* 5, 7) &* 9
    let shifted = state.1 << 17
    state.2 ^= state.0
    state.3 ^= state.1
    state.1 ^= state.2
    state.0 ^= state.3
    state.2 ^= shifted
    state.3 = rotateLeft(state.3, 45)
    return result
  }

  private func rotateLeft(_ value: UInt64, _ amount: UInt64) -> UInt64 {
    (value << amount) | (value >> (64 - amount))
  }

  /// Uniform in `[0, 1)` with 53 random bits.
  public mutating func uniform() -> Double {
    Double(next() >> 11) * 0x1.0p-53
  }

  /// Uniform in `[low, high)`.
  public mutating func uniform(_ low: Float, _ high: Float) -> Float {
    low + (high - low) * Float(uniform())
  }

  /// Standard normal by the Box–Muller transform (pairs are used in turn).
  public mutating func normal() -> Double {
    if let spare = spareNormal {
      spareNormal = nil
      return spare
    }
    var u1 = uniform()
    while u1 <= 0 { u1 = uniform() }
    let u2 = uniform()
    let radius = (-2 * Foundation.log(u1)).squareRoot()
    spareNormal = radius * Foundation.sin(2 * .pi * u2)
    return radius * Foundation.cos(2 * .pi * u2)
  }

  /// Normal with the given mean and standard deviation.
  public mutating func normal(mean: Float, std: Float) -> Float {
    mean + std * Float(normal())
  }

  /// Normal(mean, std) restricted to `[low, high]` by rejection, as timm's
  /// `trunc_normal_(std=0.02)` initialisation (bounds ±2 by default there).
  public mutating func truncatedNormal(
    mean: Float = 0, std: Float, low: Float = -2, high: Float = 2
  ) -> Float {
    precondition(low < high, "truncatedNormal: empty interval [\(low), \(high)]")
    for _ in 0..<1000 {
      let value = normal(mean: mean, std: std)
      if value >= low && value <= high { return value }
    }
    // Only a far-out interval gets here; its nearest bound is the honest answer.
    return mean < low ? low : high
  }

  /// A uniformly random permutation of `0..<count` (Fisher–Yates).
  public mutating func permutation(_ count: Int) -> [Int] {
    var order = Array(0..<count)
    if count < 2 { return order }
    for index in stride(from: count - 1, to: 0, by: -1) {
      let other = Int(next() % UInt64(index + 1))
      order.swapAt(index, other)
    }
    return order
  }

  /// Fills `tensor` with Normal(mean, std) values.
  public mutating func fillNormal(_ tensor: Tensor, mean: Float = 0, std: Float) {
    for index in 0..<tensor.count { tensor[index] = normal(mean: mean, std: std) }
  }

  /// Fills `tensor` with truncated Normal(0, std) values in `[-2std, 2std]`.
  public mutating func fillTruncatedNormal(_ tensor: Tensor, std: Float) {
    for index in 0..<tensor.count {
      tensor[index] = truncatedNormal(std: std, low: -2 * std, high: 2 * std)
    }
  }

  /// Fills `tensor` with Uniform(low, high) values.
  public mutating func fillUniform(_ tensor: Tensor, _ low: Float, _ high: Float) {
    for index in 0..<tensor.count { tensor[index] = uniform(low, high) }
  }
}
