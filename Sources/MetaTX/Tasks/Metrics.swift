import Foundation
import Kernels

// Evaluation metrics for the four task kinds: single-label classification, multi-label
// classification, regression and cross-modal retrieval. Each classification and regression metric
// is the scikit-learn function named in its doc comment, retrieval follows open_clip (golden values
// in `MetricsTests`, written by `Scripts/reference/metrics_golden.py`). Sums run in Double; inputs
// are Float tensors.

/// Evaluation input that does not fit the metric: a shape mismatch, a target outside the classes,
/// a non-finite score.
///
/// The description is one line naming the row where there is one; the CLI prefixes the file.
public struct MetricInputError: Error, CustomStringConvertible, Equatable {
  /// What is wrong, and what was expected.
  public var problem: String

  public init(_ problem: String) {
    self.problem = problem
  }

  public var description: String { problem }
}

/// A metrics result that `metatx eval` prints as a table, or encodes as JSON with `--json`.
public protocol MetricsReport: Codable {
  /// The report as plain text with aligned columns, one line per class/label/target.
  func table() -> String
}

/// Precision, recall and F1 averaged over classes (or pooled, for micro averages).
public struct AveragedScores: Codable, Equatable, Sendable {
  public var precision: Double
  public var recall: Double
  public var f1: Double

  public init(precision: Double, recall: Double, f1: Double) {
    self.precision = precision
    self.recall = recall
    self.f1 = f1
  }
}

/// The counts and scores of one class (or one label of a multi-label task).
///
/// With `tp` true positives, `predicted` rows predicted as the class and `support` rows truly of
/// it: precision `tp / predicted`, recall `tp / support`, `F1 = 2·tp / (support + predicted)`
/// (the harmonic mean of the two). A zero denominator gives 0, sklearn's `zero_division=0`.
public struct ClassScores: Codable, Equatable, Sendable {
  public var name: String
  public var precision: Double
  public var recall: Double
  public var f1: Double
  /// Rows whose target is this class.
  public var support: Int
  /// Rows predicted as this class.
  public var predicted: Int

  /// Scores from the counts, as `sklearn.metrics.precision_recall_fscore_support(zero_division=0)`.
  public init(name: String, truePositives: Int, predicted: Int, support: Int) {
    self.name = name
    self.precision = Self.ratio(truePositives, predicted)
    self.recall = Self.ratio(truePositives, support)
    self.f1 = Self.ratio(2 * truePositives, support + predicted)
    self.support = support
    self.predicted = predicted
  }

  /// `numerator / denominator`, 0 when the denominator is 0 (`zero_division=0`).
  static func ratio(_ numerator: Int, _ denominator: Int) -> Double {
    denominator == 0 ? 0 : Double(numerator) / Double(denominator)
  }
}

// MARK: - Single-label classification

/// Single-label classification metrics from scores `[N, C]` (logits or probabilities: only their
/// order within a row matters) and integer targets in `0..<C`.
public enum ClassificationMetrics {
  /// The predicted class of each row: the index of the largest score, the first one on ties
  /// (`numpy.argmax(scores, axis=1)`).
  ///
  /// - Parameter scores: `[N, C]`.
  /// - Returns: `N` class indices.
  public static func predictedClasses(scores: Tensor) -> [Int] {
    precondition(
      scores.rank == 2 && scores.shape[1] > 0, "predictedClasses: scores must be [N, C > 0], got \(scores.shape)")
    let (rows, classes) = (scores.shape[0], scores.shape[1])
    return (0..<rows).map { row in
      let start = scores.data + row * classes
      var best = 0
      for c in 1..<classes where start[c] > start[best] { best = c }
      return best
    }
  }

  /// The fraction of rows whose prediction is the target, `sklearn.metrics.accuracy_score`.
  ///
  /// - Parameters: predicted, targets: `N` class indices each, `N > 0`.
  public static func accuracy(predicted: [Int], targets: [Int]) -> Double {
    precondition(predicted.count == targets.count && !targets.isEmpty, "accuracy: need equally many, > 0")
    return Double(zip(predicted, targets).filter { $0 == $1 }.count) / Double(targets.count)
  }

