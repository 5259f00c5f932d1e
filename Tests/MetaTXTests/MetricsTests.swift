import Foundation
import MetaTX
import XCTest

/// The evaluation metrics against scikit-learn's values (`MetricsGolden`, written by
/// `Scripts/reference/metrics_golden.py`) and against answers known by hand.
final class MetricsTests: XCTestCase {
  /// sklearn and Swift sum the same float32 inputs in float64, in different orders.
  private let tolerance = 1e-12

  private func tensor(_ rows: [[Float]]) -> Tensor {
    Tensor(shape: [rows.count, rows.first?.count ?? 0], values: rows.flatMap { $0 })
  }

  private func assertClose(
    _ actual: [Double?], _ expected: [Double?], _ what: String, file: StaticString = #filePath, line: UInt = #line
  ) {
    XCTAssertEqual(actual.count, expected.count, "\(what): count", file: file, line: line)
    for (index, (a, e)) in zip(actual, expected).enumerated() {
      switch (a, e) {
      case (let a?, let e?):
        XCTAssertEqual(a, e, accuracy: tolerance, "\(what)[\(index)]", file: file, line: line)
      case (nil, nil):
        continue
      default:
        XCTFail("\(what)[\(index)]: \(String(describing: a)) vs \(String(describing: e))", file: file, line: line)
      }
    }
  }

  private func assertThrows(_ expression: @autoclosure () throws -> Any, containing text: String, line: UInt = #line) {
    XCTAssertThrowsError(try expression(), line: line) { error in
      XCTAssertTrue("\(error)".contains(text), "error \"\(error)\" does not mention \"\(text)\"", line: line)
    }
  }

  // MARK: Golden values from scikit-learn

  func testClassificationMatchesScikitLearn() throws {
    let golden = MetricsGolden.Classification.self
    let scores = tensor(golden.scores)
    let report = try ClassificationReport(
      scores: scores, targets: golden.targets, classNames: ["cat", "dog", "bird", "fish"], topK: [1, 2, 3])
    XCTAssertEqual(ClassificationMetrics.predictedClasses(scores: scores), golden.predicted)
    XCTAssertEqual(report.rows, golden.targets.count)
    XCTAssertEqual(report.accuracy, golden.accuracy, accuracy: tolerance)
    XCTAssertEqual(report.topK.map(\.k), [1, 2, 3])
    assertClose(report.topK.map(\.accuracy), golden.topK, "top-k")
    assertClose(report.perClass.map(\.precision), golden.precision, "precision")
    assertClose(report.perClass.map(\.recall), golden.recall, "recall")
    assertClose(report.perClass.map(\.f1), golden.f1, "f1")
    XCTAssertEqual(report.perClass.map(\.support), golden.support)
    XCTAssertEqual(report.perClass.map(\.predicted), golden.confusionMatrix.indices.map { column in
      golden.confusionMatrix.reduce(0) { $0 + $1[column] }
    })
    assertClose([report.macro.precision, report.macro.recall, report.macro.f1], golden.macro, "macro")
    assertClose([report.weighted.precision, report.weighted.recall, report.weighted.f1], golden.weighted, "weighted")
    XCTAssertEqual(report.confusionMatrix, golden.confusionMatrix)
  }

  func testMultiLabelMatchesScikitLearn() throws {
    let golden = MetricsGolden.MultiLabel.self
    let probabilities = tensor(golden.probabilities), targets = tensor(golden.targets)
    let report = try MultiLabelReport(
      probabilities: probabilities, targets: targets, labelNames: ["person", "car", "boat", "dog"])
    assertClose(report.perLabel.map(\.averagePrecision), golden.averagePrecision, "AP")
    assertClose([report.meanAveragePrecision], [golden.meanAveragePrecision], "mAP")
    assertClose(
      [MultiLabelMetrics.meanAveragePrecision(scores: probabilities, targets: targets)], [golden.meanAveragePrecision],
      "mAP function")
    XCTAssertNotEqual(report.meanAveragePrecision!, golden.sklearnMacroOverAllLabels, accuracy: 0.1)
    XCTAssertEqual(report.labelsWithoutPositives, ["boat"])
    assertClose(report.perLabel.map(\.scores.precision), golden.precision, "precision")
    assertClose(report.perLabel.map(\.scores.recall), golden.recall, "recall")
    assertClose(report.perLabel.map(\.scores.f1), golden.f1, "f1")
    XCTAssertEqual(report.perLabel.map(\.scores.support), golden.support)
    XCTAssertEqual(report.perLabel.map(\.scores.predicted), golden.predicted)
    assertClose([report.micro.precision, report.micro.recall, report.micro.f1], golden.micro, "micro")
    assertClose([report.macro.precision, report.macro.recall, report.macro.f1], golden.macro, "macro")
  }

