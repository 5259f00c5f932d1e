import Foundation
import Kernels
import Readers

/// What a CSV column is to the tabular tokenizer.
public enum TabularColumnRole: String, Codable, Sendable {
  /// A number: robust-normalised, then one learned token `x·w_j + b_j`.
  case numeric
  /// A level from a fixed set: one learned embedding per level, plus one for unseen levels.
  case categorical
  /// Not a feature (an identifier, an empty column).
  case ignored
  /// The label to predict: never a feature, and optional when tokenizing.
  case target
}

/// One column of a tabular schema and the statistics fitted to it.
public struct TabularColumn: Codable, Equatable, Sendable {
  public var name: String
  public var role: TabularColumnRole
  /// Numeric columns: the training median, subtracted before scaling.
  public var median: Float
  /// Numeric columns: the training interquartile range (the range, or 1,
  /// when the IQR is 0), by which a centred value is divided.
  public var scale: Float
  /// Categorical columns: the training levels (trimmed, sorted); a level not
  /// in the list gets the column's unknown embedding.
  public var categories: [String]

  public init(name: String, role: TabularColumnRole, median: Float = 0, scale: Float = 1, categories: [String] = []) {
    self.name = name
    self.role = role
    self.median = median
    self.scale = scale
    self.categories = categories
  }

  /// Whether the column becomes a token.
  public var isFeature: Bool {
    switch role {
    case .numeric, .categorical: return true
    case .ignored, .target: return false
    }
  }
}

/// The schema and options of the tabular tokenizer, saved with the model.
public struct TabularConfiguration: Codable, Equatable, Sendable {
  /// Every column seen in training, in file order.
  public var columns: [TabularColumn]
  /// Whether a learned cls token comes first (default true).
  public var clsToken: Bool

  public init(columns: [TabularColumn], clsToken: Bool = true) {
    self.columns = columns
    self.clsToken = clsToken
  }

  /// The columns that become tokens, in token order.
  public var features: [TabularColumn] { columns.filter(\.isFeature) }
}

/// How `TabularTokenizer.inferSchema` decides each column's role.
public struct TabularSchemaRules: Sendable {
  /// The label column; nil looks for a column named `target`, `label`,
  /// `class` or `y` (case-insensitive).
  public var targetColumn: String?
  /// A column of numbers is numeric only with more distinct values than this
  /// (default 5); with fewer it is a code (0/1, grades) and categorical.
  public var categoricalLevelLimit: Int

  public init(targetColumn: String? = nil, categoricalLevelLimit: Int = 5) {
    self.targetColumn = targetColumn
    self.categoricalLevelLimit = categoricalLevelLimit
  }

  static let targetNames: Set<String> = ["target", "label", "class", "y"]
}

/// One cell of a tokenized row.
public enum TabularCell: Equatable, Sendable {
  /// A numeric cell after robust normalisation, `(x − median) / scale`.
  case number(Float)
  /// A categorical cell: the level's index in the column's `categories`, or
  /// `categories.count` for a level not seen in training.
  case category(Int)
  /// An empty, `NA`, `NaN`, `null` or `?` cell.
  case missing
}

/// One CSV row, one cell per feature column (token order).
public struct TabularRow: Equatable, Sendable {
  public var cells: [TabularCell]
  public init(cells: [TabularCell]) { self.cells = cells }
}

/// FT-Transformer's feature tokenizer (Gorishniy et al. 2021, "Revisiting
/// Deep Learning Models for Tabular Data"): every feature column is one token.
///
/// - numeric column j: `x̂·w_j + b_j`, where `x̂ = (x − median_j) / IQR_j`
///   (robust normalisation with training statistics) and `w_j`, `b_j` are
///   learned `[D]` vectors of that column;
/// - categorical column k: row `level` of the column's own embedding table,
///   whose last row is the unknown level;
/// - a missing cell: the column's learned missing token `m_f`.
///
/// Tokens `[B, 1 + F, D]`: the cls token, then the F feature columns in
/// schema order; every row has the same F, so there is no mask.
/// Parameters: `numeric.weight`, `numeric.bias` `[F_num, D]`,
/// `categorical.embeddings` `[Σ_k (levels_k + 1), D]`, `missing` `[F, D]`, `cls` `[D]`.
public final class TabularTokenizer: Tokenizer {
  public typealias Sample = TabularRow
  public typealias Configuration = TabularConfiguration

