import Foundation
import Readers

/// The output formats of `metatx embed`.
public enum EmbeddingFormat: String, CaseIterable, Codable, Sendable {
  /// One JSON object per line: `{"id": …, "embedding": [...]}` (streams).
  case jsonl
  /// One `[N, W]` float32 array, plus a sidecar `.json` with the ids and settings.
  case npy
  /// `id,v0,v1,…` with a header row (streams).
  case csv
  /// As csv, tab-separated (streams).
  case tsv
}

/// Writes embeddings as they are computed: streaming formats go out line by
/// line (constant memory on an input stream of any length); `.npy` is
/// collected and written atomically at the end with its sidecar.
public final class EmbeddingWriter {
  public let format: EmbeddingFormat
  public let path: String
  public let width: Int
  /// What produced the embeddings, recorded in the npy sidecar.
  public let settings: [String: String]
  private var handle: FileHandle?
  private var temporaryPath: String?
  private var ids: [String] = []
  private var values: [Float] = []
  private var wroteHeader = false

  /// - Parameter path: the output file, or `-` for standard output (not for npy's sidecar).
  public init(format: EmbeddingFormat, path: String, width: Int, settings: [String: String]) throws {
    self.format = format
    self.path = path
    self.width = width
    self.settings = settings
    guard format != .npy else { return }
    if path == AtomicFile.standardStream {
      handle = FileHandle.standardOutput
    } else {
      // Lines go to a temporary file renamed over `path` at the end, so a
      // failed run leaves no half-written output behind.
      let temporary = (path as NSString).deletingLastPathComponent.isEmpty
        ? ".\(path).partial-\(getpid())"
        : (path as NSString).deletingLastPathComponent + "/.\((path as NSString).lastPathComponent).partial-\(getpid())"
      guard FileManager.default.createFile(atPath: temporary, contents: nil),
        let opened = FileHandle(forWritingAtPath: temporary)
      else { throw ReaderError(file: path, "cannot create the output file") }
      handle = opened
      temporaryPath = temporary
    }
  }

  deinit {
    if let temporaryPath { try? FileManager.default.removeItem(atPath: temporaryPath) }
  }

  /// Adds embeddings `rows × width` (row-major) with their ids.
  public func append(ids newIDs: [String], embeddings: UnsafePointer<Float>) throws {
    switch format {
    case .npy:
      ids += newIDs
      values += UnsafeBufferPointer(start: embeddings, count: newIDs.count * width)
    case .jsonl:
      var text = ""
      for (row, id) in newIDs.enumerated() {
        let numbers = (0..<width).map { "\(embeddings[row * width + $0])" }.joined(separator: ",")
        text += "{\"id\":\(Self.jsonString(id)),\"embedding\":[\(numbers)]}\n"
      }
      handle!.write(Data(text.utf8))
    case .csv, .tsv:
      let separator = format == .csv ? "," : "\t"
      var text = ""
      if !wroteHeader {
        text += (["id"] + (0..<width).map { "e\($0)" }).joined(separator: separator) + "\n"
        wroteHeader = true
      }
      for (row, id) in newIDs.enumerated() {
        let cell = format == .csv ? Self.csvCell(id) : id.replacingOccurrences(of: "\t", with: " ")
        text += ([cell] + (0..<width).map { "\(embeddings[row * width + $0])" }).joined(separator: separator) + "\n"
      }
      handle!.write(Data(text.utf8))
    }
  }

  /// Completes the output (renames the streamed file into place; writes the npy and its sidecar).
  public func finish() throws {
    switch format {
    case .npy:
      try NPYArray(shape: [ids.count, width], values: values).write(to: path)
      if path != AtomicFile.standardStream {
        var sidecar = settings
        sidecar["rows"] = String(ids.count)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        struct Sidecar: Encodable { var settings: [String: String]; var ids: [String] }
        try AtomicFile.write(try encoder.encode(Sidecar(settings: sidecar, ids: ids)), to: sidecarPath)
      }
    case .jsonl, .csv, .tsv:
      guard let temporaryPath else { return }
      try handle?.close()
      guard rename(temporaryPath, path) == 0 else {
        throw ReaderError(file: path, "cannot move the output into place: \(String(cString: strerror(errno)))")
      }
      self.temporaryPath = nil
    }
  }

  /// `OUT.npy` → `OUT.json`.
  public var sidecarPath: String {
    path.hasSuffix(".npy") ? String(path.dropLast(4)) + ".json" : path + ".json"
  }

  private static func jsonString(_ text: String) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.withoutEscapingSlashes]
    let data = try! encoder.encode([text])
    return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
  }

  private static func csvCell(_ text: String) -> String {
    guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return text }
    return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
  }
}
