import CFFTW
import Foundation

/// Real-input discrete Fourier transforms over FFTW (single precision): the
/// spectrum boundary, as `Linalg` is the BLAS one.
///
/// Plans are created once per length and reused; FFTW's planner is not
/// thread-safe, so plan creation is serialised by a lock, while executing an
/// existing plan on new arrays (`fftwf_execute_dft_r2c`) is safe from any thread.
/// Each fast routine has a plain twin (`naive…`) that the tests compare against.
public enum FFT {
  /// The power spectrum `P_k = |X_k|²`, `X_k = Σ_n x_n e^{−2πikn/N}`, for
  /// `k = 0 … N/2` (the non-redundant half of a real signal's spectrum).
  ///
  /// - Parameters:
  ///   - output: `[N/2 + 1]` power values.
  ///   - input: `[N]` real samples, `N ≥ 1` (any length; powers of two are fastest).
  public static func powerSpectrum(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, count: Int) {
    precondition(count >= 1, "FFT of \(count) samples")
    let plan = RealPlan.cached(count: count)
    let bins = count / 2 + 1
    // FFTW's new-array execute takes a mutable input; copy so the caller's stays untouched.
    let samples = UnsafeMutablePointer<Float>.allocate(capacity: count)
    defer { samples.deallocate() }
    samples.update(from: input, count: count)
    let spectrum = UnsafeMutablePointer<fftwf_complex>.allocate(capacity: bins)
    defer { spectrum.deallocate() }
    fftwf_execute_dft_r2c(plan.plan, samples, spectrum)
    for k in 0..<bins {
      let (real, imaginary) = spectrum[k]
      output[k] = real * real + imaginary * imaginary
    }
  }

  /// The plain twin of `powerSpectrum`: the O(N²) sum in Double.
  public static func naivePowerSpectrum(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, count: Int) {
    precondition(count >= 1, "DFT of \(count) samples")
    for k in 0...(count / 2) {
      var real = 0.0, imaginary = 0.0
      for n in 0..<count {
        // k·n mod N keeps the angle small, so cos/sin stay accurate for long inputs.
        let angle = -2 * Double.pi * Double((k * n) % count) / Double(count)
        real += Double(input[n]) * cos(angle)
        imaginary += Double(input[n]) * sin(angle)
      }
      output[k] = Float(real * real + imaginary * imaginary)
    }
  }
}

/// One FFTW real-to-complex plan for a fixed length, kept for the process's life.
private final class RealPlan: @unchecked Sendable {
  let plan: fftwf_plan
  let count: Int

  private static let lock = NSLock()
  nonisolated(unsafe) private static var plans: [Int: RealPlan] = [:]

  /// The plan for `count` samples, created on first use.
  static func cached(count: Int) -> RealPlan {
    lock.lock()
    defer { lock.unlock() }
    if let plan = plans[count] { return plan }
    let plan = RealPlan(count: count)
    plans[count] = plan
    return plan
  }

  private init(count: Int) {
    // FFTW_ESTIMATE plans without running trial transforms (so without touching
    // the arrays); FFTW_UNALIGNED lets the plan run on any caller's buffers.
    let input = fftwf_alloc_real(count)!
    let output = fftwf_alloc_complex(count / 2 + 1)!
    defer {
      fftwf_free(input)
      fftwf_free(output)
    }
    guard let plan = fftwf_plan_dft_r2c_1d(Int32(count), input, output, UInt32(FFTW_ESTIMATE | FFTW_UNALIGNED)) else {
      preconditionFailure("FFTW could not plan a real FFT of \(count) samples")
    }
    self.plan = plan
    self.count = count
  }
}
