/// The kinds of input metatx turns into token sequences.
///
/// A new modality is a case here, its tokenizer and reader, and its tests; the
/// compiler then points at every `switch` that must learn about it.
public enum Modality: String, CaseIterable, Codable, Sendable {
  /// Token embeddings given directly as `.npy` (`[N, D]` or `[B, N, D]`): the
  /// pass-through for users who build their own sequences.
  case tokens
  /// RGB pictures: PNG, JPEG, PGM/PPM, `.npy` `[H, W(, C)]`.
  case image
  /// Thermal pictures, single-channel, in the image formats.
  case infrared
  /// Radiographs, single-channel, in the image formats.
  case xray
  /// Clips: a folder of frames, a vertical strip of frames, or `.npy` `[T, H, W, C]`.
  case video

  /// Picks the modality of a file from its extension, or nil when unknown.
  public static func detect(path: String) -> Modality? {
    let lowered = path.lowercased()
    if lowered.hasSuffix(".npy") { return .tokens }
    if [".png", ".jpg", ".jpeg", ".pgm", ".ppm", ".pnm"].contains(where: lowered.hasSuffix) { return .image }
    return nil
  }
}
