import Foundation
import Readers
import XCTest

/// Every broken or hostile file is refused with a one-line ReaderError naming
/// the file and the problem, on open, before any tensor is read.
final class SafeTensorsValidationTests: XCTestCase {
  let fileName = "broken.safetensors"

  /// A header with one tensor entry whose fields are given as raw JSON text.
  func entryHeader(dtype: String = "\"F32\"", shape: String = "[2, 3]", offsets: String = "[0, 24]") -> String {
    "{\"w\": {\"dtype\": \(dtype), \"shape\": \(shape), \"data_offsets\": \(offsets)}}"
  }

  func assertRefused(
    header: String, data: [UInt8] = [UInt8](repeating: 0, count: 24), contains phrase: String,
    line: UInt = #line
  ) {
    assertReaderError(
      try SafeTensorsFile(data: safetensorsBytes(header: header, data: data), name: fileName),
      file: fileName, contains: phrase, line: line)
  }

  func testWellFormedBaselineOpens() throws {
    let file = try SafeTensorsFile(
      data: safetensorsBytes(header: entryHeader(), data: [UInt8](repeating: 0, count: 24)), name: fileName)
    XCTAssertEqual(try file.floats("w"), [Float](repeating: 0, count: 6))
  }

  func testFileShorterThanLengthField() {
    for size in 0..<8 {
      assertReaderError(
        try SafeTensorsFile(data: Data(repeating: 1, count: size), name: fileName), file: fileName,
        contains: "\(size) bytes, too short for the 8-byte header length")
    }
  }

  func testHeaderLengthBeyondFile() {
    let data = Data(littleEndianBytes(UInt64(50)) + Array("{}".utf8))
    assertReaderError(
      try SafeTensorsFile(data: data, name: fileName), file: fileName, contains: "runs past the end of the file")
  }

  /// A tiny file claiming a gigantic header is refused from the length field
  /// alone: no allocation of the claimed size, no scan, so it takes microseconds.
  func testHugeHeaderLengthClaimIsRefusedQuickly() {
    for claim: UInt64 in [100_000_001, 1 << 40, UInt64.max] {
      let data = Data(littleEndianBytes(claim) + Array("{}".utf8))
      let start = Date()
      assertReaderError(try SafeTensorsFile(data: data, name: fileName), file: fileName, contains: "(100 MB) limit")
      XCTAssertLessThan(Date().timeIntervalSince(start), 0.5)
    }
  }

  func testHugeHeaderLengthClaimInAFileOnDiskIsRefused() throws {
    let scratch = try ScratchDirectory()
    defer { scratch.remove() }
    let path = scratch.file("claim.safetensors")
    try AtomicFile.write(Data(littleEndianBytes(UInt64(200_000_000)) + Array("{}".utf8)), to: path)
    assertReaderError(try SafeTensorsFile(path: path), file: path, contains: "(100 MB) limit")
  }

  func testMissingFileCannotOpen() {
    assertReaderError(
      try SafeTensorsFile(path: "/nonexistent/x.safetensors"), file: "/nonexistent/x.safetensors",
      contains: "cannot open: No such file or directory")
  }

  func testEmptyFileOnDiskIsTooShort() throws {
    let scratch = try ScratchDirectory()
    defer { scratch.remove() }
    let path = scratch.file("empty.safetensors")
    try AtomicFile.write(Data(), to: path)
    assertReaderError(try SafeTensorsFile(path: path), file: path, contains: "0 bytes, too short")
  }

  func testHeaderNotUTF8() {
    let header: [UInt8] = Array("{\"".utf8) + [0xFF, 0xFE] + Array("\": 1}".utf8)
    let data = Data(littleEndianBytes(UInt64(header.count)) + header)
    assertReaderError(
      try SafeTensorsFile(data: data, name: fileName), file: fileName, contains: "header is not valid UTF-8")
  }

  func testHeaderNotJSON() {
    assertRefused(header: "{\"w\": {\"dtype\": \"F32\",", contains: "header is not valid JSON")
    assertRefused(header: "{'w': 1}", contains: "header is not valid JSON")
    assertRefused(header: "{} trailing", contains: "unexpected text after the JSON value")
    assertRefused(header: "{\"a\": 01}", contains: "header is not valid JSON")
    assertRefused(header: "{\"a\": \"\\ud800\"}", contains: "unpaired UTF-16 surrogate")
    assertRefused(header: "", contains: "header is not valid JSON")
  }

  func testHeaderNotAnObject() {
    assertRefused(header: "[1, 2]", contains: "header is an array, expected a JSON object")
    assertRefused(header: "\"w\"", contains: "header is a string, expected a JSON object")
  }

  func testDuplicateKeyIsRefusedRatherThanOneSilentlyWinning() {
    let entry = "{\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}"
    assertRefused(header: "{\"w\": \(entry), \"w\": \(entry)}", contains: "duplicate key \"w\"")
  }