  public static let modality = Modality.tabular
  public let configuration: TabularConfiguration
  public let dim: Int
  public let parameters: ParameterSet
  /// The feature columns, in token order.
  private let features: [TabularColumn]
  /// For feature f: its row in `numeric.weight` (numeric) or the first row
  /// of its levels in `categorical.embeddings` (categorical).
  private let tableOffsets: [Int]
  private let numericWeight: ParameterView?
  private let numericBias: ParameterView?
  private let categoricalEmbeddings: EmbeddingTable?
  private let missingTokens: EmbeddingTable
  private let cls: ClsToken?
  /// The last forward's rows, which backward needs.
  private var lastRows: [TabularRow] = []

  public init(configuration: TabularConfiguration, dim: Int) throws {
    let features = configuration.features
    guard !features.isEmpty else {
      throw ReaderError(file: "tabular schema", "has no numeric or categorical column to tokenize")
    }
    self.configuration = configuration
    self.dim = dim
    self.features = features
    var offsets: [Int] = []
    var numericCount = 0, levelCount = 0
    for column in features {
      switch column.role {
      case .numeric:
        offsets.append(numericCount)
        numericCount += 1
      case .categorical:
        offsets.append(levelCount)
        levelCount += column.categories.count + 1
      case .ignored, .target:
        preconditionFailure("feature columns are numeric or categorical")
      }
    }
    tableOffsets = offsets
    // FT-Transformer excludes its feature tokenizer from weight decay.
    var specs: [ParameterSpec] = []
    if numericCount > 0 {
      specs += [
        ParameterSpec("numeric.weight", [numericCount, dim], decays: false),
        ParameterSpec("numeric.bias", [numericCount, dim], decays: false),
      ]
    }
    if levelCount > 0 { specs += EmbeddingTable.specs("categorical.embeddings", vocabulary: levelCount, dim: dim) }
    specs += EmbeddingTable.specs("missing", vocabulary: features.count, dim: dim)
    if configuration.clsToken { specs += ClsToken.specs("cls", dim: dim) }
    let parameters = ParameterSet(specs)
    self.parameters = parameters
    numericWeight = numericCount > 0 ? parameters.view("numeric.weight") : nil
    numericBias = numericCount > 0 ? parameters.view("numeric.bias") : nil
    categoricalEmbeddings = levelCount > 0 ? EmbeddingTable(weight: parameters.view("categorical.embeddings")) : nil
    missingTokens = EmbeddingTable(weight: parameters.view("missing"))
    cls = configuration.clsToken ? ClsToken(value: parameters.view("cls")) : nil
  }

  public static func defaultConfiguration(fittingTo paths: [String]) throws -> TabularConfiguration {
    try inferSchema(fittingTo: paths, rules: TabularSchemaRules())
  }

