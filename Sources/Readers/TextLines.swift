import Foundation

/// Plain UTF-8 text files read as lines.
public enum TextLines {
  /// The non-empty lines of the UTF-8 text file at `path` (`-`: standard input).
  ///
  /// Lines end at `\n`; a `\r` before it (Windows files) and a leading byte
  /// order mark are dropped. A line that holds only whitespace counts as empty.
  ///
  /// - Throws: `ReaderError` when the file cannot be read, is not valid UTF-8
  ///   (naming the line and byte offset of the first bad byte), or holds no
  ///   non-empty line.
  public static func read(path: String) throws -> [String] {
    let lines = try decode(AtomicFile.readAll(path), file: path)
    guard !lines.isEmpty else { throw ReaderError(file: path, "holds no text (no non-empty line)") }
    return lines
  }

  /// The non-empty lines of `data`, which must be valid UTF-8 (see `read(path:)`).
  public static func decode(_ data: Data, file: String) throws -> [String] {
    var bytes = [UInt8](data)
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
    var lines: [String] = []
    var lineNumber = 0
    var lineStart = 0
    while lineStart < bytes.count {
      lineNumber += 1
      let lineEnd = bytes[lineStart...].firstIndex(of: 0x0A) ?? bytes.count
      var contentEnd = lineEnd
      if contentEnd > lineStart, bytes[contentEnd - 1] == 0x0D { contentEnd -= 1 }
      let slice = bytes[lineStart..<contentEnd]
      guard let line = String(validating: slice, as: UTF8.self) else {
        let offset = lineStart + firstInvalidUTF8Offset(slice)
        throw ReaderError(file: file, "line \(lineNumber) is not valid UTF-8 (bad byte at offset \(offset))")
      }
      if line.unicodeScalars.contains(where: { !$0.properties.isWhitespace }) { lines.append(line) }
      lineStart = lineEnd + 1
    }
    return lines
  }

  /// The offset within `slice` of the first byte that does not decode.
  private static func firstInvalidUTF8Offset(_ slice: ArraySlice<UInt8>) -> Int {
    var decoder = UTF8()
    var iterator = slice.makeIterator()
    var decodedBytes = 0
    while case .scalarValue(let scalar) = decoder.decode(&iterator) { decodedBytes += UTF8.width(scalar) }
    return decodedBytes
  }
}
