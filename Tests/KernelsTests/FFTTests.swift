import Dispatch
import Kernels
import TestSupport
import XCTest

final class FFTTests: XCTestCase {
  func testPowerSpectrumMatchesNaiveTwinForPowersOfTwoAndOddLengths() {
    var rng = SeededRNG(seed: 3)
    for count in [1, 2, 7, 64, 100, 400, 512] {
      let input = Tensor(shape: [count])
      rng.fillUniform(input, -1, 1)
      let fast = Tensor(shape: [count / 2 + 1]), plain = Tensor(shape: [count / 2 + 1])
      FFT.powerSpectrum(output: fast.data, input: input.data, count: count)
      FFT.naivePowerSpectrum(output: plain.data, input: input.data, count: count)
      // Relative to the largest power: Float32 FFT rounding grows like log N · ε · Σ|x|².
      XCTAssertLessThan(relativeError(fast.values, plain.values), 1e-5, "length \(count)")
    }
  }

  func testToneLandsInItsBin() {
    // cos(2π·5n/32) has all its power in bin 5: |X_5| = N/2.
    let count = 32
    let input = Tensor(shape: [count], values: (0..<count).map { Float(cos(2 * Double.pi * 5 * Double($0) / 32)) })
    let power = Tensor(shape: [count / 2 + 1])
    FFT.powerSpectrum(output: power.data, input: input.data, count: count)
    for k in 0...(count / 2) {
      XCTAssertEqual(power[k], k == 5 ? 256 : 0, accuracy: 1e-3, "bin \(k)")
    }
  }

  func testPlansAreSharedSafelyAcrossThreads() {
    // Many threads asking for new lengths at once exercise the planner lock.
    let input = randomTensor([300], seed: 9)
    let results = Tensor(shape: [16])
    DispatchQueue.concurrentPerform(iterations: 16) { index in
      let count = 200 + index
      let fast = Tensor(shape: [count / 2 + 1]), plain = Tensor(shape: [count / 2 + 1])
      FFT.powerSpectrum(output: fast.data, input: input.data, count: count)
      FFT.naivePowerSpectrum(output: plain.data, input: input.data, count: count)
      results[index] = Float(relativeError(fast.values, plain.values))
    }
    XCTAssertLessThan(results.values.max()!, 1e-5)
  }
}
