import Kernels
import Readers

extension Modality {
  /// The tokenizer type of this modality; nil for `tokens`, which are already tokens.
  public var tokenizerType: (any Tokenizer.Type)? {
    switch self {
    case .tokens: return nil
    case .pointCloud: return PointCloudTokenizer.self
    case .graph: return GraphTokenizer.self
    case .audio: return AudioTokenizer.self
    case .tabular: return TabularTokenizer.self
    case .imu: return IMUTokenizer.self
    case .timeSeries: return TimeSeriesTokenizer.self
    case .hyperspectral: return HyperspectralTokenizer.self
    case .image: return ImageTokenizer.self
    case .infrared: return InfraredTokenizer.self
    case .xray: return XRayTokenizer.self
    case .video: return VideoTokenizer.self
    case .text: return TextTokenizer.self
    }
  }

  /// A freshly initialised tokenizer with the default configuration fitted to `paths`.
  public func freshTokenizer(
    fittingTo paths: [String], dim: Int, settings: TokenizerSettings? = nil, rng: inout SeededRNG
  ) throws -> AnyTokenizer? {
    guard let type = tokenizerType else { return nil }
    return try AnyTokenizer.fresh(type, fittingTo: paths, dim: dim, settings: settings, rng: &rng)
  }

  /// The tokenizer of this modality stored in a model file.
  public func loadTokenizer(from file: SafeTensorsFile) throws -> AnyTokenizer? {
    guard let type = tokenizerType else { return nil }
    return try AnyTokenizer.load(type, from: file)
  }
}

extension Model {
  /// Reads a model file with every tokenizer metatx knows.
  public static func load(path: String) throws -> Model {
    try load(from: SafeTensorsFile(path: path)) { modality, file in try modality.loadTokenizer(from: file) }
  }
}
