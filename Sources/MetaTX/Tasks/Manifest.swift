import Foundation
import Readers

/// What a task head predicts, which decides how a manifest's target cell reads.
public enum TaskKind: String, CaseIterable, Codable, Sendable {
  /// One class per sample: the target is one label.
  case classification
  /// Any number of classes per sample: labels separated by `|` (or a JSON list).
  case multilabel
  /// A real number per sample.
  case regression
}

/// The file formats a manifest can have.
public enum ManifestFormat: String, CaseIterable, Sendable {
  /// Comma-separated values with a header row.
  case csv
  /// Tab-separated values with a header row.
  case tsv
  /// One JSON object per line (JSON Lines / NDJSON).
  case jsonl

  /// The format a manifest's extension names (`.csv`, `.tsv`, `.jsonl`, `.ndjson`), or nil.
  public static func detect(path: String) -> ManifestFormat? {
    let lowered = path.lowercased()
    if lowered.hasSuffix(".csv") { return .csv }
    if lowered.hasSuffix(".tsv") { return .tsv }
    if lowered.hasSuffix(".jsonl") || lowered.hasSuffix(".ndjson") { return .jsonl }
    return nil
  }
}

/// One input of a sample: a file of some modality, inline text, or a row of a table.
public enum ManifestInput: Hashable, Sendable {
  /// A file (or, for video, a folder of frames), its path resolved against the
  /// manifest's folder.
  case file(path: String, modality: Modality)
  /// Text given in the manifest itself (a `text` column).
  case text(String)
  /// Data row `index` (0-based, as `TabularTokenizer.read` returns them) of the
  /// table at `path`, for tabular tasks where the table is its own manifest.
  case tableRow(path: String, index: Int)

  /// The file this input reads, if any (for fitting tokenizer statistics).
  public var filePath: String? {
    switch self {
    case .file(let path, _), .tableRow(let path, _): path
    case .text: nil
    }
  }

  /// The tokenizer this input goes through.
  public var modality: Modality {
    switch self {
    case .file(_, let modality): modality
    case .text: .text
    case .tableRow: .tabular
    }
  }
}

/// A manifest column that holds one input of every sample.
public struct ManifestColumn: Equatable, Sendable {
  /// What the column's cells are.
  public enum Content: Equatable, Sendable {
    /// The text itself.
    case inlineText
    /// A path relative to the manifest's folder; nil detects the modality from
    /// the file's extension (`Modality.detect`).
    case file(Modality?)
  }

  /// The column's header name (the JSON key in JSON Lines).
  public var name: String
  public var content: Content

  public init(name: String, content: Content) {
    self.name = name
    self.content = content
  }

  /// The default input: a `path` column, modality from each file's extension.
  public static let path = ManifestColumn(name: "path", content: .file(nil))

  /// Reads a column spec as the command line gives it:
  /// - `text`: inline text;
  /// - `path`: file paths, modality from the extension;
  /// - a modality's name (`image`, `audio`, `imu`, …): a column of that name
  ///   holding paths of files of that modality;
  /// - `NAME:MODALITY` (e.g. `path:image`, `caption_file:text`): column NAME
  ///   holding paths of files of MODALITY.
  public init(spec: String) throws {
    let trimmed = spec.trimmingCharacters(in: .whitespaces)
    let expected = "expected text, path, a modality (\(Modality.allCases.map(\.rawValue).joined(separator: ", "))) or NAME:MODALITY"
    if let colon = trimmed.firstIndex(of: ":") {
      let name = String(trimmed[..<colon])
      let modalityName = String(trimmed[trimmed.index(after: colon)...])
      guard !name.isEmpty, let modality = Modality(rawValue: modalityName) else {
        throw ReaderError(file: spec, "is not an input column; \(expected)")
      }
      self.init(name: name, content: .file(modality))
    } else if trimmed == "text" {
      self.init(name: trimmed, content: .inlineText)
    } else if trimmed == "path" {
      self = .path
    } else if let modality = Modality(rawValue: trimmed) {
      self.init(name: trimmed, content: .file(modality))
    } else {
      throw ReaderError(file: spec, "is not an input column; \(expected)")
    }
  }

  /// Reads a comma-separated list of column specs (`image,text`), each as `init(spec:)`.
  public static func parse(list: String) throws -> [ManifestColumn] {
    let columns = try list.split(separator: ",").map { try ManifestColumn(spec: String($0)) }
    guard !columns.isEmpty else { throw ReaderError(file: list, "names no input column; expected e.g. path or image,text") }
    var seen: Set<String> = []
    for column in columns where !seen.insert(column.name).inserted {
      throw ReaderError(file: list, "names column \"\(column.name)\" twice")
    }
    return columns
  }
}

