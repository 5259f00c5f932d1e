import Readers

/// Turns manifest entries into decoded, labelled samples for a task model.
public enum TaskData {
  /// Decodes every entry's inputs with `tokenizers` (in the model's input
  /// order) and converts its target with `labels`.
  ///
  /// A file that cannot be read, or that holds more than one sample (a
  /// manifest row is one sample), is a bad row: `report` stops or skips it.
  /// Entries without a target (prediction) get an empty target.
  ///
  /// - Returns: the samples and, for each, the entry it came from.
  public static func samples(
    _ manifest: Manifest, kind: TaskKind, tokenizers: [AnyTokenizer], labels: LabelSet?, report: inout BadRowReport
  ) throws -> [(sample: LabelledSample, entry: ManifestEntry)] {
    var tables: [String: [AnySample]] = [:]
    var result: [(LabelledSample, ManifestEntry)] = []
    result.reserveCapacity(manifest.entries.count)
    entries: for entry in manifest.entries {
      guard entry.inputs.map(\.modality) == tokenizers.map(\.modality) else {
        throw entry.location.error(
          "inputs are \(entry.inputs.map(\.modality.rawValue)), the model takes \(tokenizers.map(\.modality.rawValue))")
      }
      var inputs: [AnySample] = []
      for (input, tokenizer) in zip(entry.inputs, tokenizers) {
        do {
          inputs.append(try decode(input, tokenizer: tokenizer, tables: &tables))
        } catch let error as ReaderError {
          try report.reject(entry.location, .unreadableFile, error.description)
          continue entries
        }
      }
      guard let target = try self.target(entry, kind: kind, labels: labels, report: &report) else { continue }
      result.append((LabelledSample(inputs: inputs, target: target), entry))
    }
    return result
  }

  private static func decode(
    _ input: ManifestInput, tokenizer: AnyTokenizer, tables: inout [String: [AnySample]]
  ) throws -> AnySample {
    switch input {
    case .file(let path, _):
      let samples = try tokenizer.read(path: path)
      guard samples.count == 1 else {
        throw ReaderError(file: path, "holds \(samples.count) samples; a manifest row names one")
      }
      return samples[0]
    case .text(let text):
      guard let sample = tokenizer.sample(text: text) else {
        throw ReaderError(file: "-", "inline text given to the \(tokenizer.modality.rawValue) tokenizer")
      }
      return sample
    case .tableRow(let path, let index):
      if tables[path] == nil { tables[path] = try tokenizer.read(path: path) }
      let rows = tables[path]!
      guard rows.indices.contains(index) else {
        throw ReaderError(file: path, "has no data row \(index + 1)")
      }
      return rows[index]
    }
  }

  /// `[class index]`, a multi-hot vector, `[value]`, or `[]` without a target;
  /// nil when the row is skipped.
  private static func target(
    _ entry: ManifestEntry, kind: TaskKind, labels: LabelSet?, report: inout BadRowReport
  ) throws -> [Float]? {
    guard let target = entry.target else { return [] }
    switch (kind, target) {
    case (.regression, .value(let value)):
      return [value]
    case (.classification, .labels(let names)):
      guard let labels, let name = names.first, let index = labels.index(of: name) else {
        try report.reject(entry.location, .unknownLabel, "label \"\(names.first ?? "")\" is not one the model knows")
        return nil
      }
      return [Float(index)]
    case (.multilabel, .labels(let names)):
      guard let labels, let hot = labels.multiHot(names) else {
        try report.reject(entry.location, .unknownLabel, "a label of \(names) is not one the model knows")
        return nil
      }
      return hot
    case (.regression, .labels), (.classification, .value), (.multilabel, .value):
      throw entry.location.error("target \(target) does not fit a \(kind.rawValue) task")
    }
  }
}
