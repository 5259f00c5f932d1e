import Foundation
import Readers

/// `MODALITY.FIELD=VALUE` settings that change a tokenizer's default
/// configuration from the command line (e.g. `image.imageSize=28`,
/// `image.patchSize=4`, `audio.frames=128`). Field names are the
/// configuration's own (its Codable keys); values are JSON (a bare word is a string).
public struct TokenizerSettings: Sendable {
  public let values: [Modality: [String: String]]
  /// A learned BPE (merges in rank order) that replaces CLIP's vocabulary for text.
  public let textMerges: [String]?

  public init(parsing settings: [String], textMerges: [String]? = nil) throws {
    self.textMerges = textMerges
    var values: [Modality: [String: String]] = [:]
    for setting in settings {
      guard let equals = setting.firstIndex(of: "="), let dot = setting[..<equals].firstIndex(of: "."),
        let modality = Modality(rawValue: String(setting[..<dot]))
      else {
        throw ReaderError(file: setting, "expected MODALITY.FIELD=VALUE with a known modality, e.g. image.imageSize=28")
      }
      values[modality, default: [:]][String(setting[setting.index(after: dot)..<equals])] =
        String(setting[setting.index(after: equals)...])
    }
    self.values = values
  }

  /// The command-line flags that change `modality`'s tokenizer (`--set MODALITY.…`,
  /// and `--bpe` for text), as a user would type them; empty when none do.
  public func flags(changing modality: Modality) -> [String] {
    var flags = (values[modality] ?? [:]).keys.sorted().map { "--set \(modality.rawValue).\($0)=…" }
    if modality == .text, textMerges != nil { flags.insert("--bpe", at: 0) }
    return flags
  }

  /// `configuration` with this modality's settings applied, decoded again so
  /// that a wrong field or value is reported, not ignored.
  public func apply<Configuration: Codable>(to configuration: Configuration, modality: Modality) throws -> Configuration {
    var configuration = configuration
    if let textMerges, var text = configuration as? TextTokenizer.Configuration {
      text.vocabulary = .trained(merges: textMerges)
      configuration = text as! Configuration
    }
    guard let settings = values[modality], !settings.isEmpty else { return configuration }
    let encoded = try JSONEncoder().encode(configuration)
    guard var object = try JSONSerialization.jsonObject(with: encoded) as? [String: Any] else {
      throw ReaderError(file: modality.rawValue, "its configuration is not a JSON object and takes no settings")
    }
    for (field, text) in settings {
      guard object[field] != nil else {
        let known = object.keys.sorted().joined(separator: ", ")
        throw ReaderError(file: "\(modality.rawValue).\(field)", "no such setting (known: \(known))")
      }
      object[field] = (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) ?? text
    }
    do {
      return try JSONDecoder().decode(Configuration.self, from: JSONSerialization.data(withJSONObject: object))
    } catch {
      throw ReaderError(file: modality.rawValue, "settings \(settings) do not make a valid configuration: \(error)")
    }
  }
}
