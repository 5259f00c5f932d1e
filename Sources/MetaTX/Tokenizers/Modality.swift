/// The kinds of input metatx turns into token sequences.
///
/// A new modality is a case here, its tokenizer and reader, and its tests; the
/// compiler then points at every `switch` that must learn about it.
public enum Modality: String, CaseIterable, Codable, Sendable {
  /// Token embeddings given directly as `.npy` (`[N, D]` or `[B, N, D]`): the
  /// pass-through for users who build their own sequences.
  case tokens
  /// UTF-8 text, one sample per non-empty line (`.txt`): CLIP's byte-level BPE
  /// or a trained one, `TextTokenizer`.
  case text

  /// Picks the modality of a file from its extension, or nil when unknown.
  public static func detect(path: String) -> Modality? {
    let lowered = path.lowercased()
    if lowered.hasSuffix(".npy") { return .tokens }
    if lowered.hasSuffix(".txt") { return .text }
    return nil
  }
}