  /// The fraction of rows whose target is among the `k` highest-scored classes,
  /// `sklearn.metrics.top_k_accuracy_score(targets, scores, k=k, labels=range(C))` for `C > 2`.
  ///
  /// sklearn ranks a row by a stable ascending sort reversed, so among equal scores the *higher*
  /// class index ranks first: the target is a hit when fewer than `k` classes `c` have
  /// `s_c > s_t`, or `s_c = s_t` with `c > t`. (With exact ties, top-1 can therefore differ from
  /// `accuracy`, whose argmax takes the first maximum.) For `C = 2` sklearn only accepts 1-D scores;
  /// this same rule then still applies.
  ///
  /// - Parameters:
  ///   - scores: `[N, C]`.
  ///   - targets: `N` class indices in `0..<C`.
  ///   - k: `≥ 1`; `k ≥ C` always gives 1.
  public static func topKAccuracy(scores: Tensor, targets: [Int], k: Int) -> Double {
    precondition(scores.rank == 2 && scores.shape[0] == targets.count && !targets.isEmpty && k >= 1,
      "topKAccuracy: scores \(scores.shape) vs \(targets.count) targets, k \(k)")
    let classes = scores.shape[1]
    var hits = 0
    for (row, target) in targets.enumerated() {
      let start = scores.data + row * classes
      let targetScore = start[target]
      var rankedAhead = 0
      for c in 0..<classes where start[c] > targetScore || (start[c] == targetScore && c > target) {
        rankedAhead += 1
      }
      if rankedAhead < k { hits += 1 }
    }
    return Double(hits) / Double(targets.count)
  }

  /// The confusion matrix `[C, C]`: entry `[t][p]` counts rows with target `t` predicted as `p`
  /// (rows = true, columns = predicted), `sklearn.metrics.confusion_matrix(targets, predicted,
  /// labels=range(C))`.
  ///
  /// - Parameters: predicted, targets: `N` class indices in `0..<classes`.
  public static func confusionMatrix(predicted: [Int], targets: [Int], classes: Int) -> [[Int]] {
    precondition(predicted.count == targets.count, "confusionMatrix: \(predicted.count) vs \(targets.count)")
    var matrix = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
    for (p, t) in zip(predicted, targets) { matrix[t][p] += 1 }
    return matrix
  }
}

/// Single-label classification results: accuracy, top-k accuracy, per-class precision/recall/F1
/// and support, their macro and support-weighted averages, and the confusion matrix.
public struct ClassificationReport: MetricsReport, Equatable, Sendable {
  /// Top-k accuracy for one `k`.
  public struct TopK: Codable, Equatable, Sendable {
    public var k: Int
    public var accuracy: Double
  }

  public var classNames: [String]
  /// The number of evaluated rows, `N`.
  public var rows: Int
  /// `ClassificationMetrics.accuracy` of the argmax predictions.
  public var accuracy: Double
  /// `ClassificationMetrics.topKAccuracy` for each requested `k` below the class count.
  public var topK: [TopK]
  /// One entry per class, in class order, including classes absent from targets and predictions.
  public var perClass: [ClassScores]
  /// Unweighted means of the per-class scores over the classes that occur among the targets or
  /// the predictions: `precision_recall_fscore_support(targets, predicted, average="macro",
  /// zero_division=0)` without `labels`, whose default is that set. A class that never occurs
  /// says nothing about the model and would only pull the mean towards 0.
  public var macro: AveragedScores
  /// Means of the per-class scores weighted by support, `average="weighted"` (absent classes
  /// weigh 0, so the choice of class set does not matter here).
  public var weighted: AveragedScores
  /// `[C, C]`, rows = true class, columns = predicted class.
  public var confusionMatrix: [[Int]]