  func testDeepNestingIsRefusedWithoutExhaustingTheStack() {
    let depth = 100_000
    assertRefused(
      header: "{\"__metadata__\": " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}",
      contains: "nested deeper than 64 levels")
  }

  func testEntryMissingFields() {
    assertRefused(
      header: "{\"w\": {\"shape\": [2, 3], \"data_offsets\": [0, 24]}}", contains: "tensor \"w\": missing \"dtype\"")
    assertRefused(
      header: "{\"w\": {\"dtype\": \"F32\", \"data_offsets\": [0, 24]}}", contains: "tensor \"w\": missing \"shape\"")
    assertRefused(
      header: "{\"w\": {\"dtype\": \"F32\", \"shape\": [2, 3]}}", contains: "tensor \"w\": missing \"data_offsets\"")
  }

  func testEntryWithWrongJSONTypes() {
    assertRefused(header: "{\"w\": [1, 2]}", contains: "tensor \"w\": entry is an array, expected an object")
    assertRefused(header: entryHeader(dtype: "32"), contains: "\"dtype\" is a number, expected a string")
    assertRefused(header: entryHeader(shape: "\"2x3\""), contains: "\"shape\" is a string, expected an array")
    assertRefused(header: entryHeader(offsets: "{}"), contains: "\"data_offsets\" is an object, expected an array")
    assertRefused(
      header: entryHeader(shape: "[2, \"3\"]"), contains: "\"shape\" entry \"3\" is not a non-negative integer")
    assertRefused(header: entryHeader(offsets: "[0, 24, 48]"), contains: "has 3 entries, expected [begin, end]")
  }

  func testUnknownDType() {
    assertRefused(header: entryHeader(dtype: "\"F99\""), contains: "tensor \"w\": unknown dtype \"F99\"")
    assertRefused(header: entryHeader(dtype: "\"f32\""), contains: "unknown dtype \"f32\"")
  }

  func testNegativeOrNonIntegerShape() {
    assertRefused(header: entryHeader(shape: "[-2, -3]"), contains: "\"shape\" entry -2 is not a non-negative integer")
    assertRefused(header: entryHeader(shape: "[2.5, 3]"), contains: "\"shape\" entry 2.5 is not a non-negative integer")
    assertRefused(header: entryHeader(shape: "[2.0, 3]"), contains: "\"shape\" entry 2.0 is not a non-negative integer")
    assertRefused(
      header: entryHeader(shape: "[99999999999999999999]"), contains: "is not a non-negative integer")
  }

  func testShapeWhoseByteCountOverflows() {
    assertRefused(
      header: entryHeader(shape: "[4611686018427387904, 4611686018427387904]"),
      contains: "shape [4611686018427387904, 4611686018427387904] of F32 overflows the byte count")
    assertRefused(header: entryHeader(shape: "[2305843009213693952]"), contains: "overflows the byte count")
  }

  func testShapeThatDoesNotMatchTheByteRange() {
    assertRefused(
      header: entryHeader(offsets: "[0, 20]"), contains: "shape [2, 3] of F32 needs 24 bytes but data_offsets span 20")
    assertRefused(
      header: entryHeader(dtype: "\"F16\""), contains: "shape [2, 3] of F16 needs 12 bytes but data_offsets span 24")
    assertRefused(
      header: entryHeader(dtype: "\"F4\"", shape: "[3]", offsets: "[0, 2]"),
      contains: "does not fill a whole number of bytes")
  }

  func testOffsetsBeginAfterEnd() {
    assertRefused(header: entryHeader(offsets: "[24, 0]"), contains: "data_offsets [24, 0] begin after end")
  }

  func testOffsetsBeyondDataSection() {
    assertRefused(
      header: entryHeader(offsets: "[8, 32]"), contains: "data_offsets end 32 is beyond the 24-byte data section")
    assertRefused(
      header: entryHeader(offsets: "[-1, 23]"), contains: "\"data_offsets\" entry -1 is not a non-negative integer")
  }

  func testOverlappingTensors() {
    let header =
      "{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]},"
      + " \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [12, 20]}}"
    assertRefused(header: header, contains: "tensors \"a\" and \"b\" overlap")
    let identical =
      "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8, 16]},"
      + " \"b\": {\"dtype\": \"I64\", \"shape\": [1], \"data_offsets\": [8, 16]}}"
    assertRefused(header: identical, contains: "overlap")
  }

  func testEmptyTensorsAtTheSameOffsetDoNotOverlap() throws {
    let header =
      "{\"a\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [0, 0]},"
      + " \"b\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}"
    let file = try SafeTensorsFile(data: safetensorsBytes(header: header, data: littleEndianBytes([7])), name: fileName)
    XCTAssertEqual(try file.floats("a"), [])
    XCTAssertEqual(try file.floats("b"), [7])
  }

  func testMetadataNotAnObjectOfStrings() {
    assertRefused(
      header: "{\"__metadata__\": [\"a\"]}", contains: "__metadata__ must be an object of strings, found an array")
    assertRefused(
      header: "{\"__metadata__\": {\"epoch\": 3}}",
      contains: "__metadata__ must be an object of strings, found a number")
    assertRefused(
      header: "{\"__metadata__\": {\"a\": {}}}", contains: "__metadata__ must be an object of strings, found an object")
  }

  func testUnsupportedDTypeOpensButRefusesConversion() throws {
    let header = "{\"q\": {\"dtype\": \"F8_E4M3\", \"shape\": [4], \"data_offsets\": [0, 4]}}"
    let file = try SafeTensorsFile(data: safetensorsBytes(header: header, data: [1, 2, 3, 4]), name: fileName)
    XCTAssertEqual(file.info("q")?.dtype, .f8E4M3)
    assertReaderError(try file.floats("q"), file: fileName, contains: "tensor \"q\" has unsupported dtype F8_E4M3")
    assertReaderError(try file.tensor("q"), file: fileName, contains: "unsupported dtype F8_E4M3")
  }

  func testMissingTensorNameNamesFileAndTensor() throws {
    let file = try SafeTensorsFile(
      data: safetensorsBytes(header: entryHeader(), data: [UInt8](repeating: 0, count: 24)), name: fileName)
    assertReaderError(
      try file.floats("encoder.missing"), file: fileName, contains: "no tensor named \"encoder.missing\"")
    assertReaderError(
      try file.tensor("encoder.missing"), file: fileName, contains: "no tensor named \"encoder.missing\"")
  }
}
