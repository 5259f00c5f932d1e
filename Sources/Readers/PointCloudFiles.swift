import Foundation

/// Points, and for meshes the polygons over them, as decoded from a file.
public struct PointCloudGeometry: Equatable, Sendable {
  /// `[N, 3]` x, y, z per vertex, row-major; every value finite.
  public var points: [Float]
  /// Polygons as vertex indices (each `< N`, at least 3 per polygon); empty
  /// for formats that hold only points.
  public var faces: [[Int]]

  public init(points: [Float], faces: [[Int]] = []) {
    precondition(points.count % 3 == 0, "points must be [N, 3], have \(points.count) values")
    self.points = points
    self.faces = faces
  }

  public var pointCount: Int { points.count / 3 }
}

/// The point-cloud and mesh formats metatx reads.
public enum PointCloudFormat: String, CaseIterable, Sendable {
  /// Stanford PLY: ascii, binary_little_endian or binary_big_endian; only the
  /// `x`, `y`, `z` properties of the `vertex` element are used.
  case ply
  /// Object File Format: vertices and polygons (a mesh; its surface is sampled).
  case off
  /// Text, one point per line, 3 or more whitespace- or comma-separated
  /// numbers (extra columns such as normals or colours are ignored).
  case xyz
  /// NumPy `[N, C]` with `C ≥ 3`; the first three columns are x, y, z.
  case npy

  /// The format named by the file's extension, or nil when it names none.
  public static func fromExtension(_ path: String) -> PointCloudFormat? {
    let lowered = path.lowercased()
    if lowered.hasSuffix(".ply") { return .ply }
    if lowered.hasSuffix(".off") { return .off }
    if lowered.hasSuffix(".npy") { return .npy }
    for suffix in [".xyz", ".txt", ".pts", ".csv"] where lowered.hasSuffix(suffix) { return .xyz }
    return nil
  }

  /// The format recognised from the first bytes (for standard input and
  /// unknown extensions): the `ply` and NumPy magics, an `OFF` keyword, else text points.
  public static func sniff(_ data: Data) -> PointCloudFormat {
    let head = [UInt8](data.prefix(8))
    if head.starts(with: [0x93] + Array("NUMPY".utf8)) { return .npy }
    if head.starts(with: Array("ply".utf8)) { return .ply }
    let text = String(decoding: data.prefix(64), as: UTF8.self)
    let firstWord = text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" }).first
    if let firstWord, firstWord.contains("OFF") { return .off }
    return .xyz
  }
}

/// Readers of point clouds and meshes (PLY, OFF, XYZ text, NumPy).
///
/// Every count in a header is checked against the bytes that follow before
/// anything is allocated for it, so a hostile header cannot ask for gigabytes.
public enum PointCloudFiles {
  /// The most vertices a file may declare (a 16 M-point cloud is 192 MB of
  /// Float32, far beyond any scan a tokenizer samples 1024 points from).
  public static let maximumVertices = 16_000_000
  /// The most polygons an OFF file may declare.
  public static let maximumFaces = 32_000_000

  /// Reads `path` (`-`: standard input) in `format`, or in the format its
  /// extension names, or in the format its first bytes show.
  public static func read(path: String, format: PointCloudFormat? = nil) throws -> PointCloudGeometry {
    let data = try AtomicFile.readAll(path)
    let chosen = format ?? PointCloudFormat.fromExtension(path) ?? PointCloudFormat.sniff(data)
    return try read(data: data, format: chosen, name: path)
  }

  /// Parses `data` as `format`; `name` stands for the file in errors.
  public static func read(data: Data, format: PointCloudFormat, name: String) throws -> PointCloudGeometry {
    let geometry: PointCloudGeometry
    switch format {
    case .ply: geometry = try data.withUnsafeBytes { try PLYParser(bytes: $0, file: name).parse() }
    case .off: geometry = try parseOFF(data, file: name)
    case .xyz: geometry = try parseXYZ(data, file: name)
    case .npy: geometry = try parseNPY(data, file: name)
    }
    if let bad = geometry.points.firstIndex(where: { !$0.isFinite }) {
      throw ReaderError(file: name, "vertex \(bad / 3) has a NaN or infinite coordinate")
    }
    if geometry.points.isEmpty { throw ReaderError(file: name, "holds no points") }
    return geometry
  }