  /// Evaluates `scores` against `targets`.
  ///
  /// - Parameters:
  ///   - scores: `[N, C]` logits or probabilities, finite, `N > 0`.
  ///   - targets: `N` class indices in `0..<C`.
  ///   - classNames: `C` names, used by `table()`.
  ///   - topK: the `k` of the top-k accuracies to report; those `≥ C` (always 1) are left out.
  /// - Throws: `MetricInputError` naming the shape or the row that does not fit.
  public init(scores: Tensor, targets: [Int], classNames: [String], topK: [Int] = [5]) throws {
    guard scores.rank == 2, scores.shape[0] > 0 else {
      throw MetricInputError("classification scores must be [N, C] with N > 0, got \(scores.shape)")
    }
    let (rows, classes) = (scores.shape[0], scores.shape[1])
    guard targets.count == rows else {
      throw MetricInputError("\(rows) rows of scores but \(targets.count) targets")
    }
    guard classNames.count == classes else {
      throw MetricInputError("scores have \(classes) classes but \(classNames.count) class names are given")
    }
    if let row = targets.firstIndex(where: { !(0..<classes).contains($0) }) {
      throw MetricInputError("row \(row): target \(targets[row]) is outside the \(classes) classes 0..<\(classes)")
    }
    try requireFinite(scores, what: "score")
    if let k = topK.first(where: { $0 < 1 }) { throw MetricInputError("top-k needs k ≥ 1, got \(k)") }

    let predicted = ClassificationMetrics.predictedClasses(scores: scores)
    let matrix = ClassificationMetrics.confusionMatrix(predicted: predicted, targets: targets, classes: classes)
    self.classNames = classNames
    self.rows = rows
    self.accuracy = ClassificationMetrics.accuracy(predicted: predicted, targets: targets)
    self.topK = topK.filter { $0 < classes }.map {
      TopK(k: $0, accuracy: ClassificationMetrics.topKAccuracy(scores: scores, targets: targets, k: $0))
    }
    self.perClass = (0..<classes).map { c in
      ClassScores(
        name: classNames[c], truePositives: matrix[c][c], predicted: (0..<classes).reduce(0) { $0 + matrix[$1][c] },
        support: matrix[c].reduce(0, +))
    }
    self.macro = averaged(perClass.filter { $0.support > 0 || $0.predicted > 0 }, weight: { _ in 1 })
    self.weighted = averaged(perClass, weight: { Double($0.support) })
    self.confusionMatrix = matrix
  }
}

// MARK: - Multi-label classification

/// Multi-label metrics from scores `[N, L]` and 0/1 targets `[N, L]`.
public enum MultiLabelMetrics {
  /// Average precision of one label: the area under its precision–recall step curve,
  /// `AP = Σ_n (R_n − R_{n−1})·P_n` over the distinct score thresholds in decreasing order
  /// (equal scores enter together), `sklearn.metrics.average_precision_score`.
  ///
  /// - Parameters:
  ///   - scores: one score per row.
  ///   - positives: whether each row has the label.
  /// - Returns: nil when no row has the label (sklearn then warns and returns 0).
  public static func averagePrecision(scores: [Float], positives: [Bool]) -> Double? {
    precondition(scores.count == positives.count, "averagePrecision: \(scores.count) vs \(positives.count)")
    let positiveCount = positives.filter { $0 }.count
    guard positiveCount > 0 else { return nil }
    let order = scores.indices.sorted { scores[$0] > scores[$1] }
    var (truePositives, falsePositives) = (0, 0)
    var (area, previousRecall) = (0.0, 0.0)
    var next = 0
    while next < order.count {
      let threshold = scores[order[next]]
      while next < order.count && scores[order[next]] == threshold {
        if positives[order[next]] { truePositives += 1 } else { falsePositives += 1 }
        next += 1
      }
      let recall = Double(truePositives) / Double(positiveCount)
      area += (recall - previousRecall) * Double(truePositives) / Double(truePositives + falsePositives)
      previousRecall = recall
    }
    return area
  }

  /// Mean average precision over the labels that have at least one positive row: equal to
  /// `sklearn.metrics.average_precision_score(targets[:, kept], scores[:, kept], average="macro")`.
  ///
  /// sklearn's own macro average over all labels counts a label without positives as AP 0 (its
  /// recall is undefined, and set to 1); such a label cannot be ranked at all, so it is left out
  /// here rather than counted as a failure.
  ///
  /// - Parameters: scores, targets: `[N, L]`; targets 0 or 1.
  /// - Returns: nil when no label has a positive row.
  public static func meanAveragePrecision(scores: Tensor, targets: Tensor) -> Double? {
    let precisions = perLabelAveragePrecision(scores: scores, targets: targets).compactMap { $0 }
    return precisions.isEmpty ? nil : precisions.reduce(0, +) / Double(precisions.count)
  }

  /// `averagePrecision` of each label (column), nil for labels without positives.
  ///
  /// - Parameters: scores, targets: `[N, L]`; targets 0 or 1.
  /// - Returns: `L` values.
  public static func perLabelAveragePrecision(scores: Tensor, targets: Tensor) -> [Double?] {
    precondition(scores.rank == 2 && scores.shape == targets.shape, "AP: \(scores.shape) vs \(targets.shape)")
    let (rows, labels) = (scores.shape[0], scores.shape[1])
    return (0..<labels).map { label in
      averagePrecision(
        scores: (0..<rows).map { scores[$0 * labels + label] },
        positives: (0..<rows).map { targets[$0 * labels + label] == 1 })
    }
  }
}

