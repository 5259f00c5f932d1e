import Foundation
import MetaTX
import Readers
import XCTest

/// Task manifests: CSV/TSV/JSON Lines, class-per-folder layouts, tables with a
/// target column, splits, label sets and the bad-row policy.
final class ManifestTests: XCTestCase {
  private var scratch: TokenizerScratch!

  override func setUpWithError() throws { scratch = try TokenizerScratch() }
  override func tearDown() { scratch.remove() }

  /// Writes `text` at `relative` inside the scratch folder, creating its folders.
  @discardableResult
  private func write(_ relative: String, _ text: String = "x") throws -> String {
    let path = scratch.path + "/" + relative
    try FileManager.default.createDirectory(
      atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    return path
  }

  private func load(
    _ path: String, kind: TaskKind = .classification, inputs: String = "path", policy: BadRowPolicy = .stop,
    requiresTarget: Bool = true, format: ManifestFormat? = nil
  ) throws -> (Manifest, BadRowReport) {
    var report = BadRowReport(policy: policy)
    let manifest = try Manifest.read(
      path: path, format: format, kind: kind, inputColumns: ManifestColumn.parse(list: inputs),
      requiresTarget: requiresTarget, report: &report)
    return (manifest, report)
  }

  // MARK: Formats

  func testCSVWithQuotingAndRelativePathsAndRowNumbers() throws {
    try write("data/images/a, b.png")
    try write("data/images/c.jpg")
    let absolute = try write("elsewhere/d.png")
    let manifest = try write(
      "data/manifest.csv",
      """
      path,label,split
      "images/a, b.png","big cat",train

      images/c.jpg," dog ",test
      \(absolute),cat,

      """)
    let (read, report) = try load(manifest)
    let folder = scratch.path + "/data/"
    XCTAssertEqual(
      read.entries,
      [
        ManifestEntry(
          location: RowLocation(file: manifest, row: 2), inputs: [.file(path: folder + "images/a, b.png", modality: .image)],
          target: .labels(["big cat"]), split: "train"),
        ManifestEntry(
          location: RowLocation(file: manifest, row: 4), inputs: [.file(path: folder + "images/c.jpg", modality: .image)],
          target: .labels(["dog"]), split: "test"),
        ManifestEntry(
          location: RowLocation(file: manifest, row: 5), inputs: [.file(path: absolute, modality: .image)],
          target: .labels(["cat"]), split: nil),
      ])
    XCTAssertEqual(read.splits, ["train", "test"])
    XCTAssertNil(report.summary)
  }

  func testTSVWithInlineTextAndAnExplicitFormat() throws {
    let text = "label\ttext\npositive\tgood, very \"good\"\nnegative\tbad\n"
    let tsv = try write("reviews.tsv", text)
    let (read, _) = try load(tsv, inputs: "text")
    XCTAssertEqual(read.entries.map(\.inputs), [[.text("good, very \"good\"")], [.text("bad")]])
    XCTAssertEqual(read.entries.map(\.target), [.labels(["positive"]), .labels(["negative"])])

    let unnamed = try write("reviews.txt", text)
    XCTAssertEqual(try load(unnamed, inputs: "text", format: .tsv).0.entries, read.entries.map {
      var entry = $0
      entry.location.file = unnamed
      return entry
    })
    assertReaderError(try load(unnamed, inputs: "text"), contains: ["reviews.txt", ".jsonl"])
  }

  func testJSONLinesWithNumbersNullsAndLineNumbers() throws {
    try write("clips/a.wav")
    try write("clips/b.flac")
    let manifest = try write(
      "clips.jsonl",
      """
      {"path": "clips/a.wav", "label": 3, "split": "train"}

      {"path": "clips/b.flac", "label": "door", "split": null, "extra": {"ignored": [1]}}\r

      """)
    let (read, _) = try load(manifest)
    XCTAssertEqual(read.entries.map(\.location.row), [1, 3])
    XCTAssertEqual(read.entries.map(\.target), [.labels(["3"]), .labels(["door"])])
    XCTAssertEqual(read.entries.map(\.split), ["train", nil])
    XCTAssertEqual(read.entries[1].inputs, [.file(path: scratch.path + "/clips/b.flac", modality: .audio)])

    let broken = try write("broken.ndjson", "{\"path\": \"clips/a.wav\", \"label\": 1}\n[1, 2]\n")
    assertReaderError(try load(broken), contains: ["broken.ndjson", "row 2", "JSON object"])
  }

  // MARK: Targets

  func testMultilabelTargetsFromPipesAndListsAndTheirMultiHotVectors() throws {
    try write("a.png")
    let csv = try write("tags.csv", "path,label\na.png,sky| sea |sky\na.png,tree\n")
    let (fromCSV, _) = try load(csv, kind: .multilabel)
    XCTAssertEqual(fromCSV.entries.map(\.target), [.labels(["sky", "sea"]), .labels(["tree"])])

    let jsonl = try write("tags.jsonl", "{\"path\": \"a.png\", \"label\": [\"sea\", \"tree\"]}\n")
    let (fromJSON, _) = try load(jsonl, kind: .multilabel)
    XCTAssertEqual(fromJSON.entries.map(\.target), [.labels(["sea", "tree"])])

    let labels = try LabelSet(training: fromCSV)
    XCTAssertEqual(labels.names, ["sea", "sky", "tree"])
    XCTAssertEqual(labels.multiHot(["tree", "sea"]), [1, 0, 1])
    XCTAssertNil(labels.multiHot(["cloud"]))

    // A list is several labels, which only a multilabel task takes.
    assertReaderError(try load(jsonl), contains: ["tags.jsonl", "row 1", "multilabel"])
  }

  func testRegressionTargetsAndAnInvalidNumberUnderBothPolicies() throws {
    try write("a.png")
    let csv = try write("ages.csv", "path,label\na.png,3.5\na.png, -2 \na.png,old\na.png,inf\n")
    assertReaderError(
      try load(csv, kind: .regression), contains: ["ages.csv", "row 4", "column \"label\"", "\"old\"", "--skip-bad"])
    let (read, report) = try load(csv, kind: .regression, policy: .skip)
    XCTAssertEqual(read.entries.map(\.target), [.value(3.5), .value(-2)])
    XCTAssertEqual(report.rejected.map(\.location.row), [4, 5])
    XCTAssertEqual(report.summary, "skipped 2 bad rows: 2 invalid target")
    XCTAssertEqual(read.kind, .regression)
  }

  func testPredictionManifestsNeedNoTarget() throws {
    try write("a.png")
    let csv = try write("unlabelled.csv", "path\na.png\n")
    XCTAssertEqual(try load(csv, requiresTarget: false).0.entries.map(\.target), [nil])
    assertReaderError(try load(csv), contains: ["unlabelled.csv", "no target column \"label\""])
  }

  // MARK: Inputs

  func testSeveralModalitiesPerSample() throws {
    try write("img/1.png")
    try write("rec/1.wav")
    try write("rec/1.csv")
    try write("emb/1.npy")
    let captioned = try write("captioned.csv", "image,text,label\nimg/1.png,\"a cat, asleep\",cat\n")
    let (images, _) = try load(captioned, inputs: "image,text")
    XCTAssertEqual(images.entries[0].inputs, [.file(path: scratch.path + "/img/1.png", modality: .image), .text("a cat, asleep")])
    XCTAssertEqual(images.entries[0].inputs.map(\.modality), [.image, .text])

    let sensors = try write("sensors.jsonl", "{\"audio\": \"rec/1.wav\", \"imu\": \"rec/1.csv\", \"label\": \"walk\"}\n")
    let (recordings, _) = try load(sensors, inputs: "audio,imu")
    XCTAssertEqual(recordings.entries[0].inputs.map(\.modality), [.audio, .imu])

    // `path:MODALITY` overrides the extension (`.npy` alone reads as tokens).
    let arrays = try write("arrays.csv", "path,label\nemb/1.npy,cat\n")
    XCTAssertEqual(try load(arrays).0.entries[0].inputs.map(\.modality), [.tokens])
    XCTAssertEqual(try load(arrays, inputs: "path:image").0.entries[0].inputs.map(\.modality), [.image])

    assertReaderError(try load(captioned, inputs: "audio"), contains: ["captioned.csv", "no column \"audio\""])
  }

  func testColumnSpecs() throws {
    XCTAssertEqual(try ManifestColumn(spec: "text"), ManifestColumn(name: "text", content: .inlineText))
    XCTAssertEqual(try ManifestColumn(spec: "path"), .path)
    XCTAssertEqual(try ManifestColumn(spec: "pointcloud"), ManifestColumn(name: "pointcloud", content: .file(.pointCloud)))
    XCTAssertEqual(try ManifestColumn(spec: "caption_file:text"), ManifestColumn(name: "caption_file", content: .file(.text)))
    assertReaderError(try ManifestColumn(spec: "picture"), contains: ["picture", "NAME:MODALITY"])
    assertReaderError(try ManifestColumn(spec: "path:photo"), contains: ["path:photo"])
    assertReaderError(try ManifestColumn.parse(list: "image,image"), contains: ["twice"])
  }

  // MARK: Class-per-folder layouts

  func testClassPerFolderWithoutSplits() throws {
    try write("pets/dog/2.png")
    try write("pets/cat/b.jpg")
    try write("pets/cat/a.png")
    try write("pets/cat/.thumbs.png")
    try write("pets/.cache/x.png")
    try write("pets/README.txt")
    var report = BadRowReport(policy: .stop)
    let manifest = try Manifest.fromFolders(root: scratch.path + "/pets/", report: &report)
    let root = scratch.path + "/pets/"
    XCTAssertEqual(manifest.entries.map(\.inputs), [
      [.file(path: root + "cat/a.png", modality: .image)], [.file(path: root + "cat/b.jpg", modality: .image)],
      [.file(path: root + "dog/2.png", modality: .image)],
    ])
    XCTAssertEqual(manifest.entries.map(\.target), [.labels(["cat"]), .labels(["cat"]), .labels(["dog"])])
    XCTAssertEqual(manifest.entries.map(\.split), [nil, nil, nil])
    XCTAssertEqual(manifest.entries[0].location, RowLocation(file: root + "cat/a.png", row: nil))
    XCTAssertEqual(try LabelSet(training: manifest).names, ["cat", "dog"])
  }

  func testClassPerFolderWithTrainAndTestSplitsAndAGivenModality() throws {
    try write("scans/train/normal/1")
    try write("scans/train/pneumonia/2")
    try write("scans/test/normal/3")
    var report = BadRowReport(policy: .stop)
    let manifest = try Manifest.fromFolders(root: scratch.path + "/scans", modality: .xray, report: &report)
    XCTAssertEqual(manifest.splits, ["test", "train"])
    let train = try manifest.filtered(split: "train")
    XCTAssertEqual(train.entries.map(\.target), [.labels(["normal"]), .labels(["pneumonia"])])
    XCTAssertEqual(try manifest.filtered(split: "test").entries.map(\.inputs), [
      [.file(path: scratch.path + "/scans/test/normal/3", modality: .xray)]
    ])

    // Without a modality, files without an extension are bad rows.
    assertReaderError(
      try Manifest.fromFolders(root: scratch.path + "/scans", report: &report),
      contains: ["scans/test/normal/3", "cannot tell the modality"])
    var skipping = BadRowReport(policy: .skip)
    XCTAssertEqual(try Manifest.fromFolders(root: scratch.path + "/scans", report: &skipping).entries, [])
    XCTAssertEqual(skipping.summary, "skipped 3 bad rows: 3 unknown file type")

    assertReaderError(try Manifest.fromFolders(root: scratch.path + "/nothing", report: &report), contains: ["is not a folder"])
    try FileManager.default.createDirectory(atPath: scratch.path + "/empty", withIntermediateDirectories: false)
    assertReaderError(try Manifest.fromFolders(root: scratch.path + "/empty", report: &report), contains: ["no samples"])
  }

  func testSplitFiltering() throws {
    try write("a.png")
    let csv = try write("m.csv", "path,label,split\na.png,x,train\na.png,y,val\na.png,x,train\na.png,y,\n")
    let (manifest, _) = try load(csv)
    XCTAssertEqual(try manifest.filtered(split: "train").entries.map(\.location.row), [2, 4])
    XCTAssertEqual(try manifest.filtered(split: "val").entries.map(\.location.row), [3])
    assertReaderError(try manifest.filtered(split: "test"), contains: ["m.csv", "\"test\"", "train, val"])
    let (unsplit, _) = try load(try write("n.csv", "path,label\na.png,x\n"))
    assertReaderError(try unsplit.filtered(split: "train"), contains: ["n.csv", "no row names a split"])
  }

  // MARK: Tables

  func testTableWithATargetColumn() throws {
    let table = try write("iris.csv", "width,length,species,fold\n1.0,2.0,setosa,train\n1.5,2.5,,train\n3.0,1.0,virginica,test\n")
    var report = BadRowReport(policy: .skip)
    let manifest = try Manifest.readTable(
      path: table, kind: .classification, targetColumn: "species", splitColumn: "fold", report: &report)
    XCTAssertEqual(manifest.entries.map(\.inputs), [[.tableRow(path: table, index: 0)], [.tableRow(path: table, index: 2)]])
    XCTAssertEqual(manifest.entries.map(\.split), ["train", "test"])
    XCTAssertEqual(report.rejected.map(\.location), [RowLocation(file: table, row: 3)])
    XCTAssertEqual(report.summary, "skipped 1 bad row: 1 missing target")
    assertReaderError(
      try Manifest.readTable(path: table, kind: .regression, targetColumn: "colour", report: &report),
      contains: ["iris.csv", "no column \"colour\""])
  }

  // MARK: Bad rows

  func testEachBadRowStopsWithItsFileAndRowOrIsSkippedAndCounted() throws {
    try write("ok.png")
    try write("ok.png.unknown")
    let csv = try write(
      "bad.csv",
      """
      path,text,label
      ok.png,fine,a
      gone.png,fine,b
      ok.png,"  ",a
      ok.png,fine,
      ,fine,a
      ok.png.unknown,fine,a
      gone.png,"",

      """)
    let expectations: [(row: Int, parts: [String])] = [
      (3, ["gone.png does not exist", "missing file"]),
      (4, ["column \"text\" has no text", "empty text"]),
      (5, ["column \"label\" is empty", "missing target"]),
      (6, ["column \"path\" names no file", "missing input"]),
      (7, ["cannot tell the modality of ok.png.unknown", "unknown file type"]),
    ]
    let lines = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n").map(String.init)
    for (row, parts) in expectations {
      // Each bad row alone after a good one, so the error can only come from it.
      let single = try write("bad\(row).csv", [lines[0], lines[1], lines[row - 1]].joined(separator: "\n"))
      assertReaderError(try load(single, inputs: "path,text"), contains: ["bad\(row).csv: row 3: "] + parts + ["--skip-bad"])
    }
    assertReaderError(try load(csv, inputs: "path,text"), contains: ["bad.csv: row 3: ", "gone.png"])

    let (kept, report) = try load(csv, inputs: "path,text", policy: .skip)
    XCTAssertEqual(kept.entries.map(\.location.row), [2])
    XCTAssertEqual(report.rejected.map(\.location.row), [3, 4, 5, 6, 7, 8])
    XCTAssertEqual(
      report.summary, "skipped 6 bad rows: 1 missing input, 2 missing file, 1 unknown file type, 1 empty text, 1 missing target")
    XCTAssertEqual(report.counts.map(\.reason), [.missingInput, .missingFile, .unknownFileType, .emptyText, .missingTarget])
  }

  func testUnknownLabelAtEvaluation() throws {
    try write("a.png")
    let (train, _) = try load(try write("train.csv", "path,label\na.png,cat\na.png,dog\n"))
    let labels = try LabelSet(training: train)
    let (test, _) = try load(try write("test.csv", "path,label\na.png,dog\na.png,zebra\na.png,cat\n"))

    var stopping = BadRowReport(policy: .stop)
    assertReaderError(
      try labels.keepingKnownLabels(in: test, report: &stopping),
      contains: ["test.csv: row 3: ", "\"zebra\"", "2 classes (cat, dog)", "unknown label"])

    var skipping = BadRowReport(policy: .skip)
    let known = try labels.keepingKnownLabels(in: test, report: &skipping)
    XCTAssertEqual(known.entries.compactMap { $0.target?.labels.first }.map { labels.index(of: $0) }, [1, 0])
    XCTAssertEqual(skipping.summary, "skipped 1 bad row: 1 unknown label")
  }

  func testTheTokenizingStageReportsUnreadableFilesTheSameWay() throws {
    let location = RowLocation(file: "m.csv", row: 9)
    var stopping = BadRowReport(policy: .stop)
    let decoderError = ReaderError(file: "img/9.png", "is not a PNG file")
    XCTAssertThrowsError(try stopping.reject(location, .unreadableFile, decoderError.description)) { error in
      XCTAssertEqual(
        (error as? ReaderError)?.description,
        "m.csv: row 9: img/9.png: is not a PNG file (unreadable file; fix the row, or skip bad rows with --skip-bad)")
    }
    var skipping = BadRowReport(policy: .skip)
    try skipping.reject(location, .unreadableFile, decoderError.description)
    XCTAssertEqual(skipping.rejected, [BadRow(location: location, reason: .unreadableFile, problem: "img/9.png: is not a PNG file")])
  }

  // MARK: Label sets

  func testLabelSetOrderAndChecks() throws {
    let numbered = Manifest(
      file: "m.csv", kind: .classification,
      entries: ["10", "2", "0", "2"].enumerated().map { row, label in
        ManifestEntry(location: RowLocation(file: "m.csv", row: row + 2), inputs: [.text("t")], target: .labels([label]), split: nil)
      })
    let labels = try LabelSet(training: numbered)
    XCTAssertEqual(labels.names, ["0", "2", "10"])
    XCTAssertEqual(labels.index(of: "10"), 2)
    XCTAssertEqual(try JSONDecoder().decode(LabelSet.self, from: JSONEncoder().encode(labels)), labels)

    assertReaderError(try LabelSet(names: ["a", "b", "a"], source: "--labels"), contains: ["--labels", "\"a\" twice"])
    assertReaderError(try LabelSet(names: [], source: "--labels"), contains: ["no classes"])
    let unlabelled = Manifest(file: "p.csv", kind: .classification, entries: [])
    assertReaderError(try LabelSet(training: unlabelled), contains: ["p.csv", "no labels"])
  }
}