/// A sample's target as the manifest writes it; class indices come from a `LabelSet`.
public enum ManifestTarget: Equatable, Sendable {
  /// One label (classification) or one or more (multilabel), trimmed, in the
  /// manifest's order without repeats.
  case labels([String])
  /// A finite number (regression).
  case value(Float)

  /// The labels of a classification or multilabel target; empty for a number.
  public var labels: [String] {
    switch self {
    case .labels(let labels): labels
    case .value: []
    }
  }
}

/// Where a sample comes from, for messages.
public struct RowLocation: Hashable, Sendable, CustomStringConvertible {
  /// The manifest's path as the user gave it (`-`: standard input) or, for a
  /// class-per-folder layout, the sample's own path.
  public var file: String
  /// The row number as the file shows it: the header is row 1 in CSV/TSV, so
  /// the first sample is row 2; in JSON Lines the line number. Nil for a
  /// sample of a class-per-folder layout, which the file path names.
  public var row: Int?

  public init(file: String, row: Int?) {
    self.file = file
    self.row = row
  }

  public var description: String {
    guard let row else { return file }
    return "\(file): row \(row)"
  }

  /// A one-line error about this row: `FILE: row N: problem`.
  public func error(_ problem: String) -> ReaderError {
    guard let row else { return ReaderError(file: file, problem) }
    return ReaderError(file: file, "row \(row): \(problem)")
  }
}

/// One sample of a manifest.
public struct ManifestEntry: Equatable, Sendable {
  public var location: RowLocation
  /// One input per input column, in the columns' order (one for a class-per-folder layout).
  public var inputs: [ManifestInput]
  /// Nil when the manifest has no target (read with `requiresTarget: false`).
  public var target: ManifestTarget?
  /// The row's split (`train`, `val`, `test`, …), or nil when it names none.
  public var split: String?

  public init(location: RowLocation, inputs: [ManifestInput], target: ManifestTarget?, split: String?) {
    self.location = location
    self.inputs = inputs
    self.target = target
    self.split = split
  }
}

/// The samples of a task: a CSV/TSV/JSON Lines manifest, a class-per-folder
/// layout, or a table with a target column.
///
/// Rows that cannot become samples (a missing file, empty text, a missing or
/// non-numeric target) go to a `BadRowReport`, which either stops with an
/// error naming the row or drops the row and counts it.
public struct Manifest: Equatable, Sendable {
  /// The manifest's path as the user gave it, or the root folder of a class-per-folder layout.
  public var file: String
  public var kind: TaskKind
  /// The samples in file order.
  public var entries: [ManifestEntry]

  public init(file: String, kind: TaskKind, entries: [ManifestEntry]) {
    self.file = file
    self.kind = kind
    self.entries = entries
  }

  /// The split names the entries carry, in order of first appearance.
  public var splits: [String] {
    var seen: Set<String> = []
    return entries.compactMap(\.split).filter { seen.insert($0).inserted }
  }

  /// The entries of split `name`; an error when there are none, since an empty
  /// split is always a misspelt name or a manifest without a `split` column.
  public func filtered(split name: String) throws -> Manifest {
    let kept = entries.filter { $0.split == name }
    guard !kept.isEmpty else {
      let known = splits.isEmpty ? "no row names a split" : "splits: \(splits.joined(separator: ", "))"
      throw ReaderError(file: file, "has no rows in split \"\(name)\" (\(known))")
    }
    return Manifest(file: file, kind: kind, entries: kept)
  }

  // MARK: Delimited and JSON Lines manifests

