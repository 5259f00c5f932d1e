import Foundation
import Readers

/// Pair manifests for pretraining: a CSV/TSV/JSONL manifest whose first two
/// columns name two modalities (e.g. `image,text` or `audio,text`): file paths
/// relative to the manifest, or inline text for a `text` column. An optional
/// `split` column marks validation rows (`val`).
public enum PairManifest {
  /// The two input columns: the header's first two names, each a modality
  /// (`text` is inline text).
  public static func columns(of path: String) throws -> [ManifestColumn] {
    let data = try AtomicFile.readAll(path)
    guard let firstLine = String(decoding: data.prefix(4096), as: UTF8.self).split(whereSeparator: \.isNewline).first
    else { throw ReaderError(file: path, "is empty; expected a header such as image,text") }
    let separator: Character = path.lowercased().hasSuffix(".tsv") ? "\t" : ","
    let names = firstLine.split(separator: separator).map { $0.trimmingCharacters(in: .whitespaces) }
    guard names.count >= 2 else {
      throw ReaderError(file: path, "header \"\(firstLine)\" names fewer than two columns; expected e.g. image,text")
    }
    let columns = try names.prefix(2).map { try ManifestColumn(spec: $0) }
    return columns
  }

  /// Decodes a pair manifest's rows of `split` (nil: rows with no split or `train`).
  public static func pairs(
    _ manifest: Manifest, tokenizers: [Modality: AnyTokenizer], report: inout BadRowReport
  ) throws -> PairSet? {
    guard let first = manifest.entries.first else { return nil }
    let modalities = first.inputs.map(\.modality)
    let chosen = try modalities.map { modality -> AnyTokenizer in
      guard let tokenizer = tokenizers[modality] else {
        throw ReaderError(file: manifest.file, "no \(modality.rawValue) tokenizer")
      }
      return tokenizer
    }
    let decoded = try TaskData.samples(manifest, kind: .regression, tokenizers: chosen, labels: nil, report: &report)
    return PairSet(first: modalities[0], second: modalities[1],
      pairs: decoded.map { ($0.sample.inputs[0], $0.sample.inputs[1]) },
      groups: (groupNumbers(decoded.map { $0.entry.inputs[0] }), groupNumbers(decoded.map { $0.entry.inputs[1] })))
  }

  /// Equal numbers for equal inputs (the same path, text or table row), in order of first appearance.
  static func groupNumbers(_ inputs: [ManifestInput]) -> [Int] {
    var numbering: [ManifestInput: Int] = [:]
    return inputs.map { input in
      if let number = numbering[input] { return number }
      numbering[input] = numbering.count
      return numbering.count - 1
    }
  }
}
