import Foundation

// The plain-text renderings of the metrics reports (`metatx eval` without `--json`).

/// Rows of cells printed with aligned columns: names left-aligned, numbers right-aligned,
/// columns two spaces apart, the header underlined.
struct TextTable {
  enum Alignment {
    case left
    case right
  }

  var headers: [String]
  var alignments: [Alignment]
  var rows: [[String]] = []

  init(_ columns: [(String, Alignment)]) {
    headers = columns.map(\.0)
    alignments = columns.map(\.1)
  }

  mutating func append(_ cells: [String]) {
    precondition(cells.count == headers.count, "TextTable: \(cells.count) cells for \(headers.count) columns")
    rows.append(cells)
  }

  /// The table, one line per row, without a trailing newline.
  func rendered() -> String {
    let widths = headers.indices.map { column in
      ([headers] + rows).map { $0[column].count }.max()!
    }
    func line(_ cells: [String]) -> String {
      let padded = cells.indices.map { column -> String in
        let padding = String(repeating: " ", count: widths[column] - cells[column].count)
        switch alignments[column] {
        case .left: return cells[column] + padding
        case .right: return padding + cells[column]
        }
      }
      return padded.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
    }
    let rule = widths.map { String(repeating: "-", count: $0) }
    return ([line(headers), line(rule)] + rows.map(line)).joined(separator: "\n")
  }
}

/// A metric with four decimals; `-` for an undefined one.
func formatMetric(_ value: Double?) -> String {
  value.map { String(format: "%.4f", $0) } ?? "-"
}

extension ClassificationReport {
  /// Above this many classes the confusion matrix is too wide to read as text; it stays in the
  /// JSON report.
  public static let largestPrintedConfusionMatrix = 20

  /// Accuracy and top-k lines, the per-class table with macro and weighted averages, and the
  /// confusion matrix (rows = true class, columns = predicted) for up to
  /// `largestPrintedConfusionMatrix` classes.
  public func table() -> String {
    var summary = TextTable([("metric", .left), ("value", .right)])
    summary.append(["rows", String(rows)])
    summary.append(["accuracy", formatMetric(accuracy)])
    for entry in topK { summary.append(["top-\(entry.k) accuracy", formatMetric(entry.accuracy)]) }

    var classes = TextTable([
      ("class", .left), ("precision", .right), ("recall", .right), ("f1", .right), ("support", .right),
      ("predicted", .right),
    ])
    for scores in perClass {
      classes.append([
        scores.name, formatMetric(scores.precision), formatMetric(scores.recall), formatMetric(scores.f1),
        String(scores.support), String(scores.predicted),
      ])
    }
    for (name, average) in [("macro avg", macro), ("weighted avg", weighted)] {
      classes.append(
        [name, formatMetric(average.precision), formatMetric(average.recall), formatMetric(average.f1), "", ""])
    }

    var sections = [summary.rendered(), classes.rendered()]
    if classNames.count <= Self.largestPrintedConfusionMatrix {
      var matrix = TextTable([("true \\ predicted", .left)] + classNames.map { ($0, .right) })
      for (name, counts) in zip(classNames, confusionMatrix) { matrix.append([name] + counts.map(String.init)) }
      sections.append("confusion matrix (rows = true, columns = predicted)\n" + matrix.rendered())
    } else {
      sections.append("confusion matrix: \(classNames.count) classes, in the JSON report only")
    }
    return sections.joined(separator: "\n\n")
  }
}

extension MultiLabelReport {
  /// mAP, micro and macro scores, then one line per label (AP `-` for a label without positives).
  public func table() -> String {
    var summary = TextTable([("metric", .left), ("value", .right)])
    summary.append(["rows", String(rows)])
    summary.append(["mAP (labels with positives)", formatMetric(meanAveragePrecision)])
    summary.append(["micro f1 @ \(threshold)", formatMetric(micro.f1)])
    summary.append(["macro f1 @ \(threshold)", formatMetric(macro.f1)])

    var labels = TextTable([
      ("label", .left), ("AP", .right), ("precision", .right), ("recall", .right), ("f1", .right),
      ("support", .right), ("predicted", .right),
    ])
    for label in perLabel {
      let scores = label.scores
      labels.append([
        scores.name, formatMetric(label.averagePrecision), formatMetric(scores.precision),
        formatMetric(scores.recall), formatMetric(scores.f1), String(scores.support), String(scores.predicted),
      ])
    }
    for (name, average) in [("micro avg", micro), ("macro avg", macro)] {
      labels.append(
        [name, "", formatMetric(average.precision), formatMetric(average.recall), formatMetric(average.f1), "", ""])
    }
    var sections = [summary.rendered(), labels.rendered()]
    if !labelsWithoutPositives.isEmpty {
      sections.append("left out of mAP (no positive rows): " + labelsWithoutPositives.joined(separator: ", "))
    }
    return sections.joined(separator: "\n\n")
  }
}

extension RegressionReport {
  /// One line per target, then the uniform average when there are several targets.
  public func table() -> String {
    var table = TextTable([("target", .left), ("mse", .right), ("mae", .right), ("r2", .right)])
    for target in perTarget {
      table.append([target.name, formatMetric(target.meanSquaredError), formatMetric(target.meanAbsoluteError),
        formatMetric(target.r2)])
    }
    if perTarget.count > 1 {
      table.append(["mean", formatMetric(meanSquaredError), formatMetric(meanAbsoluteError), formatMetric(r2)])
    }
    return "rows \(rows)\n\n" + table.rendered()
  }
}

extension RetrievalReport {
  /// One line per direction: the distinct candidates, recall@k for each k
  /// with a random ranking's recall in parentheses, median and mean rank.
  public func table() -> String {
    let ks = directions.first?.recallAtK.map(\.k) ?? []
    var table = TextTable(
      [("direction", .left), ("candidates", .right)] + ks.map { ("R@\($0) (chance)", .right) }
        + [("median rank", .right), ("mean rank", .right)])
    for direction in directions {
      let recalls = zip(direction.recallAtK, direction.chanceRecallAtK).map {
        "\(formatMetric($0.recall)) (\(formatMetric($1.recall)))"
      }
      table.append(
        [direction.name, String(direction.candidates)] + recalls
          + [String(direction.medianRank), String(format: "%.2f", direction.meanRank)])
    }
    return "pairs \(pairs)\n\n" + table.rendered()
  }
}
