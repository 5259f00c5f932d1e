import ArgumentParser
import Foundation
import MetaTX

extension Pooling: ExpressibleByArgument {}
extension Modality: ExpressibleByArgument {}
extension EmbeddingFormat: ExpressibleByArgument {}

extension Metatx {
  struct Embed: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "One embedding per input: tokenizer → shared encoder → pooling.",
      discussion: """
        Inputs are files (a file may hold several samples: text lines, table rows), - for \
        standard input, or --data MANIFEST (several input columns are concatenated before the \
        encoder). Output: JSON lines {"id", "embedding"} on standard output by default, or \
        --format npy|csv|tsv; npy writes a sidecar .json with the ids and settings. Streaming \
        formats use constant memory on inputs of any length.

        --modality tokens takes a float32 .npy of token embeddings ([N, D] or [B, N, D]) and \
        writes a .npy: the contextual tokens with --pool none, else one embedding per sequence.
        """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var tokenizerOptions: TokenizerOptions
    @OptionGroup var data: DataOptions

    @Option(help: "The inputs' modality (default: detected from the first file name).")
    var modality: Modality?

    @OptionGroup var encoderOptions: EncoderOptions

    @Option(help: "Pooling: \(Pooling.allCases.map(\.rawValue).joined(separator: ", ")).")
    var pool: Pooling = .mean

    @Flag(help: "L2-normalise each embedding.")
    var normalize = false

    @Option(help: "Output format: jsonl, npy, csv, tsv (default: from the -o extension, else jsonl; npy for --modality tokens).")
    var format: EmbeddingFormat?

    /// The format asked for, else the one the output file's extension names.
    private var chosenFormat: EmbeddingFormat? {
      format ?? EmbeddingFormat.allCases.first { output.lowercased().hasSuffix(".\($0.rawValue)") }
    }

    @Option(name: .long, help: "Samples per encoder pass (bounds memory).")
    var batchSize: Int = 32

    @Option(name: .customLong("data"), help: "A manifest of inputs (paths or inline text; targets not needed).")
    var dataPath: String?

    @Option(name: [.short, .long], help: "Output file, or - for standard output.")
    var output: String = "-"

    @Argument(help: "Input files, or - for standard input.")
    var files: [String] = []

