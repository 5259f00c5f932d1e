// swift-tools-version:6.1
import PackageDescription

let package = Package(
  name: "metatx",
  platforms: [.macOS(.v14)],
  products: [
    .executable(name: "metatx", targets: ["metatx"]),
    .library(name: "MetaTX", targets: ["MetaTX"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
  ],
  targets: [
    // MARK: System libraries (Debian -dev packages, installed by `make setup`)
    .systemLibrary(
      name: "CBLAS",
      pkgConfig: "openblas",
      providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]
    ),

    // MARK: Matrix kernels: the only importer of CBLAS
    .target(name: "Kernels", dependencies: ["CBLAS"]),

    // MARK: File formats (no model math)
    .target(name: "Readers", dependencies: ["Kernels"]),

    // MARK: The library: model math, training, tokenizers
    .target(name: "MetaTX", dependencies: ["Kernels", "Readers"]),

    // MARK: The thin command-line front end
    .executableTarget(
      name: "metatx",
      dependencies: ["MetaTX", .product(name: "ArgumentParser", package: "swift-argument-parser")]
    ),

    // MARK: Benchmarks (`make bench`)
    .executableTarget(
      name: "metatx-bench", dependencies: ["MetaTX", "Kernels"], path: "Benchmarks/metatx-bench"),

    // MARK: Tests
    .target(name: "TestSupport", dependencies: ["Kernels", "Readers"], path: "Tests/TestSupport"),
    .testTarget(name: "KernelsTests", dependencies: ["Kernels", "TestSupport"]),
    .testTarget(name: "ReadersTests", dependencies: ["Readers", "TestSupport"]),
    .testTarget(
      name: "MetaTXTests", dependencies: ["MetaTX", "Readers", "TestSupport"],
      exclude: ["Fixtures"]),
    .testTarget(name: "CLITests", dependencies: ["TestSupport", "Kernels", "Readers", "metatx"]),
  ],
  // Swift 5 mode: the kernels share raw buffers across Dispatch workers by design,
  // which Swift 6's strict sendability checking cannot express without noise.
  swiftLanguageModes: [.v5]
)
