import Foundation

/// One edge of a decoded graph, between node positions (not file ids).
public struct GraphEdge: Equatable, Sendable {
  /// Index into `GraphData.nodeIDs`.
  public var source: Int
  /// Index into `GraphData.nodeIDs`.
  public var target: Int
  public var label: String?

  public init(source: Int, target: Int, label: String? = nil) {
    self.source = source
    self.target = target
    self.label = label
  }
}

/// A graph as decoded from a file: nodes in file order, edges as listed
/// (direction kept, duplicates and self-loops kept).
public struct GraphData: Equatable, Sendable {
  /// Each node's id as written (integers in decimal).
  public var nodeIDs: [String]
  /// Each node's label, nil where it has none.
  public var nodeLabels: [String?]
  /// `[nodes, featureWidth]` row-major node features; empty when the file has none.
  public var nodeFeatures: [Float]
  /// 0 when the nodes carry no features.
  public var featureWidth: Int
  public var edges: [GraphEdge]

  public init(nodeIDs: [String], nodeLabels: [String?], nodeFeatures: [Float], featureWidth: Int, edges: [GraphEdge]) {
    precondition(nodeLabels.count == nodeIDs.count, "one label slot per node")
    precondition(nodeFeatures.count == nodeIDs.count * featureWidth, "features must be [nodes, featureWidth]")
    self.nodeIDs = nodeIDs
    self.nodeLabels = nodeLabels
    self.nodeFeatures = nodeFeatures
    self.featureWidth = featureWidth
    self.edges = edges
  }

  public var nodeCount: Int { nodeIDs.count }
}

/// The graph formats metatx reads.
public enum GraphFormat: String, CaseIterable, Sendable {
  /// `{"nodes": [{"id": …, "label": …, "features": […]}, …],
  ///   "edges": [{"source": …, "target": …, "label": …}, …]}`;
  /// ids are strings or integers, labels strings or integers, features optional.
  case json
  /// One edge per line, `source target [label]` separated by whitespace or
  /// commas; `#` starts a comment; the nodes are the endpoints in order of
  /// first appearance, unlabelled and featureless.
  case edgeList

  /// JSON when the first non-blank byte is `{`, else an edge list.
  public static func sniff(_ data: Data) -> GraphFormat {
    let first = data.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 })
    return first == UInt8(ascii: "{") ? .json : .edgeList
  }
}

/// Readers of graphs (JSON node/edge lists and plain edge lists).
public enum GraphFiles {
  /// Reads `path` (`-`: standard input), in the format its content shows.
  public static func read(path: String) throws -> GraphData {
    let data = try AtomicFile.readAll(path)
    return try read(data: data, format: GraphFormat.sniff(data), name: path)
  }

  /// Parses `data` as `format`; `name` stands for the file in errors.
  public static func read(data: Data, format: GraphFormat, name: String) throws -> GraphData {
    let graph: GraphData
    switch format {
    case .json: graph = try parseJSON(data, file: name)
    case .edgeList: graph = try parseEdgeList(data, file: name)
    }
    guard graph.nodeCount > 0 else { throw ReaderError(file: name, "the graph has no nodes") }
    return graph
  }

  // MARK: Edge list

