import Kernels

/// The kinds of task head.
public enum HeadKind: String, CaseIterable, Codable, Sendable {
  /// LayerNorm → Linear, trained by gradient descent.
  case linear
  /// LayerNorm → Linear → GELU → Linear (hidden width = input width).
  case mlp
  /// Linear, fitted in closed form (ridge regression) on frozen embeddings.
  case ridge
}

/// A small head on pooled embeddings: `[B, W]` → `[B, K]` logits or values.
///
/// The encoder stack has no final norm (as in the released checkpoints), so
/// the trained heads start with one, like timm's ViT head (`fc_norm` → `head`).
public final class TaskHead {
  public let kind: HeadKind
  public let inputWidth: Int
  public let outputs: Int
  public let parameters: ParameterSet
  private let norm: LayerNorm?
  private let first: Linear
  private let second: Linear?
  private var cache: Cache?

  /// Parameter layout of a head (`head.norm`, `head.fc1`, `head.fc2` / `head.fc`).
  public static func specs(kind: HeadKind, inputWidth: Int, outputs: Int) -> [ParameterSpec] {
    switch kind {
    case .linear:
      return LayerNorm.specs("head.norm", channels: inputWidth)
        + Linear.specs("head.fc", inputs: inputWidth, outputs: outputs)
    case .mlp:
      return LayerNorm.specs("head.norm", channels: inputWidth)
        + Linear.specs("head.fc1", inputs: inputWidth, outputs: inputWidth)
        + Linear.specs("head.fc2", inputs: inputWidth, outputs: outputs)
    case .ridge:
      return Linear.specs("head.fc", inputs: inputWidth, outputs: outputs)
    }
  }

  public init(kind: HeadKind, inputWidth: Int, outputs: Int) {
    self.kind = kind
    self.inputWidth = inputWidth
    self.outputs = outputs
    let parameters = ParameterSet(Self.specs(kind: kind, inputWidth: inputWidth, outputs: outputs))
    self.parameters = parameters
    func linear(_ name: String) -> Linear {
      Linear(weight: parameters.view("\(name).weight"), bias: parameters.view("\(name).bias"))
    }
    switch kind {
    case .linear, .ridge:
      first = linear("head.fc")
      second = nil
    case .mlp:
      first = linear("head.fc1")
      second = linear("head.fc2")
    }
    norm = kind == .ridge
      ? nil : LayerNorm(weight: parameters.view("head.norm.weight"), bias: parameters.view("head.norm.bias"), eps: 1e-5)
  }

  /// Identity norm, truncated-normal weights (std 0.02), zero biases.
  public func initialise(_ rng: inout SeededRNG) {
    norm?.initialise()
    first.initialise(&rng)
    second?.initialise(&rng)
  }

  /// The linear layer a closed-form fit writes into (`head.fc` of a ridge head).
  public var ridgeLayer: Linear? { kind == .ridge ? first : nil }

  /// - Parameter input: `[B, W]` pooled embeddings (kept for backward).
  /// - Returns: `[B, K]`, valid until the next call.
  public func forward(_ input: UnsafePointer<Float>, batch: Int) -> Tensor {
    let cache = self.cache(batch: batch)
    cache.input.data.update(from: input, count: batch * inputWidth)
    var current = UnsafePointer(cache.input.data)
    if let norm {
      norm.forward(output: cache.normalised.data, mean: cache.mean.data, rstd: cache.rstd.data, input: current, rows: batch)
      current = UnsafePointer(cache.normalised.data)
    }
    if let second {
      first.forward(output: cache.hidden.data, input: current, rows: batch)
      GELU.forward(output: cache.activated.data, input: cache.hidden.data, count: cache.hidden.count)
      second.forward(output: cache.output.data, input: cache.activated.data, rows: batch)
    } else {
      first.forward(output: cache.output.data, input: current, rows: batch)
    }
    return cache.output
  }

  /// Backward of the last `forward`: accumulates parameter gradients (unless
  /// frozen) and returns `[B, W]`, the gradient w.r.t. the pooled input.
  public func backward(_ dOutput: UnsafePointer<Float>) -> Tensor {
    guard let cache else { preconditionFailure("TaskHead.backward before forward") }
    let rows = cache.batch
    let trainable = parameters.isTrainable
    let firstInput = norm == nil ? cache.input : cache.normalised
    let dFirstInput = norm == nil ? cache.dInput : cache.dNormalised
    if let second {
      second.backward(dInput: cache.dActivated.data, accumulate: false, dOutput: dOutput, input: cache.activated.data,
        rows: rows, parameterGradients: trainable)
      cache.dHidden.zero()
      GELU.backward(dInput: cache.dHidden.data, dOutput: cache.dActivated.data, input: cache.hidden.data,
        count: cache.hidden.count)
      first.backward(dInput: dFirstInput.data, accumulate: false, dOutput: cache.dHidden.data, input: firstInput.data,
        rows: rows, parameterGradients: trainable)
    } else {
      first.backward(dInput: dFirstInput.data, accumulate: false, dOutput: dOutput, input: firstInput.data,
        rows: rows, parameterGradients: trainable)
    }
    if let norm {
      cache.dInput.zero()
      norm.backward(dInput: cache.dInput.data, dOutput: cache.dNormalised.data, input: cache.input.data,
        mean: cache.mean.data, rstd: cache.rstd.data, rows: rows, parameterGradients: trainable)
    }
    return cache.dInput
  }

  private func cache(batch: Int) -> Cache {
    if let cache, cache.batch == batch { return cache }
    let created = Cache(batch: batch, width: inputWidth, outputs: outputs)
    cache = created
    return created
  }

  /// Buffers for one batch size: `[B, W]` input, norm output and their
  /// gradients, `[B]` norm statistics, `[B, W]` MLP hidden, `[B, K]` output.
  private final class Cache {
    let batch: Int
    let input, normalised, mean, rstd, hidden, activated, output: Tensor
    let dInput, dNormalised, dHidden, dActivated: Tensor

    init(batch: Int, width: Int, outputs: Int) {
      self.batch = batch
      input = Tensor(shape: [batch, width])
      normalised = Tensor(shape: [batch, width])
      mean = Tensor(shape: [batch])
      rstd = Tensor(shape: [batch])
      hidden = Tensor(shape: [batch, width])
      activated = Tensor(shape: [batch, width])
      output = Tensor(shape: [batch, outputs])
      dInput = Tensor(shape: [batch, width])
      dNormalised = Tensor(shape: [batch, width])
      dHidden = Tensor(shape: [batch, width])
      dActivated = Tensor(shape: [batch, width])
    }
  }
}
