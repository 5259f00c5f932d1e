/// The kinds of input metatx turns into token sequences.
///
/// A new modality is a case here, its tokenizer and reader, and its tests; the
/// compiler then points at every `switch` that must learn about it.
public enum Modality: String, CaseIterable, Codable, Sendable {
  /// Token embeddings given directly as `.npy` (`[N, D]` or `[B, N, D]`): the
  /// pass-through for users who build their own sequences.
  case tokens
  /// Point clouds and meshes: PLY, OFF (surface-sampled), XYZ/TXT text, or
  /// `.npy` `[N, 3+]` given with an explicit modality.
  case pointCloud = "pointcloud"
  /// Graphs: JSON node/edge lists or plain edge lists (`a b [label]` lines).
  case graph
  /// Sound files decoded by libsndfile (WAV, FLAC, Ogg Vorbis/Opus, MP3, AIFF,
  /// AU, CAF, W64, RF64…): AST-style patches of a Kaldi log-mel spectrogram.
  case audio
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
  /// RGB pictures: PNG, JPEG, PGM/PPM, `.npy` `[H, W(, C)]`.
  case image
  /// Thermal pictures, single-channel, in the image formats.
  case infrared
  /// Radiographs, single-channel, in the image formats.
  case xray
  /// Clips: a folder of frames, a vertical strip of frames, or `.npy` `[T, H, W, C]`.
  case video
  /// UTF-8 text, one sample per non-empty line (`.txt`): CLIP's byte-level BPE
  /// or a trained one, `TextTokenizer`.
  case text

  /// Picks the modality of a file from its extension, or nil when unknown.
  public static func detect(path: String) -> Modality? {
    let lowered = path.lowercased()
    if lowered.hasSuffix(".npy") { return .tokens }
    if [".ply", ".off", ".xyz", ".pts"].contains(where: lowered.hasSuffix) { return .pointCloud }
    if [".graph.json", ".edgelist", ".edges"].contains(where: lowered.hasSuffix) { return .graph }
    let audioExtensions = [
      ".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aiff", ".aif", ".aifc", ".au", ".caf", ".w64", ".rf64",
    ]
    if audioExtensions.contains(where: lowered.hasSuffix) { return .audio }
    // IMU, time series and spectra also come as CSV; they need --modality.
    if lowered.hasSuffix(".csv") || lowered.hasSuffix(".tsv") { return .tabular }
    if [".png", ".jpg", ".jpeg", ".pgm", ".ppm", ".pnm"].contains(where: lowered.hasSuffix) { return .image }
    if lowered.hasSuffix(".txt") { return .text }
    return nil
  }
}
