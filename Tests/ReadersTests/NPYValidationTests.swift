import Foundation
import Readers
import XCTest

/// Every broken or unsupported `.npy` is refused with a one-line ReaderError
/// naming the file and the problem.
final class NPYValidationTests: XCTestCase {
  let fileName = "broken.npy"

  func npyBytes(version: (UInt8, UInt8) = (1, 0), header: String, data: [UInt8]) -> Data {
    Data(
      [0x93] + Array("NUMPY".utf8) + [version.0, version.1] + littleEndianBytes(UInt16(header.utf8.count))
        + Array(header.utf8) + data)
  }

  func assertRefused(
    header: String, data: [UInt8] = [UInt8](repeating: 0, count: 8), contains phrase: String, line: UInt = #line
  ) {
    assertReaderError(
      try NPYArray.read(data: npyBytes(header: header, data: data), name: fileName), file: fileName,
      contains: phrase, line: line)
  }

  func header(descr: String = "'<f4'", fortranOrder: String = "False", shape: String = "(2,)") -> String {
    "{'descr': \(descr), 'fortran_order': \(fortranOrder), 'shape': \(shape), }\n"
  }

  func testWellFormedBaselineReads() throws {
    let array = try NPYArray.read(data: npyBytes(header: header(), data: littleEndianBytes([1, 2])), name: fileName)
    XCTAssertEqual(array.values, [1, 2])
  }

  func testBadMagic() {
    for data in [
      Data(), Data("NUMPY".utf8), Data([0x93] + Array("NUMPX".utf8) + [1, 0, 0, 0]), Data("PK\u{3}\u{4}zip".utf8),
    ] {
      assertReaderError(
        try NPYArray.read(data: data, name: fileName), file: fileName, contains: "not a .npy file (bad magic")
    }
  }

  func testUnsupportedVersion() {
    for version: (UInt8, UInt8) in [(4, 0), (0, 0), (1, 1)] {
      assertReaderError(
        try NPYArray.read(
          data: npyBytes(version: version, header: header(), data: littleEndianBytes([1, 2])), name: fileName),
        file: fileName, contains: "unsupported .npy version \(version.0).\(version.1)")
    }
  }

  func testTruncatedHeader() {
    let whole = npyBytes(header: header(), data: [])
    assertReaderError(
      try NPYArray.read(data: whole.prefix(30), name: fileName), file: fileName,
      contains: "truncated header: it declares \(header().utf8.count) bytes but only 20 follow")
    assertReaderError(
      try NPYArray.read(data: whole.prefix(9), name: fileName), file: fileName,
      contains: "truncated header: the file ends inside the header length")
    assertReaderError(
      try NPYArray.read(data: whole.prefix(7), name: fileName), file: fileName,
      contains: "truncated header: the file ends inside the version")
  }

  func testHeaderNotParseable() {
    assertRefused(
      header: "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)\n",
      contains: "header is not a parseable Python dict")
    assertRefused(
      header: "{'descr': '<f4', 'fortran_order': false, 'shape': (2,)}", contains: "unexpected name 'false'")
    assertRefused(
      header: "{'descr': '<f4', 'fortran_order': False, 'shape': (2.5,)}",
      contains: "header is not a parseable Python dict")
    assertRefused(header: "[1, 2]\n", contains: "header is not a parseable Python dict: found [1, 2]")
    assertRefused(header: "{'descr': '<f4'} junk", contains: "unexpected text after the literal")
    assertRefused(header: "", contains: "header is not a parseable Python dict")
    assertRefused(header: String(repeating: "(", count: 10_000), contains: "nested deeper than")
  }

  func testHeaderKeysMustBeExactlyTheThree() {
    assertRefused(
      header: "{'descr': '<f4', 'shape': (2,)}", contains: "header keys are ['descr', 'shape'], expected exactly")
    assertRefused(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}", contains: "'extra'")
    assertRefused(
      header: "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}",
      contains: "duplicate key 'descr'")
  }

  func testFortranOrderIsRefused() {
    assertRefused(header: header(fortranOrder: "True"), contains: "fortran_order: True is not supported")
    assertRefused(header: header(fortranOrder: "0"), contains: "fortran_order is 0, expected True or False")
  }

  func testBigEndianIsRefused() {
    assertRefused(header: header(descr: "'>f4'"), contains: "big-endian data ('>f4') is not supported")
    assertRefused(header: header(descr: "'=f4'"), contains: "byte order '=' in '=f4' is not little-endian")
  }

  func testPickledObjectArraysAreRefused() {
    assertRefused(header: header(descr: "'|O'"), contains: "pickled object arrays are refused")
  }

  func testStructuredDTypesAreRefused() {
    assertRefused(header: header(descr: "[('x', '<f4'), ('y', '<i4')]"), contains: "structured dtypes are refused")
    assertRefused(header: header(descr: "'|V8'"), contains: "structured dtypes are refused")
  }

  func testOtherDTypesAreUnsupported() {
    assertRefused(header: header(descr: "'<U5'"), contains: "unsupported dtype '<U5'")
    assertRefused(header: header(descr: "'<c8'"), contains: "unsupported dtype '<c8'")
    assertRefused(header: header(descr: "'<M8[ns]'"), contains: "unsupported dtype '<M8[ns]'")
    assertRefused(header: header(descr: "'f'"), contains: "descr 'f' is not a dtype string")
    assertRefused(header: header(descr: "4"), contains: "descr is 4, expected a dtype string")
  }

  func testDataShorterThanShapeSaysExpectedAndFound() {
    assertRefused(
      header: header(shape: "(2, 3)"), data: [UInt8](repeating: 0, count: 20),
      contains: "data is truncated: shape (2, 3) of '<f4' needs 24 bytes, found 20")
  }

  func testExtraBytesAfterDataAreRefused() {
    assertRefused(
      header: header(shape: "(1,)"), data: [UInt8](repeating: 0, count: 8),
      contains: "data has extra bytes (wrong shape?): shape (1,) of '<f4' needs 4 bytes, found 8")
  }

  func testBadShapes() {
    assertRefused(header: header(shape: "(-2,)"), contains: "shape entry -2 is not a non-negative integer")
    assertRefused(header: header(shape: "[2]"), contains: "shape is [2], expected a tuple")
    assertRefused(header: header(shape: "(2)"), contains: "shape is 2, expected a tuple")
    assertRefused(header: header(shape: "('2',)"), contains: "shape entry '2' is not a non-negative integer")
    assertRefused(
      header: header(shape: "(4611686018427387904, 4611686018427387904)"), contains: "overflows the element count")
    assertRefused(header: header(shape: "(4611686018427387904,)"), contains: "overflows the byte count")
    assertRefused(header: header(shape: "(99999999999999999999,)"), contains: "is not an integer that fits in 64 bits")
  }

  func testMissingFileCannotOpen() {
    assertReaderError(
      try NPYArray.read(path: "/nonexistent/a.npy"), file: "/nonexistent/a.npy",
      contains: "cannot open: No such file or directory")
  }
}
