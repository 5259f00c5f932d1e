import Kernels

/// One parameter tensor: where its values and gradient live, and its shape.
///
/// A view into a `ParameterSet`'s flat storage; layers keep views, the set
/// owns the memory.
public struct ParameterView {
  public let name: String
  public let shape: [Int]
  public let value: UnsafeMutablePointer<Float>
  public let gradient: UnsafeMutablePointer<Float>
  public var count: Int { shape.reduce(1, *) }
}

/// What an optimiser needs to know about one parameter tensor.
public struct ParameterEntry: Sendable, Equatable {
  public let name: String
  public let shape: [Int]
  /// Offset of the first element in the set's flat buffers.
  public let offset: Int
  /// Whether AdamW's decoupled weight decay applies (not to norms, biases,
  /// embeddings, cls tokens).
  public let decays: Bool
  public var count: Int { shape.reduce(1, *) }
}

/// The declaration of a parameter before storage exists.
public struct ParameterSpec: Sendable {
  public let name: String
  public let shape: [Int]
  public let decays: Bool
  public init(_ name: String, _ shape: [Int], decays: Bool) {
    self.name = name
    self.shape = shape
    self.decays = decays
  }
}

/// Named parameters and their gradients, each in one flat allocation carved
/// by a size table (llm.c style), so optimisers and checkpoints are one loop.
public final class ParameterSet {
  public let entries: [ParameterEntry]
  /// All parameter values, `[totalCount]`.
  public let values: Tensor
  /// All gradients, `[totalCount]`, laid out like `values`.
  public let gradients: Tensor
  /// False when the set is frozen: backward passes then compute no gradients for it.
  public var isTrainable: Bool = true
  private let indexByName: [String: Int]

  public init(_ specs: [ParameterSpec]) {
    var entries: [ParameterEntry] = []
    var offset = 0
    var indexByName: [String: Int] = [:]
    for spec in specs {
      precondition(indexByName[spec.name] == nil, "duplicate parameter name \(spec.name)")
      indexByName[spec.name] = entries.count
      let entry = ParameterEntry(
        name: spec.name, shape: spec.shape, offset: offset, decays: spec.decays)
      entries.append(entry)
      offset += entry.count
    }
    self.entries = entries
    self.indexByName = indexByName
    values = Tensor(shape: [offset])
    gradients = Tensor(shape: [offset])
  }

  /// The total number of scalar parameters.
  public var count: Int { values.count }

  public func entry(_ name: String) -> ParameterEntry? {
    indexByName[name].map { entries[$0] }
  }

  /// The view of the parameter called `name` (a programming error if absent).
  public func view(_ name: String) -> ParameterView {
    guard let entry = entry(name) else { preconditionFailure("no parameter named \(name)") }
    return ParameterView(
      name: name, shape: entry.shape, value: values.data + entry.offset,
      gradient: gradients.data + entry.offset)
  }

  /// Zeroes every gradient (once per training step).
  public func zeroGradients() {
    gradients.zero()
  }
}
