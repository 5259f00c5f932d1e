import Readers

/// The classes of a classification or multilabel task, in head-output order.
///
/// Class `i` is the head's output `i`. A model stores the names, so
/// evaluation and prediction map labels exactly as training did.
public struct LabelSet: Equatable, Codable, Sendable {
  /// The class names; no repeats, none empty.
  public let names: [String]
  /// `names` inverted: class name → index.
  private let indexByName: [String: Int]

  private enum CodingKeys: String, CodingKey { case names }

  /// Classes given in order (from a model file or the command line); `source`
  /// names where they came from, for errors.
  public init(names: [String], source: String) throws {
    guard !names.isEmpty else { throw ReaderError(file: source, "names no classes") }
    var seen: Set<String> = []
    for name in names {
      guard !name.isEmpty else { throw ReaderError(file: source, "has an empty class name") }
      guard seen.insert(name).inserted else { throw ReaderError(file: source, "names class \"\(name)\" twice") }
    }
    self.names = names
    indexByName = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
  }

  /// Decodes the names and checks them as `init(names:source:)` does.
  public init(from decoder: Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    try self.init(names: container.decode([String].self, forKey: .names), source: "the saved label set")
  }

  /// The sorted distinct labels of a training manifest. Labels that are all
  /// integers sort by value (`2` before `10`), so datasets numbered `0…K−1`
  /// keep class `i` = label `i`; otherwise they sort as strings.
  public init(training manifest: Manifest) throws {
    let distinct = Set(manifest.entries.flatMap { $0.target?.labels ?? [] })
    guard !distinct.isEmpty else {
      throw ReaderError(file: manifest.file, "has no labels to train on; a \(manifest.kind.rawValue) task needs a target per row")
    }
    let sorted: [String]
    if distinct.allSatisfy({ Int($0) != nil }) {
      sorted = distinct.sorted { (Int($0)!, $0) < (Int($1)!, $1) }
    } else {
      sorted = distinct.sorted()
    }
    try self.init(names: sorted, source: manifest.file)
  }

  public var count: Int { names.count }

  /// The class index of `label`, or nil when the task has no such class.
  public func index(of label: String) -> Int? { indexByName[label] }

  /// `[count]` 0/1 targets of a multilabel sample; nil when a label is unknown.
  public func multiHot(_ labels: [String]) -> [Float]? {
    var vector = [Float](repeating: 0, count: count)
    for label in labels {
      guard let index = index(of: label) else { return nil }
      vector[index] = 1
    }
    return vector
  }

  /// `manifest` without the entries whose labels are not all classes of this
  /// set, each reported to `report` as `.unknownLabel` (so with `.stop` the
  /// first one throws). Entries without a target pass.
  public func keepingKnownLabels(in manifest: Manifest, report: inout BadRowReport) throws -> Manifest {
    var kept = manifest
    kept.entries = []
    for entry in manifest.entries {
      let unknown = (entry.target?.labels ?? []).filter { index(of: $0) == nil }
      guard unknown.isEmpty else {
        let quoted = unknown.map { "\"\($0)\"" }.joined(separator: ", ")
        try report.reject(entry.location, .unknownLabel, "label \(quoted) is not one of the \(count) classes (\(listing))")
        continue
      }
      kept.entries.append(entry)
    }
    return kept
  }

  /// The class names for a message, the first 10 when there are more.
  var listing: String {
    count <= 10 ? names.joined(separator: ", ") : names.prefix(10).joined(separator: ", ") + ", …"
  }
}
