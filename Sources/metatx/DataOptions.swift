import ArgumentParser
import Foundation
import MetaTX

extension TaskKind: ExpressibleByArgument {}
extension HeadKind: ExpressibleByArgument {}

/// The poolings that give one vector per input (`--pool` of train-head and
/// pretrain): every `Pooling` but `none`, so the help lists only these.
enum VectorPooling: String, CaseIterable, ExpressibleByArgument {
  case cls, mean, max
  case clsMean = "cls+mean"

  var pooling: Pooling {
    switch self {
    case .cls: return .cls
    case .mean: return .mean
    case .max: return .max
    case .clsMean: return .clsMean
    }
  }
}

/// How a command reads a task's data: manifests, class folders or tables.
struct DataOptions: ParsableArguments {
  @Option(help: "Manifest columns holding each sample's inputs, in order (default: path, or text for text; e.g. image,text).")
  var inputs: String?

  @Option(help: "The target column (manifests; tabular CSVs).")
  var target: String = "label"

  @Flag(help: "Skip bad rows (counted and reported) instead of stopping at the first.")
  var skipBad = false

  /// Reads `path`: a folder of class folders, a tabular CSV that is its own
  /// manifest, or a CSV/TSV/JSONL manifest.
  func read(_ path: String, kind: TaskKind, modality: Modality?, requiresTarget: Bool, report: inout BadRowReport)
    throws -> Manifest
  {
    var isFolder: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
      return try Manifest.fromFolders(root: path, modality: modality, report: &report)
    }
    if modality == .tabular && inputs == nil {
      return try Manifest.readTable(path: path, kind: kind, targetColumn: target, report: &report)
    }
    let columns: [ManifestColumn]
    if let inputs {
      columns = try ManifestColumn.parse(list: inputs)
    } else if modality == .text {
      columns = [ManifestColumn(name: "text", content: .inlineText)]
    } else {
      columns = [ManifestColumn(name: "path", content: .file(modality))]
    }
    return try Manifest.read(path: path, kind: kind, inputColumns: columns, targetColumn: target,
      requiresTarget: requiresTarget, report: &report)
  }

  var policy: BadRowPolicy { skipBad ? .skip : .stop }
}

/// Progress on a terminal only: one line on standard error, rewritten in place.
struct ProgressLine {
  let enabled = isatty(STDERR_FILENO) != 0

  func show(_ text: String) {
    guard enabled else { return }
    FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
  }

  func finish() {
    guard enabled else { return }
    FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
  }
}

/// Changes to tokenizers' default configurations (used when no model supplies them).
struct TokenizerOptions: ParsableArguments {
  @Option(name: .customLong("set"), help: "A tokenizer setting MODALITY.FIELD=VALUE, e.g. image.imageSize=28 (repeatable).")
  var settings: [String] = []

  @Option(help: "Text: a merges file written by `tokenize --train-bpe`, used instead of CLIP's vocabulary.")
  var bpe: String?

  func parsed() throws -> TokenizerSettings {
    try TokenizerSettings(parsing: settings, textMerges: bpe.map(BPEMergesFile.read(path:)))
  }
}