  /// Infers each column's role from the training CSVs (which must share
  /// their columns) and fits its statistics.
  ///
  /// - the target column (see `TabularSchemaRules.targetColumn`) → target;
  /// - a column named `id` or ending in `_id`, or of non-numeric cells that
  ///   are all distinct (more than `categoricalLevelLimit` of them) → ignored;
  /// - a column whose every cell is missing → ignored;
  /// - every present cell a finite number and more than
  ///   `categoricalLevelLimit` distinct values → numeric (median, IQR);
  /// - otherwise → categorical (its sorted distinct levels).
  public static func inferSchema(fittingTo paths: [String], rules: TabularSchemaRules) throws -> TabularConfiguration {
    guard let firstPath = paths.first else {
      throw ReaderError(file: "tabular schema", "needs at least one training CSV to infer from")
    }
    let tables = try paths.map { try CSVTable.read(path: $0) }
    let header = tables[0].header
    for table in tables.dropFirst() {
      for name in header { _ = try table.columnIndex(name) }
    }
    let targetName: String?
    if let requested = rules.targetColumn {
      guard header.contains(requested) else {
        throw ReaderError(file: firstPath, "has no target column \"\(requested)\" (columns: \(header.joined(separator: ", ")))")
      }
      targetName = requested
    } else {
      targetName = header.first { TabularSchemaRules.targetNames.contains($0.lowercased()) }
    }
    var columns: [TabularColumn] = []
    for name in header {
      if name == targetName {
        columns.append(TabularColumn(name: name, role: .target))
        continue
      }
      let lowered = name.lowercased()
      if lowered == "id" || lowered.hasSuffix("_id") {
        columns.append(TabularColumn(name: name, role: .ignored))
        continue
      }
      var cells: [String] = []
      for table in tables {
        let index = try table.columnIndex(name)
        for row in table.rows where !CSVTable.isMissing(row[index]) {
          cells.append(row[index].trimmingCharacters(in: .whitespaces))
        }
      }
      let distinct = Set(cells)
      let numbers = cells.compactMap { Float($0) }
      if cells.isEmpty {
        columns.append(TabularColumn(name: name, role: .ignored))
      } else if numbers.count == cells.count && numbers.allSatisfy(\.isFinite)
        && distinct.count > rules.categoricalLevelLimit
      {
        let (median, scale) = robustStatistics(numbers)
        columns.append(TabularColumn(name: name, role: .numeric, median: median, scale: scale))
      } else if numbers.count < cells.count && distinct.count == cells.count
        && cells.count > rules.categoricalLevelLimit
      {
        columns.append(TabularColumn(name: name, role: .ignored))
      } else {
        columns.append(TabularColumn(name: name, role: .categorical, categories: distinct.sorted()))
      }
    }
    guard columns.contains(where: \.isFeature) else {
      throw ReaderError(file: firstPath, "has no numeric or categorical column to use as a feature")
    }
    return TabularConfiguration(columns: columns)
  }

  /// The median and the scale of robust normalisation: the interquartile
  /// range `q75 − q25` (quantiles by linear interpolation, numpy's default),
  /// else the range when the IQR is 0, else 1 (a constant column).
  public static func robustStatistics(_ values: [Float]) -> (median: Float, scale: Float) {
    let sorted = values.sorted()
    func quantile(_ q: Double) -> Float {
      let position = q * Double(sorted.count - 1)
      let low = Int(position.rounded(.down)), high = min(low + 1, sorted.count - 1)
      let fraction = Float(position - Double(low))
      return sorted[low] + (sorted[high] - sorted[low]) * fraction
    }
    let iqr = quantile(0.75) - quantile(0.25)
    let range = sorted[sorted.count - 1] - sorted[0]
    return (quantile(0.5), iqr > 0 ? iqr : (range > 0 ? range : 1))
  }

  /// FT-Transformer's initialisation of its tokenizer: Uniform(±1/√D) for
  /// the numeric weights and biases, the level embeddings and the missing tokens.
  public func initialise(_ rng: inout SeededRNG) {
    let bound = 1 / Float(dim).squareRoot()
    for entry in parameters.entries where entry.name != "cls" {
      for index in entry.offset..<(entry.offset + entry.count) {
        parameters.values[index] = rng.uniform(-bound, bound)
      }
    }
    cls?.initialise(&rng)
  }