  func testRegressionMatchesScikitLearn() throws {
    let golden = MetricsGolden.Regression.self
    let report = try RegressionReport(
      predictions: tensor(golden.predictions), targets: tensor(golden.targets), targetNames: ["x", "y"])
    XCTAssertEqual(report.rows, golden.targets.count)
    assertClose([report.meanSquaredError], [golden.meanSquaredError], "MSE")
    assertClose([report.meanAbsoluteError], [golden.meanAbsoluteError], "MAE")
    assertClose([report.r2], [golden.r2], "R²")
    assertClose(report.perTarget.map(\.meanSquaredError), golden.meanSquaredErrorPerTarget, "MSE per target")
    assertClose(report.perTarget.map(\.meanAbsoluteError), golden.meanAbsoluteErrorPerTarget, "MAE per target")
    assertClose(report.perTarget.map(\.r2), golden.r2PerTarget, "R² per target")

    let first = golden.predictions.map { $0[0] }, firstTargets = golden.targets.map { $0[0] }
    let single = try RegressionReport(
      predictions: Tensor(shape: [first.count], values: first),
      targets: Tensor(shape: [firstTargets.count], values: firstTargets), targetNames: ["x"])
    assertClose(
      [single.meanSquaredError, single.meanAbsoluteError, single.r2],
      [golden.meanSquaredErrorPerTarget[0], golden.meanAbsoluteErrorPerTarget[0], golden.r2PerTarget[0]], "[N] input")
  }

  func testRetrievalMatchesReference() throws {
    let golden = MetricsGolden.Retrieval.self
    let similarity = tensor(golden.similarity)
    let ranks = RetrievalMetrics.ranks(similarity: similarity)
    XCTAssertEqual(ranks.rowsToColumns, golden.rowsToColumnsRanks)
    XCTAssertEqual(ranks.columnsToRows, golden.columnsToRowsRanks)
    let report = try RetrievalReport(similarity: similarity, rowsName: "text", columnsName: "image", ks: golden.ks)
    XCTAssertEqual(report.pairs, golden.similarity.count)
    XCTAssertEqual(report.directions.map(\.name), ["text → image", "image → text"])
    let expected = [
      (golden.rowsToColumnsRecall, golden.rowsToColumnsMedianRank, golden.rowsToColumnsMeanRank),
      (golden.columnsToRowsRecall, golden.columnsToRowsMedianRank, golden.columnsToRowsMeanRank),
    ]
    for (direction, (recall, median, mean)) in zip(report.directions, expected) {
      XCTAssertEqual(direction.recallAtK.map(\.k), golden.ks)
      assertClose(direction.recallAtK.map(\.recall), recall, "\(direction.name) recall")
      XCTAssertEqual(direction.medianRank, median, direction.name)
      XCTAssertEqual(direction.meanRank, mean, accuracy: tolerance, direction.name)
    }
  }

  // MARK: Known answers

  func testPerfectClassification() throws {
    let scores = tensor([[3, 1, 0], [0, 2, 1], [0, 1, 5], [4, 0, 0]])
    let report = try ClassificationReport(
      scores: scores, targets: [0, 1, 2, 0], classNames: ["a", "b", "c"], topK: [1, 2])
    XCTAssertEqual(report.accuracy, 1)
    XCTAssertEqual(report.topK.map(\.accuracy), [1, 1])
    XCTAssertEqual(report.perClass.map(\.f1), [1, 1, 1])
    XCTAssertEqual(report.macro, AveragedScores(precision: 1, recall: 1, f1: 1))
    XCTAssertEqual(report.weighted, AveragedScores(precision: 1, recall: 1, f1: 1))
    XCTAssertEqual(report.confusionMatrix, [[2, 0, 0], [0, 1, 0], [0, 0, 1]])
  }