/// Multi-label results: mean average precision, and precision/recall/F1 of the decisions
/// `probability > threshold` (0.5), micro-averaged (pooled counts) and macro-averaged, per label.
public struct MultiLabelReport: MetricsReport, Equatable, Sendable {
  /// One label's average precision and thresholded scores.
  public struct Label: Codable, Equatable, Sendable {
    /// nil when the label has no positive row.
    public var averagePrecision: Double?
    public var scores: ClassScores
  }

  public var labelNames: [String]
  /// The number of evaluated rows, `N`.
  public var rows: Int
  /// A label is predicted when its probability is strictly above this (torchmetrics' rule).
  public var threshold: Double
  /// `MultiLabelMetrics.meanAveragePrecision`; nil when no label has a positive row.
  public var meanAveragePrecision: Double?
  /// Labels without positive rows, left out of `meanAveragePrecision`.
  public var labelsWithoutPositives: [String]
  /// Scores of the pooled counts over all labels, `precision_recall_fscore_support(targets,
  /// decisions, average="micro", zero_division=0)`.
  public var micro: AveragedScores
  /// Unweighted means over all `L` labels, `average="macro", zero_division=0` (sklearn takes every
  /// column of a label matrix, so a label never present nor predicted counts as 0).
  public var macro: AveragedScores
  /// One entry per label, in label order.
  public var perLabel: [Label]

  /// The decision threshold on probabilities.
  public static let defaultThreshold = 0.5

  /// Evaluates probabilities against 0/1 targets.
  ///
  /// - Parameters:
  ///   - probabilities: `[N, L]` in `[0, 1]` (the sigmoid of the head's logits), `N > 0`.
  ///   - targets: `[N, L]`, each 0 or 1.
  ///   - labelNames: `L` names, used by `table()`.
  /// - Throws: `MetricInputError` naming the shape or the row that does not fit.
  public init(probabilities: Tensor, targets: Tensor, labelNames: [String]) throws {
    guard probabilities.rank == 2, probabilities.shape[0] > 0 else {
      throw MetricInputError("multi-label probabilities must be [N, L] with N > 0, got \(probabilities.shape)")
    }
    guard targets.shape == probabilities.shape else {
      throw MetricInputError("probabilities are \(probabilities.shape) but targets are \(targets.shape)")
    }
    let (rows, labels) = (probabilities.shape[0], probabilities.shape[1])
    guard labelNames.count == labels else {
      throw MetricInputError("probabilities have \(labels) labels but \(labelNames.count) label names are given")
    }
    if let index = (0..<targets.count).first(where: { targets[$0] != 0 && targets[$0] != 1 }) {
      throw MetricInputError("row \(index / labels): target \(targets[index]) of label \(index % labels) is not 0 or 1")
    }
    if let index = (0..<probabilities.count).first(where: { !(0...1).contains(probabilities[$0]) }) {
      throw MetricInputError(
        "row \(index / labels): \(probabilities[index]) is not a probability in [0, 1] (apply the sigmoid to logits)")
    }

    let threshold = Self.defaultThreshold
    let averagePrecisions = MultiLabelMetrics.perLabelAveragePrecision(scores: probabilities, targets: targets)
    var (pooledTruePositives, pooledPredicted, pooledSupport) = (0, 0, 0)
    self.perLabel = (0..<labels).map { label in
      var (truePositives, predicted, support) = (0, 0, 0)
      for row in 0..<rows {
        let isPredicted = Double(probabilities[row * labels + label]) > threshold
        let isPositive = targets[row * labels + label] == 1
        if isPredicted { predicted += 1 }
        if isPositive { support += 1 }
        if isPredicted && isPositive { truePositives += 1 }
      }
      pooledTruePositives += truePositives
      pooledPredicted += predicted
      pooledSupport += support
      return Label(
        averagePrecision: averagePrecisions[label],
        scores: ClassScores(
          name: labelNames[label], truePositives: truePositives, predicted: predicted, support: support))
    }
    let pooled = ClassScores(
      name: "micro", truePositives: pooledTruePositives, predicted: pooledPredicted, support: pooledSupport)
    self.labelNames = labelNames
    self.rows = rows
    self.threshold = threshold
    let kept = averagePrecisions.compactMap { $0 }
    self.meanAveragePrecision = kept.isEmpty ? nil : kept.reduce(0, +) / Double(kept.count)
    self.labelsWithoutPositives = (0..<labels).filter { averagePrecisions[$0] == nil }.map { labelNames[$0] }
    self.micro = AveragedScores(precision: pooled.precision, recall: pooled.recall, f1: pooled.f1)
    self.macro = averaged(perLabel.map(\.scores), weight: { _ in 1 })
  }
}

