import Foundation
import Kernels
import Readers

/// What a task file records besides tensors (`__metadata__["task"]`, JSON).
public struct TaskRecord: Codable, Equatable, Sendable {
  public var kind: TaskKind
  public var labels: [String]
  public var inputs: [Modality]
  public var pooling: Pooling
  public var head: HeadKind
  public var outputs: Int
  /// Where the encoder came from (a path or `random:PRESET`) and whether it was tuned.
  public var encoderSource: String
  public var options: TrainingOptions
  /// The epochs trained (empty for a ridge head).
  public var epochs: [EpochRecord]

  public init(
    kind: TaskKind, labels: [String], inputs: [Modality], pooling: Pooling, head: HeadKind, outputs: Int,
    encoderSource: String, options: TrainingOptions, epochs: [EpochRecord]
  ) {
    self.kind = kind
    self.labels = labels
    self.inputs = inputs
    self.pooling = pooling
    self.head = head
    self.outputs = outputs
    self.encoderSource = encoderSource
    self.options = options
    self.epochs = epochs
  }
}

/// A frozen encoder named by its file instead of copied into a task file: a
/// task trained on the 340 MB Meta-Transformer-B16 stays a few megabytes.
/// The digest makes the reference safe: a task never runs on an encoder
/// other than the one it was trained on.
public struct EncoderReference: Codable, Equatable, Sendable {
  /// The encoder file's absolute path when the task was trained.
  public var path: String
  /// SHA-256 of the whole file (64 hex digits).
  public var sha256: String
  /// Where the encoder's tensors are in the file: `encoder.` in metatx model
  /// files, `""` in the official layout.
  public var prefix: String
  public var heads: Int
  /// The built-in default model, which is also looked for where this
  /// metatx finds its default model (an installed copy, `METATX_MODEL`).
  public var isBuiltInDefault: Bool

  /// Names the encoder stored under `prefix` in the file at `path` (hashes the file).
  public init(path: String, prefix: String, heads: Int, isBuiltInDefault: Bool) throws {
    let file = try SafeTensorsFile(path: path)
    self.path = URL(fileURLWithPath: path).standardizedFileURL.path
    sha256 = file.sha256()
    self.prefix = prefix
    self.heads = heads
    self.isBuiltInDefault = isBuiltInDefault
  }

  /// The places the encoder file is looked for, in order: the recorded path,
  /// a file of the same name beside the task file (a task copied together
  /// with its encoder), and for the default model where metatx finds it now.
  public func candidates(taskFile: String) -> [String] {
    var paths = [path]
    let beside = URL(fileURLWithPath: taskFile).deletingLastPathComponent()
      .appendingPathComponent(URL(fileURLWithPath: path).lastPathComponent).standardizedFileURL.path
    paths.append(beside)
    if isBuiltInDefault, let located = DefaultModel.locate() { paths.append(located) }
    var seen = Set<String>()
    return paths.filter { seen.insert($0).inserted }
  }

  /// Loads the encoder from the first candidate whose digest matches; an
  /// error naming what was found where when none does.
  public func loadEncoder(taskFile: String) throws -> Encoder {
    var findings: [String] = []
    for candidate in candidates(taskFile: taskFile) {
      guard FileManager.default.fileExists(atPath: candidate) else {
        findings.append("\(candidate) is missing")
        continue
      }
      let file = try SafeTensorsFile(path: candidate)
      let digest = file.sha256()
      guard digest == sha256 else {
        findings.append("\(candidate) has changed (SHA-256 \(digest.prefix(12))…)")
        continue
      }
      return try Encoder.load(from: file, prefix: prefix, heads: heads, allowOtherTensors: true)
    }
    throw ReaderError(file: taskFile,
      "its frozen encoder (SHA-256 \(sha256.prefix(12))…) is not available: \(findings.joined(separator: "; ")); "
        + "restore that file, or train the task again (with --embed-encoder to keep a copy inside it)")
  }
}

