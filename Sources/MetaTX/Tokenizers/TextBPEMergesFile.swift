import Foundation
import Readers

/// A learned BPE as a text file: a `#version: metatx-bpe 1` line, then one
/// merge per line (`left right`, in rank order) — the layout of CLIP's
/// `bpe_simple_vocab_16e6.txt`, so either kind of file reads the same way.
public enum BPEMergesFile {
  public static let header = "#version: metatx-bpe 1"

  /// Writes `merges` atomically (`-`: standard output).
  public static func write(_ merges: [String], to path: String) throws {
    let text = ([header] + merges).joined(separator: "\n") + "\n"
    try AtomicFile.write(Data(text.utf8), to: path)
  }

  /// The merges of a file written by `write` (or any `#version:`-headed merges list).
  public static func read(path: String) throws -> [String] {
    let data = try AtomicFile.readAll(path)
    guard let text = String(validating: data, as: UTF8.self) else {
      throw ReaderError(file: path, "merges file is not valid UTF-8")
    }
    var lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    guard let first = lines.first, first.hasPrefix("#version:") else {
      throw ReaderError(file: path, "not a merges file (expected a first line starting with #version:)")
    }
    lines.removeFirst()
    // Validates every merge, naming the first bad one.
    _ = try BPEVocabulary(merges: lines, source: path)
    return lines
  }
}
