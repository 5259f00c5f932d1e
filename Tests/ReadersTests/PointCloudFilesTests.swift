import Foundation
import Readers
import XCTest

/// PLY (three encodings), OFF, XYZ text and `.npy` point clouds, good and bad.
final class PointCloudFilesTests: XCTestCase {
  private var scratch: ScratchDirectory!

  override func setUpWithError() throws {
    scratch = try ScratchDirectory()
  }

  override func tearDown() {
    scratch.remove()
  }

  private let points: [Float] = [0, 0, 0, 1.5, -2, 0.25, -3, 4, 1e-3, 7, 8, 9]

  private func write(_ name: String, _ bytes: Data) -> String {
    let path = scratch.file(name)
    _ = FileManager.default.createFile(atPath: path, contents: bytes)
    return path
  }

  private func write(_ name: String, _ text: String) -> String { write(name, Data(text.utf8)) }

  /// A PLY header with x (float), nx (float), y (double), red (uchar), z (float),
  /// a face element after the vertices, and `count` declared vertices.
  private func plyHeader(_ format: String, count: Int) -> String {
    """
    ply
    format \(format) 1.0
    comment made by the test
    element vertex \(count)
    property float x
    property float nx
    property double y
    property uchar red
    property float z
    element face 1
    property list uchar int vertex_indices
    end_header

    """
  }

  private func binaryPLY(bigEndian: Bool, count: Int? = nil) -> Data {
    var data = Data(plyHeader(bigEndian ? "binary_big_endian" : "binary_little_endian", count: count ?? 4).utf8)
    func append<T: FixedWidthInteger>(_ value: T) {
      withUnsafeBytes(of: bigEndian ? value.bigEndian : value.littleEndian) { data.append(contentsOf: $0) }
    }
    for row in 0..<4 {
      append(points[row * 3].bitPattern)
      append(Float(0.5).bitPattern)
      append(Double(points[row * 3 + 1]).bitPattern)
      append(UInt8(200))
      append(points[row * 3 + 2].bitPattern)
    }
    append(UInt8(3))
    for index: Int32 in [0, 1, 2] { append(index) }
    return data
  }

  func testPLYEncodingsReadIdentically() throws {
    var ascii = plyHeader("ascii", count: 4)
    for row in 0..<4 { ascii += "\(points[row * 3]) 0.5 \(points[row * 3 + 1]) 200 \(points[row * 3 + 2])\n" }
    ascii += "3 0 1 2\n"
    let fromASCII = try PointCloudFiles.read(path: write("a.ply", ascii))
    let fromLittle = try PointCloudFiles.read(path: write("l.ply", binaryPLY(bigEndian: false)))
    let fromBig = try PointCloudFiles.read(path: write("b.ply", binaryPLY(bigEndian: true)))
    assertSameBits(fromASCII.points, points)
    assertSameBits(fromLittle.points, points)
    assertSameBits(fromBig.points, points)
    for geometry in [fromASCII, fromLittle, fromBig] { XCTAssertEqual(geometry.faces, [[0, 1, 2]]) }
  }

  /// A mesh: an element between the vertices and the faces, a quad and a
  /// triangle, and a scalar property after the index list; then bad faces.
  func testPLYMeshFacesAndBadFaces() throws {
    func mesh(_ faces: String, count: Int = 2, indexType: String = "int") -> String {
      """
      ply
      format ascii 1.0
      element vertex 4
      property float x
      property float y
      property float z
      element edge 1
      property int vertex1
      property int vertex2
      element face \(count)
      property list uchar \(indexType) vertex_indices
      property uchar flags
      end_header
      0 0 0
      1 0 0
      1 1 0
      0 1 0
      0 1
      \(faces)
      """
    }
    let good = try PointCloudFiles.read(path: write("mesh.ply", mesh("4 0 1 2 3 7\n3 0 2 3 9\n")))
    XCTAssertEqual(good.faces, [[0, 1, 2, 3], [0, 2, 3]])
    XCTAssertEqual(good.points.count, 12)
    let cases: [(String, String, String)] = [
      ("range.ply", mesh("3 0 1 4 0\n3 0 2 3 0\n"), "face 0 refers to vertex 4, outside 0..<4"),
      ("short.ply", mesh("3 0 1 2 0\n"), "truncated: face 1 of 2 is missing"),
      ("line.ply", mesh("2 0 1 0\n3 0 2 3 0\n"), "face 0 has 2 vertices"),
      ("float.ply", mesh("3 0 1 2 0\n3 0 2 3 0\n", indexType: "float"), "is not a list of integers"),
    ]
    for (name, text, expected) in cases {
      XCTAssertThrowsError(try PointCloudFiles.read(path: write(name, text)), name) { error in
        let message = "\(error)"
        XCTAssertTrue(message.contains(name) && message.contains(expected), message)
      }
    }
    // Binary: a face list longer than the file is refused, not read past the end.
    var binary = Data("ply\nformat binary_little_endian 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n".utf8)
    for value in [Float](repeating: 0.5, count: 9) { withUnsafeBytes(of: value.bitPattern.littleEndian) { binary.append(contentsOf: $0) } }
    binary.append(200)
    XCTAssertThrowsError(try PointCloudFiles.read(path: write("long.ply", binary))) { error in
      XCTAssertTrue("\(error)".contains("runs past the end of the file"), "\(error)")
    }
  }

