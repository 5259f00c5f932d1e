import Foundation
import Kernels
import Readers

/// Reading and writing encoder weights in safetensors files.
///
/// Two layouts exist: the official Meta-Transformer layout (block tensors with
/// no prefix: `0.norm1.weight`, … as written by `Scripts/convert_checkpoint.py`),
/// and metatx model files, which keep the encoder under `encoder.` beside
/// tokenizers and heads. Depth and width come from the tensors themselves;
/// heads from the `heads` metadata, else the caller, else `dim / 64`.
extension Encoder {
  /// The tensor suffixes of one block, in the official layout.
  static let blockTensorSuffixes = [
    "norm1.weight", "norm1.bias", "attn.qkv.weight", "attn.qkv.bias", "attn.proj.weight",
    "attn.proj.bias", "norm2.weight", "norm2.bias", "mlp.fc1.weight", "mlp.fc1.bias",
    "mlp.fc2.weight", "mlp.fc2.bias",
  ]

  /// Loads the encoder stored in `file` under `prefix` (`""` for the official layout).
  ///
  /// - Parameters:
  ///   - heads: used when the file's metadata does not name the head count.
  ///   - allowOtherTensors: false for a pure encoder file, where any tensor
  ///     outside the encoder is an error; true for model files that also hold
  ///     tokenizers and heads.
  public static func load(
    from file: SafeTensorsFile, prefix: String = "", heads: Int? = nil, allowOtherTensors: Bool = false
  ) throws -> Encoder {
    let config = try inferConfig(file, prefix: prefix, heads: heads)
    let encoder = Encoder(config: config)
    let expected = Set(encoder.parameters.entries.map { prefix + $0.name })
    if !allowOtherTensors {
      let extra = file.names.filter { !expected.contains($0) }
      if !extra.isEmpty {
        throw ReaderError(file: file.file,
          "\(extra.count) tensor(s) are not part of a \(config.depth)-block encoder, e.g. \(extra.prefix(3).joined(separator: ", "))")
      }
    }
    try encoder.parameters.load(from: file, prefix: prefix)
    return encoder
  }

  /// Opens `path` and loads the official-layout encoder in it.
  public static func load(path: String, heads: Int? = nil) throws -> Encoder {
    try load(from: SafeTensorsFile(path: path), heads: heads)
  }

  /// The metadata that describes this encoder's shape in a file.
  public var fileMetadata: [String: String] {
    ["heads": String(config.heads), "eps": String(config.eps), "format": "metatx-encoder",
     "metatx_version": metatxVersion]
  }

  /// Adds every encoder tensor to `writer` under `prefix`.
  public func add(to writer: inout SafeTensorsWriter, prefix: String = "") {
    parameters.add(to: &writer, prefix: prefix)
  }

  /// Writes the encoder alone, in the official layout, atomically.
  public func write(to path: String) throws {
    var writer = SafeTensorsWriter()
    add(to: &writer)
    try writer.write(to: path, metadata: fileMetadata)
  }

  private static func inferConfig(_ file: SafeTensorsFile, prefix: String, heads: Int?) throws -> EncoderConfig {
    var depth = 0
    while file.info("\(prefix)\(depth).norm1.weight") != nil { depth += 1 }
    guard depth > 0 else {
      throw ReaderError(file: file.file,
        "no encoder blocks found (expected tensors named \(prefix)0.norm1.weight, \(prefix)0.attn.qkv.weight, …)")
    }
    guard let fc1 = file.info("\(prefix)0.mlp.fc1.weight"), fc1.shape.count == 2,
      let norm = file.info("\(prefix)0.norm1.weight"), norm.shape.count == 1
    else {
      throw ReaderError(file: file.file, "block 0 lacks a 1-D norm1.weight or a 2-D mlp.fc1.weight")
    }
    let dim = norm.shape[0]
    let metadataHeads = try file.metadata["heads"].map { text -> Int in
      guard let value = Int(text), value > 0 else {
        throw ReaderError(file: file.file, "metadata heads \"\(text)\" is not a positive integer")
      }
      return value
    }
    let eps = try file.metadata["eps"].map { text -> Float in
      guard let value = Float(text), value > 0, value.isFinite else {
        throw ReaderError(file: file.file, "metadata eps \"\(text)\" is not a positive number")
      }
      return value
    }
    let config = EncoderConfig(
      dim: dim, depth: depth, heads: metadataHeads ?? heads ?? max(1, dim / 64),
      mlpHidden: fc1.shape[0], eps: eps ?? 1e-5)
    if let problem = config.problem { throw ReaderError(file: file.file, problem) }
    return config
  }
}
