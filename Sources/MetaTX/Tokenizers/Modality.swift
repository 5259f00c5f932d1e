/// The kinds of input metatx turns into token sequences.
///
/// A new modality is a case here, its tokenizer and reader, and its tests; the
/// compiler then points at every `switch` that must learn about it.
public enum Modality: String, CaseIterable, Codable, Sendable {
  /// Token embeddings given directly as `.npy` (`[N, D]` or `[B, N, D]`): the
  /// pass-through for users who build their own sequences.
  case tokens
  /// Sound files decoded by libsndfile (WAV, FLAC, Ogg Vorbis/Opus, MP3, AIFF,
  /// AU, CAF, W64, RF64…): AST-style patches of a Kaldi log-mel spectrogram.
  case audio

  /// Picks the modality of a file from its extension, or nil when unknown.
  public static func detect(path: String) -> Modality? {
    let lowered = path.lowercased()
    if lowered.hasSuffix(".npy") { return .tokens }
    let audioExtensions = [
      ".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aiff", ".aif", ".aifc", ".au", ".caf", ".w64", ".rf64",
    ]
    if audioExtensions.contains(where: lowered.hasSuffix) { return .audio }
    return nil
  }
}
