import Foundation
import Kernels
import Readers

/// What a training run's checkpoint must match to be continued (options,
/// data sizes, parameter layout): compared field by field on resume.
protocol RunFingerprint: Codable, Equatable {}

extension RunFingerprint {
  /// The settings that differ from `other`, as `name: A in the checkpoint, B now`
  /// (nested fields by path, e.g. `options.epochs: 4 in the checkpoint, 6 now`).
  func differences(checkpoint other: Self) -> [String] {
    let now = flattened(self), then = flattened(other)
    return Set(now.keys).union(then.keys).sorted().compactMap { key in
      now[key] == then[key] ? nil : "\(key): \(then[key] ?? "absent") in the checkpoint, \(now[key] ?? "absent") now"
    }
  }

  /// Every field as compact JSON text, nested objects' fields as `outer.inner`.
  private func flattened(_ fingerprint: Self) -> [String: String] {
    guard let data = try? JSONEncoder().encode(fingerprint),
      let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    else { preconditionFailure("a fingerprint always encodes as a JSON object") }
    var fields: [String: String] = [:]
    func add(_ value: Any, at key: String) {
      if let nested = value as? [String: Any] {
        for (name, inner) in nested { add(inner, at: "\(key).\(name)") }
      } else if let text = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]) {
        fields[key] = String(decoding: text, as: UTF8.self)
      }
    }
    for (name, value) in object { add(value, at: name) }
    return fields
  }
}

/// 64-bit FNV-1a over float bit patterns: a cheap identity check, not a cryptographic one.
struct FNV1a {
  private var hash: UInt64 = 0xCBF2_9CE4_8422_2325

  mutating func add(_ value: Float) {
    var bits = value.bitPattern
    for _ in 0..<4 {
      hash ^= UInt64(bits & 0xFF)
      hash = hash &* 0x100_0000_01B3
      bits >>= 8
    }
  }

  var hex: String { String(hash, radix: 16) }
}

/// The container both training checkpoints share: one safetensors file whose
/// tensors hold exact float state and whose `__metadata__` holds `format`,
/// `format_version`, `metatx_version` and the run's JSON record under `checkpoint`.
enum CheckpointFile {
  /// Writes `tensors` and `record` to `path` atomically (temporary file, then rename).
  static func write<Record: Encodable>(
    to path: String, format: String, version: Int, record: Record, tensors: (inout SafeTensorsWriter) -> Void
  ) throws {
    var writer = SafeTensorsWriter()
    tensors(&writer)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    // A diverged run's NaN or infinite losses go as text: JSON has no such numbers.
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    let json = String(decoding: try encoder.encode(record), as: UTF8.self)
    try writer.write(to: path, metadata: [
      "format": format, "format_version": String(version), "metatx_version": metatxVersion, "checkpoint": json,
    ])
  }

  /// Opens the checkpoint at `path`, checks its format and version, decodes
  /// its record and checks the record's fingerprint against `fingerprint`:
  /// a checkpoint of another run is an error naming every difference.
  static func read<Record: Decodable, Fingerprint: RunFingerprint>(
    path: String, format: String, version: Int, as _: Record.Type, expecting fingerprint: Fingerprint,
    fingerprintOf: (Record) -> Fingerprint
  ) throws -> (file: SafeTensorsFile, record: Record) {
    let file = try SafeTensorsFile(path: path)
    guard file.metadata["format"] == format, let json = file.metadata["checkpoint"] else {
      throw ReaderError(file: path, "not a \(format) file (its metadata format is "
        + "\(file.metadata["format"].map { "\"\($0)\"" } ?? "missing"))")
    }
    guard let fileVersion = Int(file.metadata["format_version"] ?? ""), fileVersion <= version else {
      throw ReaderError(file: path, "checkpoint format version \(file.metadata["format_version"] ?? "missing") is newer than this metatx understands")
    }
    let record: Record
    do {
      let decoder = JSONDecoder()
      decoder.nonConformingFloatDecodingStrategy = .convertFromString(
        positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
      record = try decoder.decode(Record.self, from: Data(json.utf8))
    } catch {
      throw ReaderError(file: path, "the checkpoint description is unreadable: \(error)")
    }
    let differences = fingerprint.differences(checkpoint: fingerprintOf(record))
    guard differences.isEmpty else {
      throw ReaderError(file: path, "belongs to another run (\(differences.joined(separator: "; "))); "
        + "resume with the same options and data, or delete it to start afresh")
    }
    return (file, record)
  }

  /// The flat F32 tensor `name` of `file`, which must hold `count` values.
  static func floats(_ file: SafeTensorsFile, _ name: String, count: Int) throws -> [Float] {
    guard let info = file.info(name) else { throw ReaderError(file: file.file, "missing tensor \(name)") }
    guard info.shape == [count] else {
      throw ReaderError(file: file.file, "tensor \(name) has shape \(info.shape), expected [\(count)]")
    }
    return try file.floats(name)
  }
}