  func testAllWrongClassification() throws {
    // Each row ranks its target last, so top-2 of 3 classes misses too.
    let scores = tensor([[0, 2, 1], [1, 0, 2], [2, 1, 0]])
    let report = try ClassificationReport(scores: scores, targets: [0, 1, 2], classNames: ["a", "b", "c"], topK: [2, 3])
    XCTAssertEqual(report.accuracy, 0)
    XCTAssertEqual(report.topK.map(\.k), [2], "k ≥ C is always 1 and left out")
    XCTAssertEqual(report.topK.first?.accuracy, 0)
    XCTAssertEqual(report.perClass.map(\.precision), [0, 0, 0])
    XCTAssertEqual(report.perClass.map(\.support), [1, 1, 1])
    XCTAssertEqual(report.perClass.map(\.predicted), [1, 1, 1])
    XCTAssertEqual(report.macro.f1, 0)
    XCTAssertEqual(report.confusionMatrix, [[0, 1, 0], [0, 0, 1], [1, 0, 0]])
  }

  func testTopKOrdersTiesByHigherClassFirst() {
    // Target 1 ties class 2: sklearn ranks class 2 first, so top-1 misses; target 2 would hit.
    let scores = tensor([[0.5, 0.25, 0.25]])
    XCTAssertEqual(ClassificationMetrics.topKAccuracy(scores: scores, targets: [1], k: 1), 0)
    XCTAssertEqual(ClassificationMetrics.topKAccuracy(scores: scores, targets: [2], k: 2), 1)
    XCTAssertEqual(ClassificationMetrics.topKAccuracy(scores: scores, targets: [1], k: 2), 0)
    XCTAssertEqual(ClassificationMetrics.predictedClasses(scores: tensor([[0.25, 0.5, 0.5]])), [1])
  }

  func testAveragePrecisionKnownAnswers() {
    // sklearn's documented example: AP = (1/2)·1 + (1/2)·(2/3) = 0.8333...
    XCTAssertEqual(
      MultiLabelMetrics.averagePrecision(scores: [0.1, 0.4, 0.35, 0.8], positives: [false, false, true, true])!,
      5.0 / 6.0, accuracy: 1e-15)
    XCTAssertEqual(MultiLabelMetrics.averagePrecision(scores: [0.9, 0.8, 0.1], positives: [true, true, false]), 1)
    XCTAssertEqual(
      MultiLabelMetrics.averagePrecision(scores: [0.9, 0.8, 0.7, 0.1], positives: [false, false, false, true]), 0.25)
    // All scores tied: one threshold, precision = prevalence.
    XCTAssertEqual(
      MultiLabelMetrics.averagePrecision(scores: [0.3, 0.3, 0.3, 0.3], positives: [true, false, false, false]), 0.25)
    XCTAssertNil(MultiLabelMetrics.averagePrecision(scores: [0.3, 0.6], positives: [false, false]))
    XCTAssertNil(MultiLabelMetrics.meanAveragePrecision(scores: tensor([[0.3], [0.6]]), targets: tensor([[0], [0]])))
  }

  func testPerfectMultiLabel() throws {
    let report = try MultiLabelReport(
      probabilities: tensor([[0.9, 0.1], [0.2, 0.7], [0.8, 0.6]]), targets: tensor([[1, 0], [0, 1], [1, 1]]),
      labelNames: ["a", "b"])
    XCTAssertEqual(report.meanAveragePrecision, 1)
    XCTAssertEqual(report.micro, AveragedScores(precision: 1, recall: 1, f1: 1))
    XCTAssertEqual(report.macro, AveragedScores(precision: 1, recall: 1, f1: 1))
    XCTAssertEqual(report.labelsWithoutPositives, [])
  }

