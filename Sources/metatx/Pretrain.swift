import ArgumentParser
import Foundation
import MetaTX

extension EncoderPreset: ExpressibleByArgument {}

extension Metatx {
  struct Pretrain: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Contrastive pretraining of the shared encoder on paired data (symmetric InfoNCE).",
      discussion: """
        Each --pairs manifest has two input columns naming their modalities, e.g. image,text \
        (paths relative to the manifest; text inline) and an optional split column (rows \
        marked val are held out for retrieval). Every modality gets its tokenizer and \
        projection; all go through the one shared encoder into one embedding space. Several \
        pair types alternate batch by batch (round-robin). The model written with -o is what \
        embed, train-head and eval take with --model.
        """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var tokenizerOptions: TokenizerOptions

    @Option(help: "A pair manifest (repeatable).")
    var pairs: [String]

    @Option(help: "Start from this encoder (a safetensors file) instead of a random preset.")
    var initFrom: String?

    @Option(help: "Encoder size when not --init-from: tiny, small, base, large.")
    var preset: EncoderPreset = .tiny

    @Option(help: "Width of the shared embedding space.")
    var embedDim: Int = 128

    @Option(help: "Pooling of each input before its projection.")
    var pool: Pooling = .mean

    @Option var epochs: Int = 10
    @Option var batchSize: Int = 64
    @Option var lr: Float = 5e-4
    @Option var warmup: Int = 100
    @Option var weightDecay: Float = 0.1

    @Flag(help: "Skip bad rows (counted and reported) instead of stopping at the first.")
    var skipBad = false

    @Option(help: "Write one JSON line per epoch to this file.")
    var log: String?

    @Option(name: [.short, .long], help: "The model file to write.")
    var output: String

    func validate() throws {
      if pairs.isEmpty { throw ValidationError("give at least one --pairs manifest") }
      if epochs < 1 || batchSize < 2 { throw ValidationError("--epochs must be ≥ 1 and --batch-size ≥ 2 (InfoNCE contrasts pairs)") }
      if embedDim < 1 { throw ValidationError("--embed-dim must be positive") }
      if pool == .none { throw ValidationError("--pool must be cls, mean, max or cls+mean") }
    }

    func run() throws {
      global.apply()
      var rng = SeededRNG(seed: global.seed)
      var report = BadRowReport(policy: skipBad ? .skip : .stop)
      let manifests = try pairs.map { path in
        try Manifest.read(path: path, kind: .regression, inputColumns: PairManifest.columns(of: path),
          requiresTarget: false, report: &report)
      }
      let encoder: Encoder
      if let initFrom {
        encoder = try Encoder.load(path: initFrom)
      } else {
        var encoderRng = rng.derived("encoder")
        encoder = Encoder(config: preset.config, rng: &encoderRng)
      }
      let trainingManifests = manifests.map { manifest in
        Manifest(file: manifest.file, kind: manifest.kind, entries: manifest.entries.filter { $0.split != "val" })
      }
      let validationManifests = manifests.map { manifest in
        Manifest(file: manifest.file, kind: manifest.kind, entries: manifest.entries.filter { $0.split == "val" })
      }
      var modalities: [Modality] = []
      var fittingPaths: [Modality: [String]] = [:]
      for manifest in trainingManifests {
        for entry in manifest.entries {
          for input in entry.inputs {
            if !modalities.contains(input.modality) { modalities.append(input.modality) }
            if let path = input.filePath { fittingPaths[input.modality, default: []].append(path) }
          }
        }
      }
      var tokenizers: [Modality: AnyTokenizer] = [:]
      for modality in modalities {
        guard let tokenizer = try modality.freshTokenizer(
          fittingTo: Array(Set(fittingPaths[modality] ?? [])).sorted(), dim: encoder.config.dim, settings: tokenizerOptions.parsed(), rng: &rng)
        else { throw CommandFailure("\(modality.rawValue) inputs cannot be pretrained") }
        tokenizers[modality] = tokenizer
      }
      let projections = ContrastiveProjections(modalities: modalities, inputWidth: pool.outputWidth(dim: encoder.config.dim),
        embeddingWidth: embedDim)
      var projectionRng = rng.derived("projections")
      projections.initialise(&projectionRng)
      let training = try trainingManifests.compactMap { try PairManifest.pairs($0, tokenizers: tokenizers, report: &report) }
      let validation = try validationManifests.compactMap { try PairManifest.pairs($0, tokenizers: tokenizers, report: &report) }
      if let summary = report.summary { global.say(summary) }
      guard !training.isEmpty, training.allSatisfy({ $0.pairs.count >= 2 }) else {
        throw CommandFailure("every --pairs manifest needs at least two training pairs")
      }
      global.say("pretraining \(encoder.config) on \(training.map { "\($0.pairs.count) \($0.first.rawValue)–\($0.second.rawValue)" }.joined(separator: ", ")) pairs"
        + (validation.isEmpty ? "" : "; validating on \(validation.map(\.pairs.count).reduce(0, +))"))
      var options = PretrainingOptions()
      options.epochs = epochs
      options.batchSize = batchSize
      options.learningRate = lr
      options.warmupSteps = warmup
      options.weightDecay = weightDecay
      options.seed = global.seed
      let pretraining = Pretraining(encoder: encoder, tokenizers: tokenizers, projections: projections, pooling: pool)
      let progress = ProgressLine()
      let logLines = try log.map { path -> FileHandle in
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
          throw CommandFailure("cannot create the log file \(path)")
        }
        return try FileHandle(forWritingTo: URL(fileURLWithPath: path))
      }
      defer { try? logLines?.close() }
      let jsonEncoder = JSONEncoder()
      jsonEncoder.outputFormatting = [.sortedKeys]
      _ = try pretraining.train(training, validation: validation, options: options,
        onStep: { step, total, loss in progress.show(String(format: "step %d/%d  loss %.4f", step, total, loss)) },
        onEpoch: { record in
          progress.finish()
          let recalls = record.validationRecallAt1.keys.sorted().map { key in
            "\(key) R@1 " + record.validationRecallAt1[key]!.map { String(format: "%.3f", $0) }.joined(separator: "/")
          }
          global.detail(String(format: "epoch %d  loss %.4f  logit scale %.3f  %.1f pairs/s", record.epoch, record.loss,
            record.logitScale, record.samplesPerSecond) + (recalls.isEmpty ? "" : "  " + recalls.joined(separator: "  ")))
          if let logLines, let json = try? jsonEncoder.encode(record) { logLines.write(json + Data("\n".utf8)) }
        })
      let model = Model(encoder: encoder, tokenizers: modalities.map { tokenizers[$0]! })
      model.projections = (projections, pool)
      try model.write(to: output)
      global.say("wrote \(output)")
    }
  }
}