/// A trained task in one safetensors file: the tokenizers
/// (`tokenizer.<modality>.`), the head (`head.`), the `TaskRecord` plus the
/// tokenizers' configurations in `__metadata__`, and the encoder: a copy under
/// `encoder.` (always when it was tuned), or for a frozen encoder file its
/// `EncoderReference` (`__metadata__["encoder_reference"]`).
/// `eval` and `predict` need nothing else (but the referenced file).
public enum TaskFile {
  public static let format = "metatx-task"
  public static let formatVersion = 1
  static let encoderReferenceKey = "encoder_reference"

  /// Writes the task atomically; with `encoderReference`, the encoder is named, not copied.
  public static func write(
    _ model: TaskModel, record: TaskRecord, to path: String, encoderReference: EncoderReference? = nil
  ) throws {
    var writer = SafeTensorsWriter()
    var metadata: [String: String] = [
      "format": format, "format_version": String(formatVersion), "metatx_version": metatxVersion,
      "heads": String(model.encoder.config.heads), "eps": String(model.encoder.config.eps),
    ]
    let jsonEncoder = JSONEncoder()
    jsonEncoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    if let encoderReference {
      metadata[encoderReferenceKey] = String(decoding: try jsonEncoder.encode(encoderReference), as: UTF8.self)
    } else {
      model.encoder.add(to: &writer, prefix: "encoder.")
    }
    for tokenizer in model.tokenizers { try tokenizer.add(to: &writer, metadata: &metadata) }
    model.head.parameters.add(to: &writer, prefix: "")
    metadata["task"] = String(decoding: try jsonEncoder.encode(record), as: UTF8.self)
    try writer.write(to: path, metadata: metadata)
  }

  /// Whether `path` is a readable safetensors file written by train-head.
  public static func isTaskFile(path: String) -> Bool {
    path != AtomicFile.standardStream && (try? SafeTensorsFile(path: path))?.metadata["format"] == format
  }

  public static func load(path: String) throws -> (model: TaskModel, record: TaskRecord) {
    let file = try SafeTensorsFile(path: path)
    guard file.metadata["format"] == format, let json = file.metadata["task"] else {
      throw ReaderError(file: path, "not a metatx task file (train one with `metatx train-head`)")
    }
    guard let version = Int(file.metadata["format_version"] ?? ""), version <= formatVersion else {
      throw ReaderError(file: path, "task format version \(file.metadata["format_version"] ?? "missing") is newer than this metatx understands")
    }
    let record: TaskRecord
    do {
      record = try JSONDecoder().decode(TaskRecord.self, from: Data(json.utf8))
    } catch {
      throw ReaderError(file: path, "the task description is unreadable: \(error)")
    }
    let encoder: Encoder
    if let json = file.metadata[encoderReferenceKey] {
      guard let reference = try? JSONDecoder().decode(EncoderReference.self, from: Data(json.utf8)) else {
        throw ReaderError(file: path, "the encoder reference is unreadable")
      }
      encoder = try reference.loadEncoder(taskFile: path)
    } else {
      encoder = try Encoder.load(from: file, prefix: "encoder.", allowOtherTensors: true)
    }
    let tokenizers = try record.inputs.map { modality -> AnyTokenizer in
      guard let tokenizer = try modality.loadTokenizer(from: file) else {
        throw ReaderError(file: path, "input \(modality.rawValue) has no tokenizer")
      }
      return tokenizer
    }
    let head = TaskHead(kind: record.head, inputWidth: record.pooling.outputWidth(dim: encoder.config.dim),
      outputs: record.outputs)
    try head.parameters.load(from: file, prefix: "")
    let model = TaskModel(kind: record.kind, labels: record.labels, tokenizers: tokenizers, encoder: encoder,
      pooling: record.pooling, head: head)
    return (model, record)
  }
}
