import CSV
import Foundation

/// A delimited text table (CSV, or TSV for `.tsv` files), read with the CSV.swift
/// package: RFC 4180 quoting (`"a, b"`, `""` for a quote, line breaks inside
/// quotes), `\n` or `\r\n` rows, an optional UTF-8 byte-order mark.
///
/// Row and column numbers in errors are what a spreadsheet shows: the header
/// is row 1, the first data row is row 2, columns count from 1 and are named
/// by their header. Blank lines are skipped.
public struct CSVTable: Sendable {
  /// The path as the user gave it (`-` for standard input), for errors.
  public let file: String
  /// The column names; `column1`, `column2`, … when the file has no header row.
  public let header: [String]
  /// Data rows, each as wide as `header` unless read with `allowsShortRows`.
  public let rows: [[String]]
  /// The spreadsheet row number of `rows[0]` (2 with a header, else 1).
  public let firstRowNumber: Int
  /// The record number of each of `rows` in the file, blank lines counted;
  /// nil when the rows are consecutive from `firstRowNumber`.
  private let recordNumbers: [Int]?

  /// Where the header comes from.
  public enum HeaderRule: Sendable {
    /// The first row names the columns.
    case present
    /// Every row is data; columns are named `column1`, `column2`, ….
    case absent
    /// The first row is a header when any of its cells is neither a number
    /// nor empty (a row of numbers is data).
    case detect
  }

  public init(file: String, header: [String], rows: [[String]], firstRowNumber: Int) {
    self.file = file
    self.header = header
    self.rows = rows
    self.firstRowNumber = firstRowNumber
    recordNumbers = nil
  }

  init(file: String, header: [String], rows: [[String]], firstRowNumber: Int, recordNumbers: [Int]) {
    self.file = file
    self.header = header
    self.rows = rows
    self.firstRowNumber = firstRowNumber
    self.recordNumbers = recordNumbers
  }

  /// Reads the table at `path` (`-`: standard input).
  ///
  /// - Parameters:
  ///   - header: whether the first row names the columns.
  ///   - allowsShortRows: accept rows with fewer cells than the header (the
  ///     missing trailing cells read as empty), for tables of unequal-length
  ///     series; a row with more cells than the header is always an error.
  public static func read(path: String, header: HeaderRule = .present, allowsShortRows: Bool = false) throws
    -> CSVTable
  {
    try parse(data: AtomicFile.readAll(path), file: path, header: header, allowsShortRows: allowsShortRows)
  }

  /// Parses the bytes of a UTF-8 table (a leading byte-order mark is skipped);
  /// `delimiter` overrides the one `file`'s name implies (standard input has no name).
  public static func parse(
    data: Data, file: String, header: HeaderRule = .present, allowsShortRows: Bool = false,
    delimiter: UnicodeScalar? = nil
  ) throws -> CSVTable {
    guard var text = String(data: data, encoding: .utf8) else {
      throw ReaderError(file: file, "is not UTF-8 text; expected a CSV table")
    }
    if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
    return try parse(text: text, file: file, header: header, allowsShortRows: allowsShortRows, delimiter: delimiter)
  }

