// swift-tools-version:6.1
import PackageDescription

let package = Package(
  name: "metatx",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "metatx", targets: ["metatx"]),
    .library(name: "MetaTX", targets: ["MetaTX"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.2"),
  ],
  targets: [
    // MARK: System libraries (Debian -dev packages, installed by `make setup`)
    .systemLibrary(
      name: "CBLAS",
      pkgConfig: "openblas",
      providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]
    ),
    .systemLibrary(name: "CFFTW", pkgConfig: "fftw3f", providers: [.apt(["libfftw3-dev"])]),
    .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
    .systemLibrary(name: "CJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg62-turbo-dev"])]),
    .systemLibrary(name: "CSndFile", pkgConfig: "sndfile", providers: [.apt(["libsndfile1-dev"])]),
    .systemLibrary(name: "CSampleRate", pkgConfig: "samplerate", providers: [.apt(["libsamplerate0-dev"])]),
    .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

    // MARK: Matrix kernels: the only importer of CBLAS (and of FFTW, for spectra)
    .target(name: "Kernels", dependencies: ["CBLAS", "CFFTW"]),

    // MARK: File formats (no model math)
    .target(
      name: "Readers",
      dependencies: [
        "Kernels", "CPNG", "CJPEG", "CSndFile", "CSampleRate", "CZlib",
        .product(name: "CSV", package: "CSV.swift"),
      ]),

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
    .testTarget(
      name: "CLITests", dependencies: ["TestSupport", "Kernels", "Readers", "metatx"],
      exclude: ["Fixtures"]),
  ],
  // Swift 5 mode: the kernels share raw buffers across Dispatch workers by design,
  // which Swift 6's strict sendability checking cannot express without noise.
  swiftLanguageModes: [.v5]
)
