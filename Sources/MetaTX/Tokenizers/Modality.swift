/// The kinds of input metatx turns into token sequences.
///
/// A new modality is a case here, its tokenizer and reader, and its tests; the
/// compiler then points at every `switch` that must learn about it.
public enum Modality: String, CaseIterable, Codable, Sendable {
  /// Token embeddings given directly as `.npy` (`[N, D]` or `[B, N, D]`): the
  /// pass-through for users who build their own sequences.
  case tokens
  /// A CSV table with a header, one sample per row: numeric and categorical
  /// columns, each a token (`TabularTokenizer`).
  case tabular
  /// Inertial sensor recordings: CSV (one column per channel) or `.npy`
  /// `[T, C]`, windows of samples as tokens (`IMUTokenizer`).
  case imu
  /// Univariate or multivariate series: `.npy` `[T]`/`[T, C]`, long or wide
  /// CSV, PatchTST patches per channel as tokens (`TimeSeriesTokenizer`).
  case timeSeries = "timeseries"
  /// Hyperspectral cubes (`.npy` `[H, W, B]`, one sample per pixel) or
  /// spectra (CSV rows, `.npy` `[N, B]`), band groups as tokens (`HyperspectralTokenizer`).
  case hyperspectral

  /// Picks the modality of a file from its extension, or nil when unknown.
  public static func detect(path: String) -> Modality? {
    let lowered = path.lowercased()
    if lowered.hasSuffix(".npy") { return .tokens }
    // IMU, time series and spectra also come as CSV; they need --modality.
    if lowered.hasSuffix(".csv") || lowered.hasSuffix(".tsv") { return .tabular }
    return nil
  }
}
