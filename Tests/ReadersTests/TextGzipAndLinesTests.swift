import Foundation
import Readers
import XCTest

/// `Gzip.decompress` on known streams and broken ones; `TextLines` on text files.
final class TextGzipAndLinesTests: XCTestCase {
  /// Python `gzip.compress(b"hello gzip\n", mtime=0)`.
  private let helloGzip: [UInt8] = [
    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0x57, 0x48, 0xaf,
    0xca, 0x2c, 0xe0, 0x02, 0x00, 0x39, 0x7c, 0x63, 0x56, 0x0b, 0x00, 0x00, 0x00,
  ]

  private func assertReaderError(_ file: String, contains text: String, _ body: () throws -> Any) {
    XCTAssertThrowsError(try body()) { error in
      guard let error = error as? ReaderError else { return XCTFail("not a ReaderError: \(error)") }
      XCTAssertEqual(error.file, file)
      XCTAssertTrue(error.problem.contains(text), "\(error)")
      XCTAssertFalse(error.description.contains("\n"), "one line: \(error)")
    }
  }

  func testKnownStreamAndConcatenatedMembers() throws {
    XCTAssertEqual(try Gzip.decompress(Data(helloGzip), file: "h.gz"), Data("hello gzip\n".utf8))
    XCTAssertEqual(try Gzip.decompress(Data(helloGzip + helloGzip), file: "h.gz"), Data("hello gzip\nhello gzip\n".utf8))
  }

  func testBrokenStreamsAreReaderErrors() {
    assertReaderError("x.gz", contains: "not a gzip file") { try Gzip.decompress(Data("plain text, not gzip".utf8), file: "x.gz") }
    assertReaderError("x.gz", contains: "not a gzip file") { try Gzip.decompress(Data(), file: "x.gz") }
    assertReaderError("x.gz", contains: "truncated") { try Gzip.decompress(Data(helloGzip.dropLast(9)), file: "x.gz") }
    var corrupt = helloGzip
    corrupt[12] ^= 0xFF  // inside the deflate data
    assertReaderError("x.gz", contains: "corrupt") { try Gzip.decompress(Data(corrupt), file: "x.gz") }
    var badChecksum = helloGzip
    badChecksum[24] ^= 0x01  // the CRC-32 trailer
    assertReaderError("x.gz", contains: "corrupt") { try Gzip.decompress(Data(badChecksum), file: "x.gz") }
    assertReaderError("x.gz", contains: "more than 4 bytes") { try Gzip.decompress(Data(helloGzip), file: "x.gz", maximumSize: 4) }
  }

  func testLinesSkipBlankOnesAndHandleCRLFAndBOM() throws {
    let scratch = try ScratchDirectory()
    defer { scratch.remove() }
    let path = scratch.file("captions.txt")
    try Data([0xEF, 0xBB, 0xBF] + Array("a photo of a cat\r\n\n   \nCafé ☕\nlast line without newline".utf8)).write(to: URL(fileURLWithPath: path))
    XCTAssertEqual(try TextLines.read(path: path), ["a photo of a cat", "Café ☕", "last line without newline"])
  }

  func testBadTextFilesAreReaderErrors() throws {
    let scratch = try ScratchDirectory()
    defer { scratch.remove() }
    let invalid = scratch.file("invalid.txt")
    try Data(Array("good line\nbad \u{E9}".utf8) + [0xC3, 0x28] + Array(" here\n".utf8)).write(to: URL(fileURLWithPath: invalid))
    assertReaderError(invalid, contains: "line 2 is not valid UTF-8 (bad byte at offset 16)") { try TextLines.read(path: invalid) }
    let empty = scratch.file("empty.txt")
    try Data().write(to: URL(fileURLWithPath: empty))
    assertReaderError(empty, contains: "no non-empty line") { try TextLines.read(path: empty) }
    let blank = scratch.file("blank.txt")
    try Data(" \n\t\n\n".utf8).write(to: URL(fileURLWithPath: blank))
    assertReaderError(blank, contains: "no non-empty line") { try TextLines.read(path: blank) }
    let missing = scratch.file("missing.txt")
    assertReaderError(missing, contains: "cannot open") { try TextLines.read(path: missing) }
  }
}
