import Foundation
import Kernels
import Readers

/// A metatx model: the shared encoder and the tokenizers trained with it, in
/// one safetensors file.
///
/// Layout: encoder tensors under `encoder.` (official block names after the
/// prefix), each tokenizer's under `tokenizer.<modality>.`; `__metadata__`
/// holds `format` = `metatx-model`, `format_version`, the encoder
/// configuration as JSON (`encoder`, with `heads` and `eps` also as plain
/// keys, as in encoder files), and one JSON configuration per
/// tokenizer (`tokenizer.<modality>`).
public final class Model {
  public static let format = "metatx-model"
  public static let formatVersion = 1
  public static let encoderPrefix = "encoder."

  public let encoder: Encoder
  public private(set) var tokenizers: [Modality: AnyTokenizer]
  /// The shared embedding space of a pretrained model, with the pooling its
  /// projections were trained on; nil for a plain encoder + tokenizers.
  public var projections: (projections: ContrastiveProjections, pooling: Pooling)?

  public init(encoder: Encoder, tokenizers: [AnyTokenizer] = []) {
    self.encoder = encoder
    self.tokenizers = [:]
    for tokenizer in tokenizers { add(tokenizer) }
  }

  /// Adds (or replaces) the tokenizer of its modality; its width must be the encoder's.
  public func add(_ tokenizer: AnyTokenizer) {
    precondition(tokenizer.dim == encoder.config.dim,
      "\(tokenizer.modality) tokenizer width \(tokenizer.dim) ≠ encoder dim \(encoder.config.dim)")
    tokenizers[tokenizer.modality] = tokenizer
  }

  /// Writes the model atomically (temporary file, then rename).
  public func write(to path: String) throws {
    var writer = SafeTensorsWriter()
    var metadata: [String: String] = [
      "format": Self.format, "format_version": String(Self.formatVersion), "metatx_version": metatxVersion,
    ]
    encoder.add(to: &writer, prefix: Self.encoderPrefix)
    // Sorted keys: the same model gives the same bytes in every process.
    let json = JSONEncoder()
    json.outputFormatting = [.sortedKeys]
    let configuration = try json.encode(encoder.config)
    metadata["encoder"] = String(decoding: configuration, as: UTF8.self)
    // Encoder.load reads the shape it cannot infer from the tensors here.
    metadata["heads"] = String(encoder.config.heads)
    metadata["eps"] = String(encoder.config.eps)
    for modality in tokenizers.keys.sorted(by: { $0.rawValue < $1.rawValue }) {
      try tokenizers[modality]!.add(to: &writer, metadata: &metadata)
    }
    if let (projections, pooling) = projections {
      projections.parameters.add(to: &writer, prefix: "")
      let record = ContrastiveProjections.Record(modalities: projections.modalities, inputWidth: projections.inputWidth,
        embeddingWidth: projections.embeddingWidth, pooling: pooling)
      metadata["projections"] = String(decoding: try json.encode(record), as: UTF8.self)
    }
    try writer.write(to: path, metadata: metadata)
  }

  /// Reads a model file. Tokenizers are restored through `loadTokenizer`,
  /// which maps a modality to its concrete tokenizer type.
  public static func load(
    from file: SafeTensorsFile, loadTokenizer: (Modality, SafeTensorsFile) throws -> AnyTokenizer?
  ) throws -> Model {
    guard file.metadata["format"] == format else {
      throw ReaderError(file: file.file,
        "not a metatx model (metadata format is \(file.metadata["format"].map { "\"\($0)\"" } ?? "missing"), expected \"\(format)\")")
    }
    guard let versionText = file.metadata["format_version"], let version = Int(versionText),
      version <= formatVersion
    else {
      throw ReaderError(file: file.file,
        "model format version \(file.metadata["format_version"] ?? "missing") is newer than this metatx understands (\(formatVersion))")
    }
    let encoder = try Encoder.load(from: file, prefix: encoderPrefix, allowOtherTensors: true)
    let model = Model(encoder: encoder)
    for modality in Modality.allCases where file.metadata["tokenizer.\(modality.rawValue)"] != nil {
      if let tokenizer = try loadTokenizer(modality, file) {
        guard tokenizer.dim == encoder.config.dim else {
          throw ReaderError(file: file.file,
            "\(modality.rawValue) tokenizer width \(tokenizer.dim) does not match the encoder's dim \(encoder.config.dim)")
        }
        model.add(tokenizer)
      }
    }
    if let json = file.metadata["projections"] {
      guard let record = try? JSONDecoder().decode(ContrastiveProjections.Record.self, from: Data(json.utf8)) else {
        throw ReaderError(file: file.file, "the projections description is unreadable")
      }
      let projections = ContrastiveProjections(modalities: record.modalities, inputWidth: record.inputWidth,
        embeddingWidth: record.embeddingWidth)
      try projections.parameters.load(from: file, prefix: "")
      model.projections = (projections, record.pooling)
    }
    return model
  }
}