  /// Reads a CSV, TSV or JSON Lines manifest.
  ///
  /// File paths in the input columns are relative to the manifest's folder
  /// (the current folder for standard input) unless absolute. Structural
  /// problems (an unknown format, a missing input column, a line that is not
  /// a JSON object) always throw; row problems go to `report`.
  ///
  /// - Parameters:
  ///   - path: the manifest (`-`: standard input, which needs `format`).
  ///   - format: overrides the format the extension names.
  ///   - kind: how the target reads: one label, `|`-separated labels, or a number.
  ///   - inputColumns: the sample's inputs, in order (default `path`).
  ///   - targetColumn: the column (JSON key) holding the target.
  ///   - requiresTarget: false for prediction and embedding, where a missing
  ///     target column or cell is no problem and the entry's target is nil.
  ///   - splitColumn: the column naming each row's split; optional in the file.
  ///   - report: collects the bad rows, or throws at the first with `.stop`.
  public static func read(
    path: String, format: ManifestFormat? = nil, kind: TaskKind, inputColumns: [ManifestColumn] = [.path],
    targetColumn: String = "label", requiresTarget: Bool = true, splitColumn: String = "split",
    report: inout BadRowReport
  ) throws -> Manifest {
    guard let format = format ?? ManifestFormat.detect(path: path) else {
      throw ReaderError(file: path, "is not a manifest by its name; expected .csv, .tsv, .jsonl or .ndjson (or name the format)")
    }
    let rows: [RawRow]
    switch format {
    case .csv, .tsv:
      rows = try delimitedRows(path: path, delimiter: format == .tsv ? "\t" : ",", inputColumns: inputColumns,
        targetColumn: targetColumn, requiresTarget: requiresTarget)
    case .jsonl:
      rows = try jsonLinesRows(path: path, keys: Set(inputColumns.map(\.name) + [targetColumn, splitColumn]))
    }
    let folder = path == AtomicFile.standardStream ? "" : (path as NSString).deletingLastPathComponent
    var entries: [ManifestEntry] = []
    entries.reserveCapacity(rows.count)
    for row in rows {
      var inputs: [ManifestInput] = []
      for column in inputColumns {
        guard let input = try Self.input(of: row, column: column, folder: folder, report: &report) else { break }
        inputs.append(input)
      }
      guard inputs.count == inputColumns.count else { continue }
      let target: ManifestTarget?
      switch try Self.target(of: row, column: targetColumn, kind: kind) {
      case .present(let value): target = value
      case .empty where !requiresTarget: target = nil
      case .empty(let problem):
        try report.reject(row.location, .missingTarget, problem)
        continue
      case .invalid(let problem):
        try report.reject(row.location, .invalidTarget, problem)
        continue
      }
      let split = try row.text(splitColumn).map { $0.trimmingCharacters(in: .whitespaces) }
      entries.append(ManifestEntry(location: row.location, inputs: inputs, target: target, split: split?.isEmpty == false ? split : nil))
    }
    return Manifest(file: path, kind: kind, entries: entries)
  }

  // MARK: Class-per-folder layouts

  /// The folder whose presence in the root marks a layout with split folders.
  static let splitFolderMarker = "train"

  /// Reads a class-per-folder layout: `root/<label>/<file>`, or, when `root`
  /// has a `train` folder, `root/<split>/<label>/<file>` with every folder of
  /// `root` a split (`train`, `val`, `test`, …).
  ///
  /// Folders and files are taken in sorted order; names starting with `.` are
  /// skipped, and so are plain files directly in `root` or a split folder
  /// (READMEs, licences), which belong to no class. Inside a class folder
  /// every entry is a sample, a sub-folder too (a video's frames).
  ///
  /// - Parameters:
  ///   - modality: the samples' modality; nil detects it from each file's extension.
  ///   - report: collects samples whose modality cannot be told.
  public static func fromFolders(root: String, modality: Modality? = nil, report: inout BadRowReport) throws -> Manifest {
    // `data/` as well as `data`, without doubled slashes in the sample paths.
    let root = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
    guard isFolder(root) else {
      throw ReaderError(file: root, "is not a folder; expected ROOT/<label>/<file> or ROOT/train/<label>/<file>")
    }
    let folders = try visibleEntries(of: root).filter { isFolder(root + "/" + $0) }
    let splitFolders: [(split: String?, path: String)] =
      folders.contains(splitFolderMarker) ? folders.map { ($0, root + "/" + $0) } : [(nil, root)]
    var entries: [ManifestEntry] = []
    var sampleCount = 0
    for (split, splitPath) in splitFolders {
      for label in try visibleEntries(of: splitPath) where isFolder(splitPath + "/" + label) {
        let labelPath = splitPath + "/" + label
        for name in try visibleEntries(of: labelPath) {
          let path = labelPath + "/" + name
          let location = RowLocation(file: path, row: nil)
          sampleCount += 1
          guard let sampleModality = modality ?? Modality.detect(path: path) else {
            try report.reject(location, .unknownFileType, unknownFileTypeProblem(path, hint: "name the modality"))
            continue
          }
          entries.append(ManifestEntry(location: location, inputs: [.file(path: path, modality: sampleModality)],
            target: .labels([label]), split: split))
        }
      }
    }
    guard sampleCount > 0 else {
      throw ReaderError(file: root, "holds no samples; expected ROOT/<label>/<file> or ROOT/train/<label>/<file>")
    }
    return Manifest(file: root, kind: .classification, entries: entries)
  }

