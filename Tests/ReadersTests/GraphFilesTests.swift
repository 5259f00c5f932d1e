import Foundation
import Readers
import XCTest

/// Graph JSON and edge lists, good and bad.
final class GraphFilesTests: XCTestCase {
  private var scratch: ScratchDirectory!

  override func setUpWithError() throws {
    scratch = try ScratchDirectory()
  }

  override func tearDown() {
    scratch.remove()
  }

  private func write(_ name: String, _ text: String) -> String {
    let path = scratch.file(name)
    _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    return path
  }

  func testJSONWithMixedIDsLabelsAndFeatures() throws {
    let path = write("g.json", """
      {"nodes": [{"id": 7, "label": "C", "features": [1, 0.5]},
                 {"id": "b", "features": [2, -1]},
                 {"id": "7x", "label": 6, "features": [0, 0]}],
       "edges": [{"source": 7, "target": "b", "label": "single"},
                 {"source": "b", "target": "7x"}]}
      """)
    let graph = try GraphFiles.read(path: path)
    XCTAssertEqual(graph.nodeIDs, ["7", "b", "7x"])
    XCTAssertEqual(graph.nodeLabels, ["C", nil, "6"])
    XCTAssertEqual(graph.featureWidth, 2)
    XCTAssertEqual(graph.nodeFeatures, [1, 0.5, 2, -1, 0, 0])
    XCTAssertEqual(graph.edges, [GraphEdge(source: 0, target: 1, label: "single"), GraphEdge(source: 1, target: 2)])
  }

  func testEdgeList() throws {
    let path = write("g.edgelist", "# a triangle\na b single\nb c\n\nc,a double # closing\n")
    let graph = try GraphFiles.read(path: path)
    XCTAssertEqual(graph.nodeIDs, ["a", "b", "c"])
    XCTAssertEqual(graph.featureWidth, 0)
    XCTAssertEqual(graph.edges, [
      GraphEdge(source: 0, target: 1, label: "single"), GraphEdge(source: 1, target: 2),
      GraphEdge(source: 2, target: 0, label: "double"),
    ])
  }

  func testBadGraphs() throws {
    let missing = write("m.json", #"{"nodes": [{"id": 1}, {"id": 2}], "edges": [{"source": 1, "target": 3}]}"#)
    assertReaderError(try GraphFiles.read(path: missing), file: missing, contains: "refers to node \"3\", which is not in \"nodes\"")
    let twice = write("t.json", #"{"nodes": [{"id": 1}, {"id": "1"}]}"#)
    assertReaderError(try GraphFiles.read(path: twice), file: twice, contains: "appears twice")
    let ragged = write("r.json", #"{"nodes": [{"id": 1, "features": [1, 2]}, {"id": 2, "features": [1]}]}"#)
    assertReaderError(try GraphFiles.read(path: ragged), file: ragged, contains: "has 1 features, earlier nodes 2")
    let textFeature = write("f.json", #"{"nodes": [{"id": 1, "features": ["x"]}]}"#)
    assertReaderError(try GraphFiles.read(path: textFeature), file: textFeature, contains: "feature that is a string")
    let broken = write("b.json", #"{"nodes": [{"id": 1}"#)
    assertReaderError(try GraphFiles.read(path: broken), file: broken, contains: "invalid JSON")
    let empty = write("e.json", #"{"nodes": []}"#)
    assertReaderError(try GraphFiles.read(path: empty), file: empty, contains: "no nodes")
    let wide = write("w.edges", "a b c d\n")
    assertReaderError(try GraphFiles.read(path: wide), file: wide, contains: "line 1 has 4 fields")
  }
}