  func testRegressionKnownAnswers() throws {
    let values: [Float] = [1, 2, 3, 6]
    let perfect = try RegressionReport(
      predictions: Tensor(shape: [4], values: values), targets: Tensor(shape: [4], values: values), targetNames: ["y"])
    XCTAssertEqual(perfect.meanSquaredError, 0)
    XCTAssertEqual(perfect.r2, 1)
    // Predicting the mean (3) everywhere explains nothing: R² = 0; errors 4, 1, 0, 9 and 2, 1, 0, 3.
    let mean = try RegressionReport(
      predictions: Tensor(shape: [4], values: [3, 3, 3, 3]), targets: Tensor(shape: [4], values: values),
      targetNames: ["y"])
    XCTAssertEqual(mean.r2, 0)
    XCTAssertEqual(mean.meanSquaredError, 3.5)
    XCTAssertEqual(mean.meanAbsoluteError, 1.5)
    let one = try RegressionReport(
      predictions: Tensor(shape: [1, 1], values: [2]), targets: Tensor(shape: [1, 1], values: [1]), targetNames: ["y"])
    XCTAssertNil(one.r2, "R² is undefined for one row")
    XCTAssertEqual(one.meanAbsoluteError, 1)
  }

  /// Duplicate inputs: columns 0 and 1 are the same caption, so for query 0
  /// column 1 is as good a match as column 0, and the gallery has 2 distinct
  /// captions, not 3.
  func testRetrievalCountsADuplicateOfTheMatchAsTheMatch() throws {
    // Rows: three images. Columns: captions "cat", "cat", "dog".
    let similarity = Tensor(shape: [3, 3], values: [
      0.2, 0.9, 0.1,  // image 0 (a cat): its best cat caption is column 1
      0.8, 0.3, 0.1,  // image 1 (a cat)
      0.4, 0.5, 0.6,  // image 2 (a dog)
    ])
    let plain = RetrievalMetrics.ranks(similarity: similarity)
    XCTAssertEqual(plain.rowsToColumns, [2, 2, 1], "without groups the duplicate counts against the match")
    let grouped = RetrievalMetrics.ranks(similarity: similarity, rowGroups: [0, 1, 2], columnGroups: [0, 0, 1])
    XCTAssertEqual(grouped.rowsToColumns, [1, 1, 1])
    // Caption → image: the two "cat" queries are the same text; each still has its own image to find.
    XCTAssertEqual(grouped.columnsToRows, plain.columnsToRows)
    XCTAssertEqual(plain.columnsToRows, [3, 3, 1])
    let report = try RetrievalReport(similarity: similarity, rowsName: "image", columnsName: "text", ks: [1],
      rowGroups: [0, 1, 2], columnGroups: [0, 0, 1])
    XCTAssertEqual(report.directions.map(\.candidates), [2, 3])
    XCTAssertEqual(report.directions[0].recallAtK.first?.recall, 1)
    XCTAssertEqual(report.directions[0].chanceRecallAtK.first?.recall, 0.5)
    XCTAssertEqual(report.directions[1].chanceRecallAtK.first?.recall ?? 0, 1.0 / 3, accuracy: 1e-12)
    XCTAssertTrue(report.table().contains("(0.5000)"), report.table())
  }

  func testRetrievalKnownAnswers() throws {
    let identity = Tensor(shape: [4, 4], values: (0..<16).map { $0 % 5 == 0 ? 1 : 0 })
    let perfect = try RetrievalReport(similarity: identity, rowsName: "a", columnsName: "b", ks: [1])
    for direction in perfect.directions {
      XCTAssertEqual(direction.recallAtK.first?.recall, 1)
      XCTAssertEqual(direction.medianRank, 1)
    }
    // Everything tied: every match ranks last, so a constant model cannot look good.
    let constant = Tensor(shape: [4, 4], values: [Float](repeating: 0.5, count: 16))
    XCTAssertEqual(RetrievalMetrics.ranks(similarity: constant).rowsToColumns, [4, 4, 4, 4])
    XCTAssertEqual(RetrievalMetrics.medianRank([1, 2, 3, 4]), 2, "⌊2.5⌋")
    XCTAssertEqual(RetrievalMetrics.medianRank([1, 3, 5, 9]), 4)
    XCTAssertEqual(RetrievalMetrics.medianRank([7, 1, 2]), 2)
    XCTAssertEqual(RetrievalMetrics.recall(ranks: [1, 2, 3, 4], k: 3), 0.75)
  }