// MARK: - Regression

/// Regression results from predictions and targets `[N]` or `[N, T]`.
///
/// Per target `j`: `MSE_j = mean_i (ŷ_ij − y_ij)²`, `MAE_j = mean_i |ŷ_ij − y_ij|`,
/// `R²_j = 1 − Σ_i (y_ij − ŷ_ij)² / Σ_i (y_ij − ȳ_j)²`; the overall values are their unweighted
/// means, as `sklearn.metrics.mean_squared_error`, `mean_absolute_error` and `r2_score` with
/// `multioutput="uniform_average"`. R² of a constant target follows sklearn's `force_finite=True`:
/// 1 when predicted exactly, else 0.
public struct RegressionReport: MetricsReport, Equatable, Sendable {
  /// The errors of one target column.
  public struct Target: Codable, Equatable, Sendable {
    public var name: String
    public var meanSquaredError: Double
    public var meanAbsoluteError: Double
    /// nil with fewer than two rows (sklearn returns NaN: R² is undefined).
    public var r2: Double?
  }

  /// The number of evaluated rows, `N`.
  public var rows: Int
  public var meanSquaredError: Double
  public var meanAbsoluteError: Double
  /// nil with fewer than two rows.
  public var r2: Double?
  /// One entry per target column, in order.
  public var perTarget: [Target]

  /// Evaluates `predictions` against `targets`.
  ///
  /// - Parameters:
  ///   - predictions: `[N]` or `[N, T]`, finite, `N > 0`.
  ///   - targets: the same shape.
  ///   - targetNames: `T` names (1 for `[N]`), used by `table()`.
  /// - Throws: `MetricInputError` naming the shape or the row that does not fit.
  public init(predictions: Tensor, targets: Tensor, targetNames: [String]) throws {
    guard (1...2).contains(predictions.rank), predictions.shape[0] > 0 else {
      throw MetricInputError("regression predictions must be [N] or [N, T] with N > 0, got \(predictions.shape)")
    }
    guard targets.shape == predictions.shape else {
      throw MetricInputError("predictions are \(predictions.shape) but targets are \(targets.shape)")
    }
    let rows = predictions.shape[0]
    let columns = predictions.rank == 2 ? predictions.shape[1] : 1
    guard targetNames.count == columns else {
      throw MetricInputError("predictions have \(columns) targets but \(targetNames.count) target names are given")
    }
    try requireFinite(predictions, what: "prediction")
    try requireFinite(targets, what: "target")

    self.rows = rows
    self.perTarget = (0..<columns).map { column in
      let predicted = (0..<rows).map { Double(predictions[$0 * columns + column]) }
      let actual = (0..<rows).map { Double(targets[$0 * columns + column]) }
      let squaredErrors = zip(predicted, actual).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
      let absoluteErrors = zip(predicted, actual).reduce(0.0) { $0 + Swift.abs($1.0 - $1.1) }
      let mean = actual.reduce(0, +) / Double(rows)
      let spread = actual.reduce(0.0) { $0 + ($1 - mean) * ($1 - mean) }
      let r2: Double? =
        rows < 2 ? nil : squaredErrors == 0 ? 1 : spread == 0 ? 0 : 1 - squaredErrors / spread
      return Target(
        name: targetNames[column], meanSquaredError: squaredErrors / Double(rows),
        meanAbsoluteError: absoluteErrors / Double(rows), r2: r2)
    }
    self.meanSquaredError = perTarget.reduce(0) { $0 + $1.meanSquaredError } / Double(columns)
    self.meanAbsoluteError = perTarget.reduce(0) { $0 + $1.meanAbsoluteError } / Double(columns)
    self.r2 = rows < 2 ? nil : perTarget.reduce(0) { $0 + $1.r2! } / Double(columns)
  }
}

// MARK: - Retrieval

