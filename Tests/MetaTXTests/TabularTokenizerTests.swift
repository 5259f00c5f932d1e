import Foundation
import MetaTX
import Readers
import TestSupport
import XCTest

/// The tabular tokenizer: schema inference, robust normalisation, reading
/// rows, errors, token layout, gradients and the saved configuration.
final class TabularTokenizerTests: XCTestCase {
  private var scratch: TokenizerScratch!

  override func setUpWithError() throws { scratch = try TokenizerScratch() }
  override func tearDown() { scratch.remove() }

  /// 8 rows: an ID by name, an ID by distinct strings, a numeric column with
  /// a missing cell, a string category, a small integer code, an empty
  /// column and the label.
  private let training = """
    row_id,name,age,city,grade,notes,label
    1,ann,1,paris,1,,yes
    2,bob,2,rome,2,NA,no
    3,cid,3,paris,3,,yes
    4,dan,4,"rome",1,,no
    5,eve,NA,oslo,2,?,yes
    6,fay,5,paris,3,,no
    7,gus,6,rome,1,,yes
    8,hal,100,oslo,2,,no

    """

  private func fitted() throws -> (TabularTokenizer, String) {
    let path = try scratch.write("train.csv", training)
    return (try TabularTokenizer(configuration: TabularTokenizer.defaultConfiguration(fittingTo: [path]), dim: 6), path)
  }

  func testSchemaInferenceOnAMixedTable() throws {
    let (tokenizer, _) = try fitted()
    let roles = Dictionary(uniqueKeysWithValues: tokenizer.configuration.columns.map { ($0.name, $0.role) })
    XCTAssertEqual(
      roles,
      ["row_id": .ignored, "name": .ignored, "age": .numeric, "city": .categorical, "grade": .categorical,
       "notes": .ignored, "label": .target])
    let columns = tokenizer.configuration.columns
    XCTAssertEqual(columns.first { $0.name == "city" }?.categories, ["oslo", "paris", "rome"])
    XCTAssertEqual(columns.first { $0.name == "grade" }?.categories, ["1", "2", "3"])
    XCTAssertEqual(tokenizer.configuration.features.map(\.name), ["age", "city", "grade"])
    // A named target overrides the default names; with a limit of 2, the
    // three-level code becomes numeric.
    let path = try scratch.write("named.csv", training)
    let custom = try TabularTokenizer.inferSchema(
      fittingTo: [path], rules: TabularSchemaRules(targetColumn: "city", categoricalLevelLimit: 2))
    XCTAssertEqual(custom.columns.first { $0.name == "city" }?.role, .target)
    XCTAssertEqual(custom.columns.first { $0.name == "grade" }?.role, .numeric)
    XCTAssertEqual(custom.columns.first { $0.name == "label" }?.role, .categorical)
  }

  /// numpy: `np.percentile([1, 2, 3, 4, 5, 6, 100], [25, 50, 75])` = [2.5, 4, 5.5].
  func testRobustNormalisationOfAKnownColumn() throws {
    let (tokenizer, path) = try fitted()
    let age = try XCTUnwrap(tokenizer.configuration.columns.first { $0.name == "age" })
    XCTAssertEqual(age.median, 4, accuracy: 1e-6)
    XCTAssertEqual(age.scale, 3, accuracy: 1e-6)
    let rows = try tokenizer.read(path: path)
    XCTAssertEqual(rows.count, 8)
    XCTAssertEqual(rows[0].cells[0], .number((1 - 4) / 3))
    XCTAssertEqual(rows[4].cells[0], .missing)
    XCTAssertEqual(rows[7].cells[0], .number(32))
    let statistics = TabularTokenizer.robustStatistics([1, 2, 3, 4, 5, 6, 7, 100])
    XCTAssertEqual(statistics.median, 4.5, accuracy: 1e-6)
    XCTAssertEqual(statistics.scale, 3.5, accuracy: 1e-6)
    XCTAssertEqual(TabularTokenizer.robustStatistics([2, 2, 2, 2, 6]).scale, 4, "IQR 0 falls back to the range")
    XCTAssertEqual(TabularTokenizer.robustStatistics([3, 3]).scale, 1, "a constant column scales by 1")
  }

  /// Against `np.percentile(column, [25, 50, 75])` (`Scripts/reference/make_structured_fixtures.py`).
  func testRobustStatisticsMatchNumpyPercentiles() throws {
    let fixture = try openFixture("structured_preprocessing.safetensors")
    let quantiles = try fixture.floats("tabular.quantiles")
    let statistics = TabularTokenizer.robustStatistics(try fixture.floats("tabular.column"))
    XCTAssertEqual(statistics.median, quantiles[1], accuracy: 1e-6)
    XCTAssertEqual(statistics.scale, quantiles[2] - quantiles[0], accuracy: 1e-6)
  }

