import Readers

/// What to do with a manifest row that cannot become a sample.
public enum BadRowPolicy: String, CaseIterable, Sendable {
  /// Stop at the first bad row with an error naming it (the default).
  case stop
  /// Drop bad rows, count them by reason, and report the counts (`--skip-bad`).
  case skip
}

/// Why a row cannot become a sample.
public enum BadRowReason: String, CaseIterable, Sendable {
  /// An input column's cell names no file.
  case missingInput = "missing input"
  /// The named file does not exist.
  case missingFile = "missing file"
  /// The file's extension names no modality and none was given.
  case unknownFileType = "unknown file type"
  /// A text input is empty or only spaces.
  case emptyText = "empty text"
  /// The target cell is empty or absent.
  case missingTarget = "missing target"
  /// A regression target that is not a finite number.
  case invalidTarget = "invalid target"
  /// A label the task's `LabelSet` does not have (evaluating on classes never trained).
  case unknownLabel = "unknown label"
  /// The file exists but its tokenizer cannot read it (reported by the tokenizing stage).
  case unreadableFile = "unreadable file"
}

/// One dropped row: where it is, why, and the full problem.
public struct BadRow: Equatable, Sendable {
  public var location: RowLocation
  public var reason: BadRowReason
  /// The problem as the error would have said it, without the location.
  public var problem: String

  public init(location: RowLocation, reason: BadRowReason, problem: String) {
    self.location = location
    self.reason = reason
    self.problem = problem
  }
}

/// The bad rows of every stage that reads samples (manifest, labels,
/// tokenizers), under one policy, so a command reports them once.
///
/// With `.stop`, `reject` throws `FILE: row N: problem` at the first bad row;
/// with `.skip` it records the row and the caller drops it.
public struct BadRowReport: Sendable {
  public let policy: BadRowPolicy
  /// The dropped rows in the order they were found.
  public private(set) var rejected: [BadRow] = []

  public init(policy: BadRowPolicy) { self.policy = policy }

  /// Takes the row at `location` as bad: throws under `.stop`, records it under `.skip`.
  ///
  /// The tokenizing stage calls it with `.unreadableFile` and the reader's
  /// error as `problem` when a listed file cannot be decoded.
  public mutating func reject(_ location: RowLocation, _ reason: BadRowReason, _ problem: String) throws {
    switch policy {
    case .stop:
      throw location.error("\(problem) (\(reason.rawValue); fix the row, or skip bad rows with --skip-bad)")
    case .skip:
      rejected.append(BadRow(location: location, reason: reason, problem: problem))
    }
  }

  /// How many rows were dropped for each reason that occurred, in `BadRowReason` order.
  public var counts: [(reason: BadRowReason, count: Int)] {
    BadRowReason.allCases.compactMap { reason in
      let count = rejected.filter { $0.reason == reason }.count
      return count > 0 ? (reason, count) : nil
    }
  }

  /// One line for standard error, e.g. `skipped 3 bad rows: 2 missing file, 1 unknown label`;
  /// nil when no row was dropped.
  public var summary: String? {
    guard !rejected.isEmpty else { return nil }
    let noun = rejected.count == 1 ? "row" : "rows"
    return "skipped \(rejected.count) bad \(noun): " + counts.map { "\($0.count) \($0.reason.rawValue)" }.joined(separator: ", ")
  }
}