/// Cross-modal retrieval from a similarity matrix `[N, N]` whose row `i` (a query of the first
/// modality) matches column `i` (an item of the second), and vice versa.
///
/// The rank of the match of query `i` is `1 + #{j ≠ i : s_ij ≥ s_ii}` (1-based): items tied with
/// the match rank ahead of it, so a model scoring everything equal gets the worst rank, not the
/// best. Recall@k is the fraction of queries with rank `≤ k`; the median rank is
/// `⌊median(ranks)⌋` (numpy's median, the mean of the two middle ranks for even `N`), as
/// open_clip's `get_clip_metrics`, which CLIP-style papers report.
public enum RetrievalMetrics {
  /// The 1-based rank of each row's match among the columns (`rows → columns`) and of each
  /// column's match among the rows (`columns → rows`).
  ///
  /// - Parameter similarity: `[N, N]`, finite.
  /// - Returns: `N` ranks in `1...N` per direction.
  public static func ranks(similarity: Tensor) -> (rowsToColumns: [Int], columnsToRows: [Int]) {
    let n = similarity.shape[0]
    return ranks(similarity: similarity, rowGroups: Array(0..<n), columnGroups: Array(0..<n))
  }

  /// Ranks when some queries or items are the same input (a caption used for
  /// many images, one file listed twice): items are grouped by `…Groups`
  /// (equal numbers = the same input), each group is one candidate scored by
  /// its best item, and the match of query `i` is the group of item `i`. So
  /// the rank is `1 + #{other groups g : max_{j∈g} s_ij ≥ max_{j∈own} s_ij}`;
  /// with every group a single item this is `ranks(similarity:)`.
  ///
  /// - Returns: per direction `N` ranks in `1...G`, `G` the distinct candidates.
  public static func ranks(
    similarity: Tensor, rowGroups: [Int], columnGroups: [Int]
  ) -> (rowsToColumns: [Int], columnsToRows: [Int]) {
    precondition(similarity.rank == 2 && similarity.shape[0] == similarity.shape[1], "ranks: \(similarity.shape)")
    let n = similarity.shape[0]
    precondition(rowGroups.count == n && columnGroups.count == n, "ranks: \(n) pairs need \(n) group numbers")
    let value = { (row: Int, column: Int) in similarity[row * n + column] }
    /// Group numbers renumbered 0..<G, in order of first appearance.
    func dense(_ groups: [Int]) -> (ids: [Int], count: Int) {
      var numbering: [Int: Int] = [:]
      let ids = groups.map { group in
        if let id = numbering[group] { return id }
        numbering[group] = numbering.count
        return numbering.count - 1
      }
      return (ids, numbering.count)
    }
    func ranks(groups: [Int], score: (_ query: Int, _ item: Int) -> Float) -> [Int] {
      let (ids, count) = dense(groups)
      var best = [Float](repeating: -.infinity, count: count)
      return (0..<n).map { query in
        for group in 0..<count { best[group] = -.infinity }
        for item in 0..<n { best[ids[item]] = Swift.max(best[ids[item]], score(query, item)) }
        let own = ids[query], matched = best[own]
        return 1 + (0..<count).filter { $0 != own && best[$0] >= matched }.count
      }
    }
    return (ranks(groups: columnGroups) { value($0, $1) }, ranks(groups: rowGroups) { value($1, $0) })
  }

  /// Recall@k of a model that ranks the `candidates` distinct items at random: `min(k, G) / G`.
  public static func chanceRecall(candidates: Int, k: Int) -> Double {
    Double(min(k, candidates)) / Double(candidates)
  }

  /// The fraction of `ranks` that are `≤ k`.
  public static func recall(ranks: [Int], k: Int) -> Double {
    precondition(!ranks.isEmpty, "recall: no ranks")
    return Double(ranks.filter { $0 <= k }.count) / Double(ranks.count)
  }

  /// `⌊median(ranks)⌋`, the median of the two middle ranks for an even count.
  public static func medianRank(_ ranks: [Int]) -> Int {
    precondition(!ranks.isEmpty, "medianRank: no ranks")
    let sorted = ranks.sorted()
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
  }
}

/// Retrieval results in both directions: recall@k, median and mean rank.
public struct RetrievalReport: MetricsReport, Equatable, Sendable {
  /// One direction's results.
  public struct Direction: Codable, Equatable, Sendable {
    /// Recall@k for one `k`.
    public struct Recall: Codable, Equatable, Sendable {
      public var k: Int
      public var recall: Double
    }