  // MARK: XYZ text

  private static func parseXYZ(_ data: Data, file: String) throws -> PointCloudGeometry {
    var points: [Float] = []
    let text = String(decoding: data, as: UTF8.self)
    var lineNumber = 0
    for line in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
      lineNumber += 1
      let content = line.prefix(while: { $0 != "#" })
      let fields = content.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," || $0 == "\r" || $0 == ";" })
      if fields.isEmpty { continue }
      guard fields.count >= 3 else {
        throw ReaderError(file: file, "line \(lineNumber) has \(fields.count) columns, expected x y z (3 or more)")
      }
      for field in fields.prefix(3) {
        guard let value = Float(field) else {
          throw ReaderError(file: file, "line \(lineNumber): \"\(field)\" is not a number")
        }
        points.append(value)
      }
    }
    return PointCloudGeometry(points: points)
  }

  // MARK: NumPy

  private static func parseNPY(_ data: Data, file: String) throws -> PointCloudGeometry {
    let array = try NPYArray.read(data: data, name: file)
    guard array.shape.count == 2, array.shape[1] >= 3 else {
      throw ReaderError(file: file, "points must be [N, 3+], the array is \(array.shape)")
    }
    let columns = array.shape[1]
    var points: [Float] = []
    points.reserveCapacity(array.shape[0] * 3)
    for row in 0..<array.shape[0] { points += array.values[(row * columns)..<(row * columns + 3)] }
    return PointCloudGeometry(points: points)
  }

  // MARK: OFF

  /// `OFF` (also `COFF`, `NOFF`… whose extra per-vertex columns are ignored),
  /// `nV nF nE`, `nV` vertex lines, `nF` lines `k i₁ … i_k [colour]`; `#` comments.
  private static func parseOFF(_ data: Data, file: String) throws -> PointCloudGeometry {
    let text = String(decoding: data, as: UTF8.self)
    var lines = text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }).lazy
      .map { $0.prefix(while: { $0 != "#" }).split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }) }
      .filter { !$0.isEmpty }.makeIterator()
    guard var header = lines.next(), let keyword = header.first, let magic = keyword.range(of: "OFF") else {
      throw ReaderError(file: file, "not an OFF file (it does not start with OFF)")
    }
    header.removeFirst()
    // Princeton's ModelNet files write the counts on the keyword's line ("OFF490 518 0").
    if magic.upperBound != keyword.endIndex { header.insert(keyword[magic.upperBound...], at: 0) }
    if header.isEmpty, let next = lines.next() { header = next }
    guard header.count >= 2, let vertexCount = Int(header[0]), let faceCount = Int(header[1]),
      vertexCount >= 0, faceCount >= 0
    else {
      throw ReaderError(file: file, "the OFF header lacks the vertex and face counts")
    }
    guard vertexCount <= maximumVertices, faceCount <= maximumFaces, vertexCount * 6 + faceCount * 8 <= data.count
    else {
      throw ReaderError(file: file, "the header declares \(vertexCount) vertices and \(faceCount) faces, more than the file's \(data.count) bytes can hold")
    }
    var points: [Float] = []
    points.reserveCapacity(vertexCount * 3)
    for vertex in 0..<vertexCount {
      guard let fields = lines.next() else {
        throw ReaderError(file: file, "truncated: vertex \(vertex) of \(vertexCount) is missing")
      }
      guard fields.count >= 3 else { throw ReaderError(file: file, "vertex \(vertex) has fewer than 3 coordinates") }
      for field in fields.prefix(3) {
        guard let value = Float(field) else {
          throw ReaderError(file: file, "vertex \(vertex): \"\(field)\" is not a number")
        }
        points.append(value)
      }
    }
    var faces: [[Int]] = []
    faces.reserveCapacity(faceCount)
    for face in 0..<faceCount {
      guard let fields = lines.next() else {
        throw ReaderError(file: file, "truncated: face \(face) of \(faceCount) is missing")
      }
      guard let corners = Int(fields[0]), corners >= 3, fields.count > corners else {
        throw ReaderError(file: file, "face \(face) is not \"k i1 … ik\" with k ≥ 3 indices")
      }
      var polygon: [Int] = []
      for field in fields[1...corners] {
        guard let index = Int(field) else { throw ReaderError(file: file, "face \(face): \"\(field)\" is not an index") }
        guard (0..<vertexCount).contains(index) else {
          throw ReaderError(file: file, "face \(face) refers to vertex \(index), outside 0..<\(vertexCount)")
        }
        polygon.append(index)
      }
      faces.append(polygon)
    }
    return PointCloudGeometry(points: points, faces: faces)
  }
}

