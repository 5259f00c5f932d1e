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

/// A trained task in one safetensors file: the encoder (`encoder.`), the
/// tokenizers (`tokenizer.<modality>.`), the head (`head.`), and the
/// `TaskRecord` plus the tokenizers' configurations in `__metadata__`.
/// Self-describing: `eval` and `predict` need nothing else.
public enum TaskFile {
  public static let format = "metatx-task"
  public static let formatVersion = 1

  public static func write(_ model: TaskModel, record: TaskRecord, to path: String) throws {
    var writer = SafeTensorsWriter()
    var metadata: [String: String] = [
      "format": format, "format_version": String(formatVersion), "metatx_version": metatxVersion,
      "heads": String(model.encoder.config.heads), "eps": String(model.encoder.config.eps),
    ]
    model.encoder.add(to: &writer, prefix: "encoder.")
    for tokenizer in model.tokenizers { try tokenizer.add(to: &writer, metadata: &metadata) }
    model.head.parameters.add(to: &writer, prefix: "")
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    metadata["task"] = String(decoding: try encoder.encode(record), as: UTF8.self)
    try writer.write(to: path, metadata: metadata)
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
    let encoder = try Encoder.load(from: file, prefix: "encoder.", allowOtherTensors: true)
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