  /// One row per CSV data row (at least one). The file needs every feature
  /// column (the target and ignored columns may be absent); a numeric cell
  /// must be a finite number or a missing marker.
  public func read(path: String) throws -> [TabularRow] {
    let table = try CSVTable.read(path: path)
    let indices = try features.map { try table.columnIndex($0.name) }
    guard !table.rows.isEmpty else { throw ReaderError(file: path, "has a header but no data rows") }
    var rows: [TabularRow] = []
    rows.reserveCapacity(table.rows.count)
    for row in table.rows.indices {
      var cells: [TabularCell] = []
      cells.reserveCapacity(features.count)
      for (column, index) in zip(features, indices) {
        let text = table.rows[row][index]
        if CSVTable.isMissing(text) {
          cells.append(.missing)
          continue
        }
        switch column.role {
        case .numeric:
          let value = try table.number(row: row, column: index)
          cells.append(.number((value - column.median) / column.scale))
        case .categorical:
          let level = text.trimmingCharacters(in: .whitespaces)
          cells.append(.category(column.categories.firstIndex(of: level) ?? column.categories.count))
        case .ignored, .target:
          preconditionFailure("feature columns are numeric or categorical")
        }
      }
      rows.append(TabularRow(cells: cells))
    }
    return rows
  }

  /// `[F, 3]`: per feature column the normalised number (0 otherwise), the
  /// level index (−1 otherwise) and 1 for a missing cell (0 otherwise).
  public func rawFeatures(_ sample: TabularRow) -> Tensor {
    let raw = Tensor(shape: [features.count, 3])
    for (f, cell) in sample.cells.enumerated() {
      switch cell {
      case .number(let value): raw[f * 3] = value; raw[f * 3 + 1] = -1
      case .category(let level): raw[f * 3 + 1] = Float(level)
      case .missing: raw[f * 3 + 1] = -1; raw[f * 3 + 2] = 1
      }
    }
    return raw
  }

  /// Tokens `[B, (1 +) F, D]`; no mask (every row has every column).
  public func forward(_ samples: [TabularRow], training: Bool, rng: inout SeededRNG) -> TokenBatch {
    let offset = cls == nil ? 0 : 1
    let count = offset + features.count
    let tokens = Tensor(shape: [samples.count, count, dim])
    for (b, row) in samples.enumerated() {
      precondition(row.cells.count == features.count, "a tabular row has \(row.cells.count) cells, the schema \(features.count)")
      for (f, cell) in row.cells.enumerated() {
        let token = tokens.data + (b * count + offset + f) * dim
        switch cell {
        case .number(let value):
          let weight = numericWeight!.value + tableOffsets[f] * dim
          let bias = numericBias!.value + tableOffsets[f] * dim
          for c in 0..<dim { token[c] = value * weight[c] + bias[c] }
        case .category(let level):
          categoricalEmbeddings!.forward(output: token, ids: [tableOffsets[f] + level])
        case .missing:
          missingTokens.forward(output: token, ids: [f])
        }
      }
    }
    cls?.forward(tokens: tokens.data, batch: samples.count, count: count)
    lastRows = samples
    return TokenBatch(tokens: tokens, mask: nil)
  }

  /// `dw_j += x̂·dy`, `db_j += dy`, and scatter-adds into the level, missing and cls rows.
  public func backward(_ dTokens: UnsafePointer<Float>) {
    guard parameters.isTrainable else { return }
    let offset = cls == nil ? 0 : 1
    let count = offset + features.count
    for (b, row) in lastRows.enumerated() {
      for (f, cell) in row.cells.enumerated() {
        let dToken = dTokens + (b * count + offset + f) * dim
        switch cell {
        case .number(let value):
          let dWeight = numericWeight!.gradient + tableOffsets[f] * dim
          let dBias = numericBias!.gradient + tableOffsets[f] * dim
          for c in 0..<dim {
            dWeight[c] += value * dToken[c]
            dBias[c] += dToken[c]
          }
        case .category(let level):
          categoricalEmbeddings!.backward(dOutput: dToken, ids: [tableOffsets[f] + level])
        case .missing:
          missingTokens.backward(dOutput: dToken, ids: [f])
        }
      }
    }
    cls?.backward(dTokens: dTokens, batch: lastRows.count, count: count)
  }
}