    /// "QUERIES → ITEMS", e.g. "text → image".
    public var name: String
    /// The distinct items ranked (identical inputs count once).
    public var candidates: Int
    public var recallAtK: [Recall]
    /// Recall@k of a random ranking, for comparison.
    public var chanceRecallAtK: [Recall]
    public var medianRank: Int
    public var meanRank: Double

    init(name: String, ranks: [Int], candidates: Int, ks: [Int]) {
      self.name = name
      self.candidates = candidates
      self.recallAtK = ks.map { Recall(k: $0, recall: RetrievalMetrics.recall(ranks: ranks, k: $0)) }
      self.chanceRecallAtK = ks.map { Recall(k: $0, recall: RetrievalMetrics.chanceRecall(candidates: candidates, k: $0)) }
      self.medianRank = RetrievalMetrics.medianRank(ranks)
      self.meanRank = Double(ranks.reduce(0, +)) / Double(ranks.count)
    }
  }

  /// The number of matched pairs, `N`.
  public var pairs: Int
  /// Rows as queries over the columns, then columns as queries over the rows.
  public var directions: [Direction]

  /// Evaluates a similarity matrix whose diagonal holds the matching pairs.
  ///
  /// - Parameters:
  ///   - similarity: `[N, N]`, finite, `N > 0`; row `i` matches column `i`.
  ///   - rowsName, columnsName: what rows and columns hold (e.g. "text", "image").
  ///   - ks: the `k` of the recalls, each `≥ 1`.
  ///   - rowGroups, columnGroups: equal numbers mark identical inputs (see
  ///     `RetrievalMetrics.ranks(similarity:rowGroups:columnGroups:)`); nil: all distinct.
  /// - Throws: `MetricInputError` naming the shape or the row that does not fit.
  public init(
    similarity: Tensor, rowsName: String, columnsName: String, ks: [Int] = [1, 5, 10],
    rowGroups: [Int]? = nil, columnGroups: [Int]? = nil
  ) throws {
    guard similarity.rank == 2, similarity.shape[0] > 0, similarity.shape[0] == similarity.shape[1] else {
      throw MetricInputError("a retrieval similarity matrix must be [N, N] with N > 0, got \(similarity.shape)")
    }
    try requireFinite(similarity, what: "similarity")
    if let k = ks.first(where: { $0 < 1 }) { throw MetricInputError("recall@k needs k ≥ 1, got \(k)") }
    let n = similarity.shape[0]
    let rowGroups = rowGroups ?? Array(0..<n), columnGroups = columnGroups ?? Array(0..<n)
    guard rowGroups.count == n, columnGroups.count == n else {
      throw MetricInputError("\(n) pairs need \(n) group numbers per side, got \(rowGroups.count) and \(columnGroups.count)")
    }
    let (rowsToColumns, columnsToRows) = RetrievalMetrics.ranks(
      similarity: similarity, rowGroups: rowGroups, columnGroups: columnGroups)
    self.pairs = n
    self.directions = [
      Direction(name: "\(rowsName) → \(columnsName)", ranks: rowsToColumns, candidates: Set(columnGroups).count, ks: ks),
      Direction(name: "\(columnsName) → \(rowsName)", ranks: columnsToRows, candidates: Set(rowGroups).count, ks: ks),
    ]
  }
}

// MARK: - Shared helpers

/// Weighted means of precision, recall and F1; all 0 when the weights sum to 0.
private func averaged(_ scores: [ClassScores], weight: (ClassScores) -> Double) -> AveragedScores {
  let total = scores.reduce(0) { $0 + weight($1) }
  guard total > 0 else { return AveragedScores(precision: 0, recall: 0, f1: 0) }
  func mean(_ value: (ClassScores) -> Double) -> Double {
    scores.reduce(0) { $0 + weight($1) * value($1) } / total
  }
  return AveragedScores(precision: mean(\.precision), recall: mean(\.recall), f1: mean(\.f1))
}

/// Throws naming the first row (first dimension) holding a NaN or infinity.
private func requireFinite(_ tensor: Tensor, what: String) throws {
  guard let index = (0..<tensor.count).first(where: { !tensor[$0].isFinite }) else { return }
  let rowWidth = tensor.rank > 1 ? tensor.count / tensor.shape[0] : 1
  throw MetricInputError("row \(index / rowWidth): \(what) \(tensor[index]) is not finite")
}