  private static func parseEdgeList(_ data: Data, file: String) throws -> GraphData {
    var nodeIDs: [String] = []
    var indexByID: [String: Int] = [:]
    var edges: [GraphEdge] = []
    func node(_ id: Substring) -> Int {
      if let index = indexByID[String(id)] { return index }
      indexByID[String(id)] = nodeIDs.count
      nodeIDs.append(String(id))
      return nodeIDs.count - 1
    }
    var lineNumber = 0
    for line in String(decoding: data, as: UTF8.self).split(
      omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
    {
      lineNumber += 1
      let fields = line.prefix(while: { $0 != "#" })
        .split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," || $0 == "\r" })
      if fields.isEmpty { continue }
      guard fields.count == 2 || fields.count == 3 else {
        throw ReaderError(file: file, "line \(lineNumber) has \(fields.count) fields, expected \"source target [label]\"")
      }
      edges.append(GraphEdge(source: node(fields[0]), target: node(fields[1]), label: fields.count == 3 ? String(fields[2]) : nil))
    }
    return GraphData(
      nodeIDs: nodeIDs, nodeLabels: Array(repeating: nil, count: nodeIDs.count), nodeFeatures: [], featureWidth: 0,
      edges: edges)
  }

  // MARK: JSON

  private static func parseJSON(_ data: Data, file: String) throws -> GraphData {
    let root: JSONValue
    do {
      root = try data.withUnsafeBytes { try JSONValue.parse($0) }
    } catch let error as JSONSyntaxError {
      throw ReaderError(file: file, "invalid JSON: \(error.reason)")
    }
    guard case .object(let members) = root else { throw ReaderError(file: file, "the graph JSON is not an object") }
    guard case .array(let nodes)? = members["nodes"] else {
      throw ReaderError(file: file, "the graph JSON has no \"nodes\" array")
    }
    let edgeValues: [JSONValue]
    switch members["edges"] {
    case .array(let values)?: edgeValues = values
    case nil, .null?: edgeValues = []
    case let other?: throw ReaderError(file: file, "\"edges\" is \(other.typeName), expected an array")
    }
    var nodeIDs: [String] = []
    var labels: [String?] = []
    var features: [Float] = []
    var featureWidth: Int?
    var indexByID: [String: Int] = [:]
    for (position, value) in nodes.enumerated() {
      guard case .object(let node) = value else { throw ReaderError(file: file, "node \(position) is not an object") }
      guard let idValue = node["id"], let id = identifier(idValue) else {
        throw ReaderError(file: file, "node \(position) has no string or integer \"id\"")
      }
      guard indexByID.updateValue(nodeIDs.count, forKey: id) == nil else {
        throw ReaderError(file: file, "node id \(JSONValue.quoted(id)) appears twice")
      }
      nodeIDs.append(id)
      switch node["label"] {
      case nil, .null?: labels.append(nil)
      case let label?:
        guard let text = identifier(label) else {
          throw ReaderError(file: file, "node \(JSONValue.quoted(id)) has a label that is \(label.typeName), not a string or integer")
        }
        labels.append(text)
      }
      var row: [Float] = []
      switch node["features"] {
      case nil, .null?: break
      case .array(let values)?:
        for value in values {
          let number: Double
          switch value {
          case .integer(let integer): number = Double(integer)
          case .number(let double): number = double
          default: throw ReaderError(file: file, "node \(JSONValue.quoted(id)) has a feature that is \(value.typeName)")
          }
          guard Float(number).isFinite else {
            throw ReaderError(file: file, "node \(JSONValue.quoted(id)) has a feature outside Float's range")
          }
          row.append(Float(number))
        }
      case let other?:
        throw ReaderError(file: file, "node \(JSONValue.quoted(id)) has \"features\" that is \(other.typeName)")
      }
      let width = featureWidth ?? row.count
      guard row.count == width else {
        throw ReaderError(file: file, "node \(JSONValue.quoted(id)) has \(row.count) features, earlier nodes \(width)")
      }
      featureWidth = width
      features += row
    }
    var edges: [GraphEdge] = []
    for (position, value) in edgeValues.enumerated() {
      guard case .object(let edge) = value else { throw ReaderError(file: file, "edge \(position) is not an object") }
      var ends: [Int] = []
      for key in ["source", "target"] {
        guard let endValue = edge[key], let id = identifier(endValue) else {
          throw ReaderError(file: file, "edge \(position) has no string or integer \"\(key)\"")
        }
        guard let index = indexByID[id] else {
          throw ReaderError(file: file, "edge \(position) refers to node \(JSONValue.quoted(id)), which is not in \"nodes\"")
        }
        ends.append(index)
      }
      var label: String?
      if let value = edge["label"], value != .null {
        guard let text = identifier(value) else {
          throw ReaderError(file: file, "edge \(position) has a label that is \(value.typeName), not a string or integer")
        }
        label = text
      }
      edges.append(GraphEdge(source: ends[0], target: ends[1], label: label))
    }
    return GraphData(
      nodeIDs: nodeIDs, nodeLabels: labels, nodeFeatures: features, featureWidth: featureWidth ?? 0, edges: edges)
  }

  /// A string, or an integer written in decimal; nil for other JSON types.
  private static func identifier(_ value: JSONValue) -> String? {
    switch value {
    case .string(let text): text
    case .integer(let integer): String(integer)
    default: nil
    }
  }
}
