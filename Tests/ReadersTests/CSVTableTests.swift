import Foundation
import Readers
import XCTest

/// The CSV layer under the tabular, IMU, time-series and spectra readers:
/// quoting, delimiters, header rules, and one-line errors naming file, row and column.
final class CSVTableTests: XCTestCase {
  private var scratch: ScratchDirectory!

  override func setUpWithError() throws { scratch = try ScratchDirectory() }
  override func tearDown() { scratch.remove() }

  private func write(_ name: String, _ text: String) throws -> String {
    let path = scratch.file(name)
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    return path
  }

  private func assertError(_ expression: @autoclosure () throws -> Any, contains parts: [String], file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertThrowsError(try expression(), file: file, line: line) { error in
      guard let readerError = error as? ReaderError else {
        return XCTFail("expected a ReaderError, got \(error)", file: file, line: line)
      }
      XCTAssertFalse(readerError.description.contains("\n"), "error spans lines: \(readerError)", file: file, line: line)
      for part in parts {
        XCTAssertTrue(readerError.description.contains(part), "\"\(readerError)\" lacks \"\(part)\"", file: file, line: line)
      }
    }
  }

  func testQuotingCRLFAndByteOrderMark() throws {
    let path = try write(
      "quoted.csv", "\u{FEFF}name,value\r\n\"a, b\",1\r\n\"say \"\"hi\"\"\",2\r\n\r\n\"two\nlines\", 3.5\r\n")
    let table = try CSVTable.read(path: path)
    XCTAssertEqual(table.header, ["name", "value"])
    XCTAssertEqual(table.rows.map { $0[0] }, ["a, b", "say \"hi\"", "two\nlines"])
    XCTAssertEqual(try table.numbers(columns: [1]), [1, 2, 3.5])
    XCTAssertEqual(table.firstRowNumber, 2)
    // The blank record before the last row counts, so errors name the row the file shows.
    XCTAssertEqual(table.rows.indices.map(table.rowNumber), [2, 3, 5])
  }

  func testAnExplicitDelimiterOverridesTheName() throws {
    let table = try CSVTable.parse(text: "a\tb\n1,5\t2\n", file: "-", delimiter: "\t")
    XCTAssertEqual(table.rows, [["1,5", "2"]])
  }

  func testTabSeparatedByExtension() throws {
    let table = try CSVTable.read(path: try write("table.tsv", "a\tb\n1,5\t2\n"))
    XCTAssertEqual(table.header, ["a", "b"])
    XCTAssertEqual(table.rows, [["1,5", "2"]])
  }

  func testHeaderDetection() throws {
    let numeric = try CSVTable.read(path: try write("wide.csv", "1,2,3\n4,5,\n"), header: .detect, allowsShortRows: true)
    XCTAssertEqual(numeric.header, ["column1", "column2", "column3"])
    XCTAssertEqual(numeric.rows.count, 2)
    XCTAssertEqual(numeric.rowNumber(0), 1)
    let named = try CSVTable.read(path: try write("named.csv", "x,y\n1,2\n"), header: .detect)
    XCTAssertEqual(named.header, ["x", "y"])
  }

  func testShortRowsWhenAllowed() throws {
    let path = try write("short.csv", "1,2,3\n4\n")
    XCTAssertEqual(try CSVTable.read(path: path, header: .absent, allowsShortRows: true).rows[1], ["4", "", ""])
    assertError(try CSVTable.read(path: path, header: .absent), contains: [path, "row 2", "1 cells", "3"])
  }

  func testRaggedRowIsAnErrorNamingTheRow() throws {
    let path = try write("ragged.csv", "a,b\n1,2\n3,4,5\n")
    assertError(try CSVTable.read(path: path), contains: [path, "row 3", "3 cells"])
  }

  func testNonNumericAndNonFiniteCellsNameRowAndColumn() throws {
    let path = try write("cells.csv", "a,b\n1,2\n3,abc\ninf,4\n")
    let table = try CSVTable.read(path: path)
    assertError(try table.numbers(columns: [1]), contains: [path, "row 3", "column \"b\"", "abc", "not a number"])
    assertError(try table.number(row: 2, column: 0), contains: [path, "row 4", "column \"a\"", "not a finite number"])
  }

  func testMissingColumnIsNamed() throws {
    let path = try write("columns.csv", "a,b\n1,2\n")
    assertError(try CSVTable.read(path: path).columnIndex("c"), contains: [path, "\"c\"", "a, b"])
  }

  func testBadFiles() throws {
    assertError(try CSVTable.read(path: try write("empty.csv", "")), contains: ["is empty"])
    let binary = scratch.file("binary.csv")
    try Data([0x61, 0x2C, 0xFF, 0xFE, 0x0A]).write(to: URL(fileURLWithPath: binary))
    assertError(try CSVTable.read(path: binary), contains: [binary, "UTF-8"])
    assertError(try CSVTable.read(path: try write("twice.csv", "a,a\n1,2\n")), contains: ["\"a\" twice"])
    assertError(try CSVTable.read(path: scratch.file("absent.csv")), contains: ["cannot open"])
  }

  func testMissingMarkers() {
    for cell in ["", " ", "NA", "na", "N/A", "NaN", "null", "?"] { XCTAssertTrue(CSVTable.isMissing(cell), cell) }
    for cell in ["0", "none", "a", "-"] { XCTAssertFalse(CSVTable.isMissing(cell), cell) }
  }
}

/// Inputs that may be `.npy` or CSV are told apart by content, so a pipe works too.
final class ArrayOrTableTests: XCTestCase {
  func testNPYIsRecognisedByItsMagicWhateverItsName() throws {
    let scratch = try ScratchDirectory()
    defer { scratch.remove() }
    let unnamed = scratch.file("recording.bin")
    try NPYArray(shape: [2, 2], values: [1, 2, 3, 4]).write(to: unnamed)
    guard case .array(let array) = try ArrayOrTable.read(path: unnamed, header: .present) else {
      return XCTFail("an .npy file read as a table")
    }
    XCTAssertEqual(array.shape, [2, 2])
    let csv = scratch.file("recording.txt")
    try Data("a,b\n1,2\n".utf8).write(to: URL(fileURLWithPath: csv))
    guard case .table(let table) = try ArrayOrTable.read(path: csv, header: .present) else {
      return XCTFail("a CSV file read as an array")
    }
    XCTAssertEqual(table.header, ["a", "b"])
    let truncated = scratch.file("truncated.npy")
    try Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1]).write(to: URL(fileURLWithPath: truncated))
    XCTAssertThrowsError(try ArrayOrTable.read(path: truncated, header: .present)) { error in
      XCTAssertTrue((error as? ReaderError)?.file == truncated, "\(error)")
    }
  }
}