  func testPLYIntegerCoordinatesAndElementsBeforeVertices() throws {
    let text = """
      ply
      format ascii 1.0
      element camera 2
      property list uchar float intrinsics
      element vertex 2
      property int x
      property short y
      property char z
      end_header
      2 1 2
      0
      1 -2 3
      4 5 -6

      """
    assertSameBits(try PointCloudFiles.read(path: write("i.ply", text)).points, [1, -2, 3, 4, 5, -6])
  }

  func testBadPLYFiles() throws {
    let truncated = write("t.ply", binaryPLY(bigEndian: false, count: 5))
    assertReaderError(try PointCloudFiles.read(path: truncated), file: truncated, contains: "truncated")
    var asciiShort = plyHeader("ascii", count: 3)
    asciiShort += "1 0 2 0 3\n1 0 2 0 3\n"
    let shortText = write("s.ply", asciiShort)
    assertReaderError(try PointCloudFiles.read(path: shortText), file: shortText, contains: "truncated")
    let hostile = write("h.ply", "ply\nformat binary_little_endian 1.0\nelement vertex 900000000000\nproperty float x\nproperty float y\nproperty float z\nend_header\n")
    assertReaderError(try PointCloudFiles.read(path: hostile), file: hostile, contains: "vertices")
    let noMagic = write("n.ply", "plx\nformat ascii 1.0\nend_header\n")
    assertReaderError(try PointCloudFiles.read(path: noMagic), file: noMagic, contains: "PLY")
    let noZ = write("z.ply", "ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\nend_header\n1 2\n")
    assertReaderError(try PointCloudFiles.read(path: noZ), file: noZ, contains: "no z property")
    let nan = write("nan.ply", "ply\nformat ascii 1.0\nelement vertex 2\nproperty float x\nproperty float y\nproperty float z\nend_header\n1 2 3\n1 nan 3\n")
    assertReaderError(try PointCloudFiles.read(path: nan), file: nan, contains: "vertex 1 has a NaN")
  }

  func testXYZText() throws {
    let path = write("p.xyz", "# x y z nx\n1 2 3 0.1\n\n4,5,6\n7\t8\t9 # trailing\n")
    assertSameBits(try PointCloudFiles.read(path: path).points, [1, 2, 3, 4, 5, 6, 7, 8, 9])
    let short = write("short.txt", "1 2 3\n4 5\n")
    assertReaderError(try PointCloudFiles.read(path: short), file: short, contains: "line 2 has 2 columns")
    let word = write("word.xyz", "1 2 three\n")
    assertReaderError(try PointCloudFiles.read(path: word), file: word, contains: "\"three\" is not a number")
    let empty = write("empty.xyz", "# nothing\n")
    assertReaderError(try PointCloudFiles.read(path: empty), file: empty, contains: "no points")
  }

  func testOFF() throws {
    let path = write("m.off", "OFF\n# a square\n4 1 0\n0 0 0\n1 0 0\n1 1 0\n0 1 0\n4 0 1 2 3\n")
    let mesh = try PointCloudFiles.read(path: path)
    assertSameBits(mesh.points, [0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0])
    XCTAssertEqual(mesh.faces, [[0, 1, 2, 3]])
    // ModelNet writes the counts on the keyword's line.
    let joined = try PointCloudFiles.read(path: write("j.off", "OFF3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n"))
    XCTAssertEqual(joined.faces, [[0, 1, 2]])
    let outside = write("o.off", "OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 3\n")
    assertReaderError(try PointCloudFiles.read(path: outside), file: outside, contains: "refers to vertex 3, outside 0..<3")
    let truncated = write("tr.off", "OFF\n3 1 0\n0 0 0\n1 0 0\n")
    assertReaderError(try PointCloudFiles.read(path: truncated), file: truncated, contains: "more than the file")
    let noMagic = write("x.off", "3 1 0\n0 0 0\n")
    assertReaderError(try PointCloudFiles.read(path: noMagic), file: noMagic, contains: "not an OFF file")
  }

  func testNPYKeepsTheFirstThreeColumns() throws {
    let path = scratch.file("p.npy")
    try NPYArray(shape: [2, 4], values: [1, 2, 3, 9, 4, 5, 6, 9]).write(to: path)
    assertSameBits(try PointCloudFiles.read(path: path).points, [1, 2, 3, 4, 5, 6])
    let flat = scratch.file("flat.npy")
    try NPYArray(shape: [6], values: [1, 2, 3, 4, 5, 6]).write(to: flat)
    assertReaderError(try PointCloudFiles.read(path: flat), file: flat, contains: "[N, 3+]")
  }

  func testFormatSniffing() {
    XCTAssertEqual(PointCloudFormat.sniff(Data("ply\nformat".utf8)), .ply)
    XCTAssertEqual(PointCloudFormat.sniff(Data("OFF\n3 1 0".utf8)), .off)
    XCTAssertEqual(PointCloudFormat.sniff(Data([0x93] + Array("NUMPY".utf8))), .npy)
    XCTAssertEqual(PointCloudFormat.sniff(Data("1 2 3\n".utf8)), .xyz)
  }
}
