import Foundation
import Readers
import XCTest

/// A fresh directory under the system temporary directory, removed by `remove()`.
struct ScratchDirectory {
  let path: String

  init() throws {
    path = FileManager.default.temporaryDirectory.path + "/readers-tests-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
  }

  func file(_ name: String) -> String { path + "/" + name }

  /// The directory's entries, hidden ones included, sorted.
  func contents() throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: path).sorted()
  }

  func remove() {
    try? FileManager.default.removeItem(atPath: path)
  }
}

/// The little-endian bytes of `value`.
func littleEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
  withUnsafeBytes(of: value.littleEndian) { Array($0) }
}

/// The little-endian bytes of each Float in `values`.
func littleEndianBytes(_ values: [Float]) -> [UInt8] {
  values.flatMap { littleEndianBytes($0.bitPattern) }
}

/// A safetensors file: the 8-byte header length, `header` as UTF-8, then `data`.
func safetensorsBytes(header: String, data: [UInt8] = []) -> Data {
  Data(littleEndianBytes(UInt64(header.utf8.count)) + Array(header.utf8) + data)
}

/// Asserts that `expression` throws a `ReaderError` for `file` whose
/// description names the file and contains `phrase`.
func assertReaderError<T>(
  _ expression: @autoclosure () throws -> T, file: String, contains phrase: String,
  sourceFile: StaticString = #filePath, line: UInt = #line
) {
  do {
    _ = try expression()
    XCTFail("expected a ReaderError containing \"\(phrase)\", but nothing was thrown", file: sourceFile, line: line)
  } catch let error as ReaderError {
    XCTAssertEqual(error.file, file, "wrong file in: \(error)", file: sourceFile, line: line)
    XCTAssertTrue(error.description.hasPrefix(file + ": "), "\(error)", file: sourceFile, line: line)
    XCTAssertTrue(
      error.description.contains(phrase), "\"\(error)\" does not contain \"\(phrase)\"", file: sourceFile, line: line)
    XCTAssertFalse(error.description.contains("\n"), "not one line: \(error)", file: sourceFile, line: line)
  } catch {
    XCTFail("expected a ReaderError, got \(type(of: error)): \(error)", file: sourceFile, line: line)
  }
}

/// Asserts two Float arrays are equal bit for bit (so NaN payloads and −0 count).
func assertSameBits(_ actual: [Float], _ expected: [Float], sourceFile: StaticString = #filePath, line: UInt = #line) {
  XCTAssertEqual(
    actual.map(\.bitPattern), expected.map(\.bitPattern), "\(actual) vs \(expected)", file: sourceFile, line: line)
}