  // MARK: Tables that are their own manifest

  /// A tabular task: every data row of the CSV/TSV table at `path` is a sample
  /// (`ManifestInput.tableRow`) and `targetColumn` holds its target.
  ///
  /// - Parameters:
  ///   - splitColumn: a column naming each row's split, when the table has one.
  ///   - report: collects rows with a missing or non-numeric target.
  public static func readTable(
    path: String, kind: TaskKind, targetColumn: String, splitColumn: String? = nil, report: inout BadRowReport
  ) throws -> Manifest {
    let table = try CSVTable.read(path: path)
    let targetIndex = try table.columnIndex(targetColumn)
    let splitIndex = try splitColumn.map { try table.columnIndex($0) }
    var entries: [ManifestEntry] = []
    for (index, cells) in table.rows.enumerated() {
      let row = RawRow(location: RowLocation(file: path, row: table.rowNumber(index)),
        cells: [targetColumn: .text(cells[targetIndex])])
      switch try Self.target(of: row, column: targetColumn, kind: kind) {
      case .present(let target):
        let split = splitIndex.map { cells[$0].trimmingCharacters(in: .whitespaces) }
        entries.append(ManifestEntry(location: row.location, inputs: [.tableRow(path: path, index: index)],
          target: target, split: split?.isEmpty == false ? split : nil))
      case .empty(let problem):
        try report.reject(row.location, .missingTarget, problem)
      case .invalid(let problem):
        try report.reject(row.location, .invalidTarget, problem)
      }
    }
    return Manifest(file: path, kind: kind, entries: entries)
  }
}

// MARK: - Reading rows

/// One manifest row before it becomes an entry: its cells by column name.
struct RawRow {
  /// A cell of a CSV/TSV row (always text) or a JSON value.
  enum Cell {
    case text(String)
    case list([String])
  }

  let location: RowLocation
  /// Absent columns (JSON keys missing or null) have no cell.
  let cells: [String: Cell]

  /// The text of `column`, nil when absent; a list is an error.
  func text(_ column: String) throws -> String? {
    switch cells[column] {
    case .none: return nil
    case .text(let text): return text
    case .list: throw location.error("\"\(column)\" is a list; expected one value")
    }
  }
}

/// What a row's target cell gave; the problems are for `BadRowReport.reject`.
enum TargetReading {
  case present(ManifestTarget)
  /// The cell is empty or absent: a missing target, unless none is required.
  case empty(String)
  /// A regression target that is not a finite number.
  case invalid(String)
}

extension Manifest {
  /// The rows of a CSV/TSV manifest, with the columns a task needs checked once.
  static func delimitedRows(
    path: String, delimiter: UnicodeScalar, inputColumns: [ManifestColumn], targetColumn: String, requiresTarget: Bool
  ) throws -> [RawRow] {
    let table = try CSVTable.parse(data: AtomicFile.readAll(path), file: path, delimiter: delimiter)
    for column in inputColumns { _ = try table.columnIndex(column.name) }
    if requiresTarget && !table.header.contains(targetColumn) {
      throw ReaderError(
        file: path, "has no target column \"\(targetColumn)\" (columns: \(table.header.joined(separator: ", "))); name the target column")
    }
    return table.rows.indices.map { index in
      var cells: [String: RawRow.Cell] = [:]
      for (name, cell) in zip(table.header, table.rows[index]) { cells[name] = .text(cell) }
      return RawRow(location: RowLocation(file: path, row: table.rowNumber(index)), cells: cells)
    }
  }

