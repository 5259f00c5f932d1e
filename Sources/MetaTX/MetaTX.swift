@_exported import Kernels
@_exported import Readers

/// The metatx library version, shown by `metatx --version` and written into model files.
public let metatxVersion = "0.1.0"