// MARK: PLY

/// A PLY scalar type (`char`/`int8` … `double`/`float64`).
private enum PLYScalar {
  case int8, uint8, int16, uint16, int32, uint32, float32, float64

  init?(_ name: Substring) {
    switch name {
    case "char", "int8": self = .int8
    case "uchar", "uint8": self = .uint8
    case "short", "int16": self = .int16
    case "ushort", "uint16": self = .uint16
    case "int", "int32": self = .int32
    case "uint", "uint32": self = .uint32
    case "float", "float32": self = .float32
    case "double", "float64": self = .float64
    default: return nil
    }
  }

  var size: Int {
    switch self {
    case .int8, .uint8: 1
    case .int16, .uint16: 2
    case .int32, .uint32, .float32: 4
    case .float64: 8
    }
  }
}

private enum PLYEncoding {
  case ascii, binaryLittleEndian, binaryBigEndian
}

/// One `property` line: a scalar, or a list with a count type and an item type.
private struct PLYProperty {
  var name: Substring
  var scalar: PLYScalar
  var listCount: PLYScalar?
}

private struct PLYElement {
  var name: Substring
  var count: Int
  var properties: [PLYProperty]
}

/// What to read from a PLY body: the elements, the vertex element and its
/// x/y/z property positions, and the face element and its index list, if any.
private struct PLYLayout {
  var elements: [PLYElement]
  var vertexIndex: Int
  var columns: [Int]
  var faces: (element: Int, property: Int)?

  var vertexCount: Int { elements[vertexIndex].count }
}

/// Reads the header, skips the elements before `vertex`, decodes x, y, z of
/// each vertex and, when a `face` element with a `vertex_indices` (or
/// `vertex_index`) list follows, the polygons of the mesh (whose surface the
/// point-cloud tokenizer samples, as for OFF); later elements are not read.
private struct PLYParser {
  let bytes: UnsafeRawBufferPointer
  let file: String

  func fail(_ problem: String) -> ReaderError { ReaderError(file: file, problem) }