  // MARK: Bad input

  func testBadInputIsRejectedWithTheRow() {
    let scores = tensor([[0.2, 0.8], [0.6, 0.4]])
    assertThrows(
      try ClassificationReport(scores: scores, targets: [0, 2], classNames: ["a", "b"]), containing: "row 1: target 2")
    assertThrows(
      try ClassificationReport(scores: scores, targets: [0], classNames: ["a", "b"]), containing: "1 targets")
    assertThrows(
      try ClassificationReport(scores: scores, targets: [0, 1], classNames: ["a"]), containing: "1 class names")
    assertThrows(
      try ClassificationReport(scores: tensor([[0.2, 0.8], [.nan, 0.4]]), targets: [0, 1], classNames: ["a", "b"]),
      containing: "row 1: score nan")
    assertThrows(
      try MultiLabelReport(probabilities: tensor([[0.2, 1.5]]), targets: tensor([[0, 1]]), labelNames: ["a", "b"]),
      containing: "row 0: 1.5 is not a probability")
    assertThrows(
      try MultiLabelReport(probabilities: tensor([[0.2, 0.5]]), targets: tensor([[0, 2]]), labelNames: ["a", "b"]),
      containing: "row 0: target 2.0 of label 1")
    assertThrows(
      try RegressionReport(predictions: tensor([[1, 2]]), targets: tensor([[1], [2]]), targetNames: ["y"]),
      containing: "targets are [2, 1]")
    assertThrows(
      try RetrievalReport(similarity: tensor([[1, 0, 0]]), rowsName: "a", columnsName: "b"), containing: "[N, N]")
  }

  // MARK: Rendering and JSON

  func testTableAlignsColumnsAndNamesClasses() throws {
    let golden = MetricsGolden.Classification.self
    let report = try ClassificationReport(
      scores: tensor(golden.scores), targets: golden.targets, classNames: ["cat", "dog", "hummingbird", "fish"])
    let lines = report.table().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let header = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("class ") })
    let classLines = lines[header...].prefix(2 + 4)
    XCTAssertEqual(
      Set(classLines.map(\.count)).count, 1, "per-class lines differ in width:\n\(classLines.joined(separator: "\n"))")
    XCTAssertTrue(classLines.contains { $0.hasPrefix("cat ") && $0.contains("0.6667") })
    XCTAssertTrue(lines.contains { $0.hasPrefix("macro avg") && $0.contains("0.3889") })
    XCTAssertTrue(lines.contains { $0.hasPrefix("accuracy") && $0.hasSuffix("0.5000") })
    let matrix = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("true \\ predicted") })
    XCTAssertEqual(lines[matrix + 4].split(separator: " "), ["hummingbird", "1", "2", "0", "0"])

    let labels = try MultiLabelReport(
      probabilities: tensor(MetricsGolden.MultiLabel.probabilities), targets: tensor(MetricsGolden.MultiLabel.targets),
      labelNames: ["person", "car", "boat", "dog"]
    ).table()
    XCTAssertTrue(labels.contains("left out of mAP (no positive rows): boat"))
    XCTAssertTrue(labels.split(separator: "\n").contains { $0.hasPrefix("boat ") && $0.contains(" - ") })
  }

  func testReportsRoundTripThroughJSON() throws {
    let golden = MetricsGolden.MultiLabel.self
    let report = try MultiLabelReport(
      probabilities: tensor(golden.probabilities), targets: tensor(golden.targets), labelNames: ["p", "c", "b", "d"])
    let decoded = try JSONDecoder().decode(MultiLabelReport.self, from: JSONEncoder().encode(report))
    XCTAssertEqual(decoded, report)
    let classification = try ClassificationReport(
      scores: tensor(MetricsGolden.Classification.scores), targets: MetricsGolden.Classification.targets,
      classNames: ["a", "b", "c", "d"])
    let json = try XCTUnwrap(String(data: JSONEncoder().encode(classification), encoding: .utf8))
    XCTAssertTrue(json.contains("\"confusionMatrix\":[[3,0,0,0],[2,2,0,0],[1,2,0,0],[0,0,0,0]]"), json)
  }
}