  /// The rows of a JSON Lines manifest: one object per non-blank line, row
  /// number = line number. Of each object only `keys` are read (other keys
  /// may hold anything): strings and numbers become text, lists of them
  /// lists; null is an absent key.
  static func jsonLinesRows(path: String, keys: Set<String>) throws -> [RawRow] {
    guard let text = String(data: try AtomicFile.readAll(path), encoding: .utf8) else {
      throw ReaderError(file: path, "is not UTF-8 text; expected JSON Lines")
    }
    var rows: [RawRow] = []
    for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
      if line.allSatisfy(\.isWhitespace) { continue }
      let location = RowLocation(file: path, row: offset + 1)
      let parsed = try? JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed])
      guard let object = parsed as? [String: Any] else {
        throw location.error("is not a JSON object; expected one object per line, e.g. {\"path\": \"a.png\", \"label\": \"cat\"}")
      }
      var cells: [String: RawRow.Cell] = [:]
      for (key, value) in object where keys.contains(key) {
        if value is NSNull { continue }
        if let items = value as? [Any] {
          cells[key] = .list(try items.map { item in
            guard let text = jsonScalarText(item) else {
              throw location.error("\"\(key)\" holds a list of something other than strings and numbers")
            }
            return text
          })
        } else if let text = jsonScalarText(value) {
          cells[key] = .text(text)
        } else {
          throw location.error("\"\(key)\" is an object; expected a string, a number or a list")
        }
      }
      rows.append(RawRow(location: location, cells: cells))
    }
    guard !rows.isEmpty else { throw ReaderError(file: path, "is empty; expected one JSON object per line") }
    return rows
  }

  /// A JSON string as is, a number as it would be written (`3`, not `3.0`, for whole numbers).
  static func jsonScalarText(_ value: Any) -> String? {
    if let text = value as? String { return text }
    guard let number = value as? NSNumber else { return nil }
    let double = number.doubleValue
    if let whole = Int(exactly: double) { return String(whole) }
    return String(double)
  }

  /// The input of `column` in `row`, or nil after `report` took the row as bad.
  static func input(of row: RawRow, column: ManifestColumn, folder: String, report: inout BadRowReport) throws
    -> ManifestInput?
  {
    let cell = try row.text(column.name) ?? ""
    switch column.content {
    case .inlineText:
      guard !cell.allSatisfy(\.isWhitespace) else {
        try report.reject(row.location, .emptyText, "column \"\(column.name)\" has no text")
        return nil
      }
      return .text(cell)
    case .file(let modality):
      let relative = cell.trimmingCharacters(in: .whitespaces)
      guard !relative.isEmpty else {
        try report.reject(row.location, .missingInput, "column \"\(column.name)\" names no file")
        return nil
      }
      let path = relative.hasPrefix("/") || folder.isEmpty ? relative : folder + "/" + relative
      guard let modality = modality ?? Modality.detect(path: path) else {
        try report.reject(row.location, .unknownFileType, unknownFileTypeProblem(relative, hint: "name the column path:MODALITY"))
        return nil
      }
      guard FileManager.default.fileExists(atPath: path) else {
        try report.reject(row.location, .missingFile, "\(path) does not exist")
        return nil
      }
      return .file(path: path, modality: modality)
    }
  }

  /// Reads `column` of `row` as a `kind` target.
  static func target(of row: RawRow, column: String, kind: TaskKind) throws -> TargetReading {
    let labels: [String]
    switch row.cells[column] {
    case .none: labels = []
    case .text(let text):
      switch kind {
      case .classification, .regression: labels = [text]
      case .multilabel: labels = text.split(separator: "|").map(String.init)
      }
    case .list(let items):
      guard kind == .multilabel else {
        throw row.location.error("column \"\(column)\" is a list; only a multilabel task takes several labels")
      }
      labels = items
    }
    var seen: Set<String> = []
    let cleaned = labels.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && seen.insert($0).inserted }
    guard !cleaned.isEmpty else {
      return .empty("column \"\(column)\" is empty; expected \(targetExpectation(kind))")
    }
    switch kind {
    case .classification, .multilabel:
      return .present(.labels(cleaned))
    case .regression:
      guard let value = Float(cleaned[0]), value.isFinite else {
        return .invalid("column \"\(column)\": \"\(cleaned[0])\" is not a finite number")
      }
      return .present(.value(value))
    }
  }

  static func targetExpectation(_ kind: TaskKind) -> String {
    switch kind {
    case .classification: "a label"
    case .multilabel: "labels separated by |"
    case .regression: "a number"
    }
  }

  static func unknownFileTypeProblem(_ path: String, hint: String) -> String {
    "cannot tell the modality of \(path) from its extension; \(hint)"
  }

  static func isFolder(_ path: String) -> Bool {
    var isDirectory: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
  }

  /// The names in `folder` not starting with `.`, sorted.
  static func visibleEntries(of folder: String) throws -> [String] {
    do {
      return try FileManager.default.contentsOfDirectory(atPath: folder).filter { !$0.hasPrefix(".") }.sorted()
    } catch {
      throw ReaderError(file: folder, "cannot be listed: \(error.localizedDescription)")
    }
  }
}