    func validate() throws {
      if batchSize < 1 { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
      if files.isEmpty == (dataPath == nil) { throw ValidationError("give input files or --data MANIFEST (one of them)") }
      let writesNPY = chosenFormat == .npy
        || (chosenFormat == nil && (modality ?? files.first.flatMap(Modality.detect(path:))) == .tokens)
      if writesNPY && output == "-" && standardOutputIsTerminal {
        throw ValidationError("refusing to write binary .npy to a terminal; give -o FILE or redirect standard output")
      }
    }

    func run() throws {
      global.apply()
      let chosen = modality ?? files.first.flatMap(Modality.detect(path:)) ?? (files == ["-"] ? .tokens : nil)
      if chosen == .tokens {
        try embedTokenArrays()
        return
      }
      var rng = SeededRNG(seed: global.seed)
      let loaded = try encoderOptions.load(seed: global.seed, global: global)
      let (sharedEncoder, stored, sharedSpace) = (loaded.encoder, loaded.tokenizers, loaded.sharedSpace)
      if let dataPath {
        var report = BadRowReport(policy: data.policy)
        let manifest = try data.read(dataPath, kind: .classification, modality: chosen, requiresTarget: false,
          report: &report)
        guard let first = manifest.entries.first else { throw CommandFailure("\(dataPath) holds no usable rows") }
        let pipeline = try makePipeline(first.inputs.map(\.modality), encoder: sharedEncoder, stored: stored,
          fitting: manifest.entries.flatMap { $0.inputs.compactMap(\.filePath) }, pooling: pool, rng: &rng)
        let writer = try makeWriter(width: pipeline.embeddingWidth, inputs: pipeline.inputs, shared: false,
          source: loaded.source)
        for start in stride(from: 0, to: manifest.entries.count, by: batchSize) {
          let chunk = Manifest(file: manifest.file, kind: manifest.kind,
            entries: Array(manifest.entries[start..<min(manifest.entries.count, start + batchSize)]))
          let decoded = try TaskData.samples(chunk, kind: .classification, tokenizers: pipeline.tokenizers,
            labels: nil, report: &report)
          guard !decoded.isEmpty else { continue }
          let embeddings = pipeline.embed(decoded.map(\.sample.inputs), rng: &rng)
          try writer.append(ids: decoded.map(\.entry.location.description), embeddings: embeddings.data)
        }
        try writer.finish()
        if let summary = report.summary { global.say(summary) }
        return
      }
      guard let chosen else {
        throw CommandFailure("cannot tell the modality of \(files[0]) from its name; give --modality")
      }
      // A pretrained model embeds into its shared space: its pooling, its
      // projection, unit length — comparable across modalities.
      let space = sharedSpace.flatMap { $0.projections.modalities.contains(chosen) ? $0 : nil }
      let pipeline = try makePipeline([chosen], encoder: sharedEncoder, stored: stored, fitting: files,
        pooling: space?.pooling ?? pool, rng: &rng)
      let writer = try makeWriter(width: space?.projections.embeddingWidth ?? pipeline.embeddingWidth,
        inputs: pipeline.inputs, shared: space != nil, source: loaded.source)
      var pendingIDs: [String] = []
      var pending: [[AnySample]] = []
      func flush() throws {
        guard !pending.isEmpty else { return }
        let pooled = pipeline.embed(pending, rng: &rng)
        let embeddings = space.map { $0.projections.embed(pooled, modality: chosen) } ?? pooled
        try writer.append(ids: pendingIDs, embeddings: embeddings.data)
        pending.removeAll(keepingCapacity: true)
        pendingIDs.removeAll(keepingCapacity: true)
      }
      for file in files {
        let samples = try pipeline.tokenizers[0].read(path: file)
        for (index, sample) in samples.enumerated() {
          pendingIDs.append(samples.count == 1 ? file : "\(file)#\(index + 1)")
          pending.append([sample])
          if pending.count == batchSize { try flush() }
        }
      }
      try flush()
      try writer.finish()
    }

    /// The `tokens` pass-through: token arrays in, a `.npy` out.
    private func embedTokenArrays() throws {
      guard files.count == 1 else { throw CommandFailure("--modality tokens takes one .npy input") }
      guard (chosenFormat ?? .npy) == .npy else { throw CommandFailure("--modality tokens writes .npy (--format npy)") }
      let sharedEncoder = try encoderOptions.load(seed: global.seed, global: global).encoder
      let embedded = try TokenEmbedding.embed(
        NPYArray.read(path: files[0]), file: files[0], encoder: sharedEncoder, pooling: pool, batchSize: batchSize)
      try embedded.write(to: output)
      global.detail("wrote \(embedded.shape) to \(output)")
    }

    /// A pretrained model's shared space: its projections and the pooling they were trained on.
    private typealias SharedSpace = (projections: ContrastiveProjections, pooling: Pooling)

    /// The model's tokenizers where it has them, else fresh ones fitted to the inputs.
    private func makePipeline(
      _ modalities: [Modality], encoder: Encoder, stored: [Modality: AnyTokenizer], fitting paths: [String],
      pooling: Pooling, rng: inout SeededRNG
    ) throws -> SampleEncoder {
      guard pool != .none else {
        throw CommandFailure("--pool none is for --modality tokens; other inputs give pooled embeddings")
      }
      let tokenizers = try modalities.map { modality -> AnyTokenizer in
        if let tokenizer = stored[modality] { return tokenizer }
        guard let fresh = try modality.freshTokenizer(fittingTo: paths, dim: encoder.config.dim, settings: tokenizerOptions.parsed(), rng: &rng) else {
          throw CommandFailure("\(modality.rawValue) inputs cannot be mixed with other inputs")
        }
        global.say("note: no trained \(modality.rawValue) tokenizer, so a seeded untrained one is used")
        return fresh
      }
      let pipeline = SampleEncoder(tokenizers: tokenizers, encoder: encoder, pooling: pooling)
      pipeline.normalizesEmbeddings = normalize
      return pipeline
    }

    private func makeWriter(width: Int, inputs: [Modality], shared: Bool, source: String) throws -> EmbeddingWriter {
      try EmbeddingWriter(format: chosenFormat ?? .jsonl, path: output, width: width, settings: [
        "pooling": pool.rawValue, "normalized": String(normalize || shared), "shared_space": String(shared),
        "inputs": inputs.map(\.rawValue).joined(separator: ","), "model": source,
        "metatx_version": metatxVersion,
      ])
    }
  }
}
