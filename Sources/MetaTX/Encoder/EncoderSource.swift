import Kernels
import Readers

/// Where an encoder comes from, as a user names it on the command line:
/// a safetensors file, or `random:PRESET` for a seeded random initialisation
/// (the control arm of a transfer experiment).
public enum EncoderSource: Equatable, Sendable, CustomStringConvertible {
  case file(String)
  case random(EncoderPreset)

  /// Parses `random:tiny` (any preset name) or a path.
  public init(parsing text: String) throws {
    if text.hasPrefix("random:") {
      let name = String(text.dropFirst("random:".count))
      guard let preset = EncoderPreset(rawValue: name) else {
        let known = EncoderPreset.allCases.map(\.rawValue).joined(separator: ", ")
        throw ReaderError(file: text, "unknown preset \"\(name)\" (known: \(known))")
      }
      self = .random(preset)
    } else {
      self = .file(text)
    }
  }

  public var description: String {
    switch self {
    case .file(let path): return path
    case .random(let preset): return "random:\(preset.rawValue)"
    }
  }

  /// Builds the encoder: reads the file (heads from its metadata, else `heads`,
  /// else dim/64) or initialises the preset from `seed`.
  public func load(heads: Int?, seed: UInt64) throws -> Encoder {
    switch self {
    case .file(let path):
      return try Encoder.load(path: path, heads: heads)
    case .random(let preset):
      var rng = SeededRNG(seed: seed).derived("encoder")
      return Encoder(config: preset.config, rng: &rng)
    }
  }
}