  func parse() throws -> PointCloudGeometry {
    guard let headerEnd = findHeaderEnd() else {
      throw fail("not a PLY file, or its header has no end_header line")
    }
    let header = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[0..<headerEnd]), as: UTF8.self)
    var lines = header.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
      .map { $0.split(separator: " ", omittingEmptySubsequences: true) }
    guard lines.first == ["ply"] else { throw fail("not a PLY file (no 'ply' magic)") }
    lines.removeFirst()
    var encoding: PLYEncoding?
    var elements: [PLYElement] = []
    for words in lines where !words.isEmpty {
      switch words[0] {
      case "format":
        guard words.count >= 2 else { throw fail("the format line names no encoding") }
        switch words[1] {
        case "ascii": encoding = .ascii
        case "binary_little_endian": encoding = .binaryLittleEndian
        case "binary_big_endian": encoding = .binaryBigEndian
        default: throw fail("unknown PLY encoding \(words[1])")
        }
      case "element":
        guard words.count == 3, let count = Int(words[2]), count >= 0 else {
          throw fail("malformed element line \"\(words.joined(separator: " "))\"")
        }
        elements.append(PLYElement(name: words[1], count: count, properties: []))
      case "property":
        guard !elements.isEmpty else { throw fail("a property precedes every element") }
        if words.count == 5, words[1] == "list", let countType = PLYScalar(words[2]), let itemType = PLYScalar(words[3]) {
          elements[elements.count - 1].properties.append(PLYProperty(name: words[4], scalar: itemType, listCount: countType))
        } else if words.count == 3, let scalar = PLYScalar(words[1]) {
          elements[elements.count - 1].properties.append(PLYProperty(name: words[2], scalar: scalar, listCount: nil))
        } else {
          throw fail("malformed property line \"\(words.joined(separator: " "))\"")
        }
      case "comment", "obj_info", "end_header": continue
      default: throw fail("unexpected header line \"\(words.joined(separator: " "))\"")
      }
    }
    guard let encoding else { throw fail("the header has no format line") }
    guard let vertexIndex = elements.firstIndex(where: { $0.name == "vertex" }) else {
      throw fail("the header declares no vertex element")
    }
    let vertex = elements[vertexIndex]
    guard vertex.count <= PointCloudFiles.maximumVertices else {
      throw fail("the header declares \(vertex.count) vertices, more than the \(PointCloudFiles.maximumVertices) allowed")
    }
    let columns = try ["x", "y", "z"].map { axis in
      guard let column = vertex.properties.firstIndex(where: { $0.name == axis }) else {
        throw fail("the vertex element has no \(axis) property")
      }
      guard vertex.properties[column].listCount == nil else { throw fail("vertex property \(axis) is a list") }
      return column
    }
    let body = UnsafeRawBufferPointer(rebasing: bytes[headerEnd...])
    // Every element takes at least a byte, which bounds the loops over honest counts.
    for element in elements[...vertexIndex] where element.count > body.count {
      throw fail("truncated: the header declares \(element.count) \(element.name) elements, the body has \(body.count) bytes")
    }
    let faces = try faceLayout(elements, after: vertexIndex)
    if let faces, elements[faces.element].count > PointCloudFiles.maximumFaces {
      throw fail("the header declares \(elements[faces.element].count) faces, more than the \(PointCloudFiles.maximumFaces) allowed")
    }
    let layout = PLYLayout(elements: elements, vertexIndex: vertexIndex, columns: columns, faces: faces)
    switch encoding {
    case .ascii:
      return try readASCII(body, layout)
    case .binaryLittleEndian, .binaryBigEndian:
      return try readBinary(body, bigEndian: encoding == .binaryBigEndian, layout)
    }
  }

  /// The `face` element after the vertices and its index-list property, if the file has one.
  func faceLayout(_ elements: [PLYElement], after vertexIndex: Int) throws -> (element: Int, property: Int)? {
    guard let element = elements.indices.first(where: { $0 > vertexIndex && elements[$0].name == "face" }) else {
      return nil
    }
    guard let property = elements[element].properties.firstIndex(where: {
      $0.name == "vertex_indices" || $0.name == "vertex_index"
    }) else { return nil }
    guard elements[element].properties[property].listCount != nil,
      elements[element].properties[property].scalar != .float32, elements[element].properties[property].scalar != .float64
    else { throw fail("face property \(elements[element].properties[property].name) is not a list of integers") }
    return (element, property)
  }

  /// A face's indices, checked: at least three, each a vertex.
  func polygon(_ indices: [Double], face: Int, vertices: Int) throws -> [Int] {
    guard indices.count >= 3 else { throw fail("face \(face) has \(indices.count) vertices; a polygon needs 3 or more") }
    return try indices.map { index in
      guard index >= 0, index < Double(vertices), index == index.rounded() else {
        let shown = index == index.rounded() && abs(index) < 1e15 ? String(Int(index)) : String(index)
        throw fail("face \(face) refers to vertex \(shown), outside 0..<\(vertices)")
      }
      return Int(index)
    }
  }

  /// The offset just past the `end_header` line, or nil.
  func findHeaderEnd() -> Int? {
    let marker = Array("end_header".utf8)
    let limit = min(bytes.count, 1 << 20)
    guard limit >= marker.count else { return nil }
    var position = 0
    while position + marker.count <= limit {
      let atLineStart = position == 0 || bytes[position - 1] == 0x0A || bytes[position - 1] == 0x0D
      if atLineStart, marker.indices.allSatisfy({ bytes[position + $0] == marker[$0] }) {
        var end = position + marker.count
        while end < bytes.count, bytes[end] == 0x20 || bytes[end] == 0x0D { end += 1 }
        guard end < bytes.count, bytes[end] == 0x0A else { return end }
        return end + 1
      }
      position += 1
    }
    return nil
  }

  func readASCII(_ body: UnsafeRawBufferPointer, _ layout: PLYLayout) throws -> PointCloudGeometry {
    let (elements, vertexIndex, columns) = (layout.elements, layout.vertexIndex, layout.columns)
    var tokens = ASCIITokens(bytes: body)
    // Each value takes at least two bytes ("0 "), which bounds the honest count.
    let vertex = elements[vertexIndex]
    guard vertex.count * max(vertex.properties.count, 1) <= body.count / 2 + 1 else {
      throw fail("truncated: the header declares \(vertex.count) vertices, the body holds fewer")
    }
    /// How many values `property` holds in this row: 1, or a list's count read first.
    func itemCount(_ property: PLYProperty, malformed: @autoclosure () -> String) throws -> Int {
      guard property.listCount != nil else { return 1 }
      guard let token = tokens.next(), let count = Int(token), count >= 0 else { throw fail(malformed()) }
      return count
    }
    func skip(_ element: PLYElement) throws {
      for row in 0..<element.count {
        for property in element.properties {
          let items = try itemCount(property, malformed: "truncated or malformed \(element.name) \(row)")
          for _ in 0..<items where tokens.next() == nil { throw fail("truncated in \(element.name) \(row)") }
        }
      }
    }
    for element in elements[..<vertexIndex] { try skip(element) }
    var points = [Float](repeating: 0, count: vertex.count * 3)
    for row in 0..<vertex.count {
      for (column, property) in vertex.properties.enumerated() {
        let items = try itemCount(property, malformed: "truncated or malformed vertex \(row)")
        for _ in 0..<items {
          guard let token = tokens.next() else {
            throw fail("truncated: the header declares \(vertex.count) vertices, the body ends in vertex \(row)")
          }
          if let axis = columns.firstIndex(of: column) {
            guard let value = Float(token) else { throw fail("vertex \(row): \"\(token)\" is not a number") }
            points[row * 3 + axis] = value
          }
        }
      }
    }
    guard let (faceIndex, faceProperty) = layout.faces else { return PointCloudGeometry(points: points) }
    for element in elements[(vertexIndex + 1)..<faceIndex] { try skip(element) }
    let faceElement = elements[faceIndex]
    var faces: [[Int]] = []
    for row in 0..<faceElement.count {
      for (index, property) in faceElement.properties.enumerated() {
        let items = try itemCount(property, malformed: "truncated: face \(row) of \(faceElement.count) is missing or malformed")
        var values: [Double] = []
        for _ in 0..<items {
          guard let token = tokens.next() else { throw fail("truncated: face \(row) of \(faceElement.count) is missing") }
          if index == faceProperty {
            guard let value = Double(token) else { throw fail("face \(row): \"\(token)\" is not an index") }
            values.append(value)
          }
        }
        if index == faceProperty { faces.append(try polygon(values, face: row, vertices: vertex.count)) }
      }
    }
    return PointCloudGeometry(points: points, faces: faces)
  }

  func readBinary(_ body: UnsafeRawBufferPointer, bigEndian: Bool, _ layout: PLYLayout) throws -> PointCloudGeometry {
    let (elements, vertexIndex, columns) = (layout.elements, layout.vertexIndex, layout.columns)
    var position = 0
    func scalar(_ type: PLYScalar) throws -> Double {
      guard position + type.size <= body.count else { throw fail("truncated: the body ends inside an element") }
      defer { position += type.size }
      func load<T: FixedWidthInteger>(_: T.Type) -> T {
        let raw = body.loadUnaligned(fromByteOffset: position, as: T.self)
        return bigEndian ? T(bigEndian: raw) : T(littleEndian: raw)
      }
      switch type {
      case .int8: return Double(load(Int8.self))
      case .uint8: return Double(load(UInt8.self))
      case .int16: return Double(load(Int16.self))
      case .uint16: return Double(load(UInt16.self))
      case .int32: return Double(load(Int32.self))
      case .uint32: return Double(load(UInt32.self))
      case .float32: return Double(Float(bitPattern: load(UInt32.self)))
      case .float64: return Double(bitPattern: load(UInt64.self))
      }
    }
    func skip(_ element: PLYElement) throws {
      let fixed = element.properties.allSatisfy { $0.listCount == nil }
      if fixed {
        let size = element.properties.reduce(0) { $0 + $1.scalar.size }
        guard element.count <= (body.count - position) / max(size, 1) else {
          throw fail("truncated: the body is shorter than its \(element.count) \(element.name) elements")
        }
        position += element.count * size
        return
      }
      for _ in 0..<element.count {
        for property in element.properties {
          if let countType = property.listCount {
            let items = try scalar(countType)
            guard items >= 0, items <= Double(body.count) else { throw fail("a \(element.name) list has a bad length") }
            position += Int(items) * property.scalar.size
          } else {
            position += property.scalar.size
          }
          guard position <= body.count else { throw fail("truncated: the body ends inside \(element.name)") }
        }
      }
    }
    for element in elements[..<vertexIndex] { try skip(element) }
    let vertex = elements[vertexIndex]
    let minimumSize = vertex.properties.reduce(0) { $0 + ($1.listCount?.size ?? $1.scalar.size) }
    guard vertex.count <= (body.count - position) / max(minimumSize, 1) else {
      throw fail("truncated: the header declares \(vertex.count) vertices, the body holds fewer")
    }
    var points = [Float](repeating: 0, count: vertex.count * 3)
    for row in 0..<vertex.count {
      for (column, property) in vertex.properties.enumerated() {
        if let countType = property.listCount {
          let items = try scalar(countType)
          guard items >= 0, Double(position) + items * Double(property.scalar.size) <= Double(body.count) else {
            throw fail("truncated: a list in vertex \(row) runs past the end of the file")
          }
          position += Int(items) * property.scalar.size
        } else {
          let value = try scalar(property.scalar)
          if let axis = columns.firstIndex(of: column) { points[row * 3 + axis] = Float(value) }
        }
      }
    }
    guard let (faceIndex, faceProperty) = layout.faces else { return PointCloudGeometry(points: points) }
    for element in elements[(vertexIndex + 1)..<faceIndex] { try skip(element) }
    let faceElement = elements[faceIndex]
    // A face takes at least its list's count byte, which bounds the honest count.
    guard faceElement.count <= body.count - position else {
      throw fail("truncated: the header declares \(faceElement.count) faces, the body holds fewer")
    }
    var faces: [[Int]] = []
    faces.reserveCapacity(faceElement.count)
    for row in 0..<faceElement.count {
      for (index, property) in faceElement.properties.enumerated() {
        guard let countType = property.listCount else {
          position += property.scalar.size
          guard position <= body.count else { throw fail("truncated: face \(row) of \(faceElement.count) is missing") }
          continue
        }
        let items = try scalar(countType)
        guard items >= 0, Double(position) + items * Double(property.scalar.size) <= Double(body.count) else {
          throw fail("truncated: face \(row) of \(faceElement.count) runs past the end of the file")
        }
        if index == faceProperty {
          let indices = try (0..<Int(items)).map { _ in try scalar(property.scalar) }
          faces.append(try polygon(indices, face: row, vertices: layout.vertexCount))
        } else {
          position += Int(items) * property.scalar.size
        }
      }
    }
    return PointCloudGeometry(points: points, faces: faces)
  }
}

/// Whitespace-separated words of an ASCII body, read without copying the body.
private struct ASCIITokens {
  let bytes: UnsafeRawBufferPointer
  var position = 0

  init(bytes: UnsafeRawBufferPointer) {
    self.bytes = bytes
  }

  mutating func next() -> String? {
    while position < bytes.count, isSpace(bytes[position]) { position += 1 }
    guard position < bytes.count else { return nil }
    let start = position
    while position < bytes.count, !isSpace(bytes[position]) { position += 1 }
    return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
  }

  private func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 }
}