  func testReadingUnseenLevelsAndMissingCells() throws {
    let (tokenizer, _) = try fitted()
    let path = try scratch.write("test.csv", "city,age,grade\nlima,7,?\n\" paris \",NaN,3\n")
    let rows = try tokenizer.read(path: path)
    XCTAssertEqual(rows[0].cells, [.number(1), .category(3), .missing])
    XCTAssertEqual(rows[1].cells, [.missing, .category(1), .category(2)])
    let raw = tokenizer.rawFeatures(rows[0])
    XCTAssertEqual(raw.shape, [3, 3])
    XCTAssertEqual(raw.values, [1, -1, 0, 0, 3, 0, 0, -1, 1])
  }

  func testBadInputNamesColumnAndRow() throws {
    let (tokenizer, _) = try fitted()
    let noAge = try scratch.write("no-age.csv", "city,grade\nrome,1\n")
    assertReaderError(try tokenizer.read(path: noAge), contains: [noAge, "no column \"age\""])
    let text = try scratch.write("text.csv", "age,city,grade\n3,rome,1\nold,rome,2\n")
    assertReaderError(try tokenizer.read(path: text), contains: [text, "row 3", "column \"age\"", "old"])
    let infinite = try scratch.write("inf.csv", "age,city,grade\ninf,rome,1\n")
    assertReaderError(try tokenizer.read(path: infinite), contains: [infinite, "row 2", "not a finite number"])
    let headerOnly = try scratch.write("header.csv", "age,city,grade\n")
    assertReaderError(try tokenizer.read(path: headerOnly), contains: [headerOnly, "no data rows"])
    let onlyIDs = try scratch.write("ids.csv", "id,label\n1,a\n2,b\n")
    assertReaderError(try TabularTokenizer.defaultConfiguration(fittingTo: [onlyIDs]), contains: [onlyIDs, "no numeric or categorical"])
  }

  func testTokenLayoutAndDeterminism() throws {
    let (tokenizer, path) = try fitted()
    var rng = SeededRNG(seed: 3)
    tokenizer.initialise(&rng)
    let rows = try tokenizer.read(path: path)
    let first = tokenizer.forward(rows, training: false, rng: &rng)
    let second = tokenizer.forward(rows, training: true, rng: &rng)
    XCTAssertEqual(first.tokens.shape, [8, 4, 6])
    XCTAssertNil(first.mask)
    XCTAssertEqual(first.tokens.values, second.tokens.values)
    let parameters = tokenizer.parameters
    let cls = parameters.view("cls"), weight = parameters.view("numeric.weight"), bias = parameters.view("numeric.bias")
    let embeddings = parameters.view("categorical.embeddings"), missing = parameters.view("missing")
    for c in 0..<6 {
      XCTAssertEqual(first.tokens[c], cls.value[c])
      // Row 0: age (1 − 4) / 3 = −1, city paris (level 1 of 3 + unknown), grade "1" (level 0 after city's 4 rows).
      XCTAssertEqual(first.tokens[6 + c], -weight.value[c] + bias.value[c], accuracy: 1e-6)
      XCTAssertEqual(first.tokens[12 + c], embeddings.value[1 * 6 + c])
      XCTAssertEqual(first.tokens[18 + c], embeddings.value[4 * 6 + c])
      // Row 4: age missing → column 0's missing token.
      XCTAssertEqual(first.tokens[(4 * 4 + 1) * 6 + c], missing.value[c])
    }
  }

  func testGradientsOfFeatureTokensEmbeddingsAndMissingTokens() throws {
    let (tokenizer, path) = try fitted()
    let unseen = try scratch.write("unseen.csv", "age,city,grade\n?,lima,\n")
    let samples = try tokenizer.read(path: path) + tokenizer.read(path: unseen)
    let results = tokenizerGradientErrors(tokenizer, samples: samples)
    XCTAssertEqual(Set(results.keys), ["numeric.weight", "numeric.bias", "categorical.embeddings", "missing", "cls"])
    for (name, result) in results { XCTAssertLessThan(result.worstError, 2e-2, "\(name): \(result)") }
    tokenizer.parameters.isTrainable = false
    tokenizer.parameters.zeroGradients()
    tokenizer.backward(randomTensor([samples.count, 4, 6], seed: 5).data)
    XCTAssertTrue(tokenizer.parameters.gradients.values.allSatisfy { $0 == 0 })
  }

  func testConfigurationSurvivesTheModelFile() throws {
    let (tokenizer, path) = try fitted()
    var rng = SeededRNG(seed: 9)
    tokenizer.initialise(&rng)
    try assertSameTokens(tokenizer, try savedAndLoaded(tokenizer), path: path)
  }
}