  /// Parses `text` as a table; `file` names it in errors and, unless
  /// `delimiter` is given, picks the delimiter (tab for names ending in `.tsv`, else comma).
  public static func parse(
    text: String, file: String, header: HeaderRule = .present, allowsShortRows: Bool = false,
    delimiter: UnicodeScalar? = nil
  ) throws -> CSVTable {
    let delimiter: UnicodeScalar = delimiter ?? (file.lowercased().hasSuffix(".tsv") ? "\t" : ",")
    let reader: CSVReader
    do {
      reader = try CSVReader(string: text, hasHeaderRow: false, delimiter: delimiter)
    } catch {
      throw ReaderError(file: file, "cannot be parsed as CSV: \(error)")
    }
    var records: [[String]] = []
    // Row numbers as the file shows them, blank lines included.
    var recordNumbers: [Int] = []
    var number = 0
    while let record = reader.next() {
      number += 1
      if record == [""] { continue }
      records.append(record)
      recordNumbers.append(number)
    }
    if let error = reader.error { throw ReaderError(file: file, "cannot be read as CSV: \(error)") }
    guard let first = records.first else { throw ReaderError(file: file, "is empty; expected a CSV table") }

    let hasHeader: Bool
    switch header {
    case .present: hasHeader = true
    case .absent: hasHeader = false
    case .detect: hasHeader = first.contains { !$0.isEmpty && Float(trimmed: $0) == nil }
    }
    let names: [String]
    if hasHeader {
      names = first.map { $0.trimmingCharacters(in: .whitespaces) }
      if let empty = names.firstIndex(of: "") {
        throw ReaderError(file: file, "column \(empty + 1) of the header row has no name")
      }
      var seen: Set<String> = []
      for name in names where !seen.insert(name).inserted {
        throw ReaderError(file: file, "the header names column \"\(name)\" twice")
      }
    } else {
      names = (1...first.count).map { "column\($0)" }
    }
    let dataRecords = hasHeader ? Array(records.dropFirst()) : records
    let dataNumbers = hasHeader ? Array(recordNumbers.dropFirst()) : recordNumbers
    var rows: [[String]] = []
    rows.reserveCapacity(dataRecords.count)
    for (record, rowNumber) in zip(dataRecords, dataNumbers) {
      if record.count > names.count || (record.count < names.count && !allowsShortRows) {
        throw ReaderError(
          file: file, "row \(rowNumber) has \(record.count) cells, the header \(names.count); every row needs one cell per column")
      }
      rows.append(record.count == names.count ? record : record + Array(repeating: "", count: names.count - record.count))
    }
    return CSVTable(
      file: file, header: names, rows: rows, firstRowNumber: hasHeader ? 2 : 1, recordNumbers: dataNumbers)
  }

  /// The index of the column called `name`, or an error naming it.
  public func columnIndex(_ name: String) throws -> Int {
    guard let index = header.firstIndex(of: name) else {
      throw ReaderError(file: file, "has no column \"\(name)\" (columns: \(header.joined(separator: ", ")))")
    }
    return index
  }

  /// The spreadsheet row number of `rows[row]` (blank lines before it counted), for messages.
  public func rowNumber(_ row: Int) -> Int { recordNumbers?[row] ?? firstRowNumber + row }

  /// The finite number in `rows[row][column]`, or an error naming the row and column.
  public func number(row: Int, column: Int) throws -> Float {
    let cell = rows[row][column]
    guard let value = Float(trimmed: cell) else {
      throw ReaderError(
        file: file, "row \(rowNumber(row)), column \"\(header[column])\": \"\(cell)\" is not a number")
    }
    guard value.isFinite else {
      throw ReaderError(
        file: file, "row \(rowNumber(row)), column \"\(header[column])\": \"\(cell)\" is not a finite number")
    }
    return value
  }

  /// The values of `columns` in every row, `[rows, columns.count]` row-major,
  /// each a finite number.
  public func numbers(columns: [Int]) throws -> [Float] {
    var values: [Float] = []
    values.reserveCapacity(rows.count * columns.count)
    for row in rows.indices {
      for column in columns { values.append(try number(row: row, column: column)) }
    }
    return values
  }

  /// Whether `cell` marks a missing value: empty, `NA`, `N/A`, `NaN`, `null`
  /// or `?` (case-insensitive, surrounding spaces ignored), the markers
  /// pandas, R and the UCI repository write.
  public static func isMissing(_ cell: String) -> Bool {
    switch cell.trimmingCharacters(in: .whitespaces).lowercased() {
    case "", "na", "n/a", "nan", "null", "?": return true
    default: return false
    }
  }
}

extension Float {
  /// Parses a decimal number with surrounding spaces allowed (`" 1.5"`), as
  /// spreadsheets write them; nil for anything else.
  public init?(trimmed text: String) {
    self.init(text.trimmingCharacters(in: .whitespaces))
  }
}

/// A numeric input that is either a NumPy array or a CSV table, told apart
/// by the `.npy` magic rather than the name, so standard input can be either.
public enum ArrayOrTable: Sendable {
  case array(NPYArray)
  case table(CSVTable)

  /// The first bytes of every `.npy` file: `\x93NUMPY`.
  static let npyMagic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]

  /// Reads `path` (`-`: standard input); a table is parsed with `header` and `allowsShortRows`.
  public static func read(path: String, header: CSVTable.HeaderRule, allowsShortRows: Bool = false) throws
    -> ArrayOrTable
  {
    let data = try AtomicFile.readAll(path)
    if data.starts(with: npyMagic) || path.lowercased().hasSuffix(".npy") {
      return .array(try NPYArray.read(data: data, name: path))
    }
    return .table(try CSVTable.parse(data: data, file: path, header: header, allowsShortRows: allowsShortRows))
  }
}
