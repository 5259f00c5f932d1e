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
        embed, train-head and eval take with --model. The complete training state goes to \
        MODEL.checkpoint after every epoch (and every --checkpoint-every steps); Ctrl-C stops \
        at the next step with a checkpoint of the last complete one, and --resume continues \
        from it to the same weights an uninterrupted run gives. The checkpoint is removed when \
        the run completes.
        """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var tokenizerOptions: TokenizerOptions

    @Option(help: "A pair manifest (repeatable).")
    var pairs: [String]

    @Option(name: [.customLong("init"), .customLong("init-from")],
      help: "Start from this encoder (a safetensors file, e.g. the converted Meta-Transformer-B16) instead of a random preset.")
    var initFrom: String?

    @Option(help: "Encoder size when not --init: tiny, small, base, large.")
    var preset: EncoderPreset = .tiny

    @Option(help: "Width of the shared embedding space.")
    var embedDim: Int = 128

    @Option(name: .customLong("pool"), help: "Pooling of each input before its projection.")
    var vectorPool: VectorPooling = .mean
    private var pool: Pooling { vectorPool.pooling }

    @Option var epochs: Int = 10
    @Option var batchSize: Int = 64
    @Option var lr: Float = 5e-4
    @Option var warmup: Int = 100
    @Option var weightDecay: Float = 0.1

    @Flag(help: "Skip bad rows (counted and reported) instead of stopping at the first.")
    var skipBad = false

    @Option(help: "Write one JSON line per epoch to this file.")
    var log: String?

    @Flag(help: "Also write one JSON line per step to --log (loss, logit scale, learning rate, samples/s).")
    var logEveryStep = false

    @Option(help: "Also checkpoint every N steps (default: at each epoch's end only).")
    var checkpointEvery: Int?

    @Option(name: [.short, .long], help: "The model file to write.")
    var output: String

    @Flag(help: "Continue the stopped run whose checkpoint is OUTPUT.checkpoint (same options and data).")
    var resume = false

    /// Ends the run once this many steps are complete, exactly as Ctrl-C would: for tests of --resume.
    @Option(help: .hidden)
    var stopAfterStep: Int?

    func validate() throws {
      if pairs.isEmpty { throw ValidationError("give at least one --pairs manifest") }
      if epochs < 1 || batchSize < 2 { throw ValidationError("--epochs must be ≥ 1 and --batch-size ≥ 2 (InfoNCE contrasts pairs)") }
      if embedDim < 1 { throw ValidationError("--embed-dim must be positive") }
      if let checkpointEvery, checkpointEvery < 1 { throw ValidationError("--checkpoint-every must be at least 1 step") }
      if logEveryStep && log == nil { throw ValidationError("--log-every-step writes to the --log file: give --log FILE") }
      if output == AtomicFile.standardStream && (resume || checkpointEvery != nil || stopAfterStep != nil) {
        throw ValidationError("checkpoints need a model file (-o FILE), whose checkpoint is FILE.checkpoint")
      }
      if let stopAfterStep, stopAfterStep < 1 { throw ValidationError("--stop-after-step must be positive") }
    }

    /// Where the checkpoint lives: beside the model file; none for a model written to stdout.
    private var checkpoint: String? {
      output == AtomicFile.standardStream ? nil : PretrainingCheckpoint.path(besideModelFile: output)
    }

    func run() throws {
      global.apply()
      if let checkpoint, !resume, FileManager.default.fileExists(atPath: checkpoint) {
        throw ReaderError(file: checkpoint, "a stopped run's checkpoint: continue it with --resume, or delete it to start afresh")
      }
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
      try train(pretraining, training: training, validation: validation, options: options)
      let model = Model(encoder: encoder, tokenizers: modalities.map { tokenizers[$0]! })
      model.projections = (projections, pool)
      try model.write(to: output)
      if let checkpoint { removeCompletedCheckpoint(checkpoint, global: global) }
      global.say("wrote \(output)")
    }

    /// Trains with checkpoints (none when the model goes to stdout). Ctrl-C
    /// or --stop-after-step end the command with a message and exit status 130.
    private func train(
      _ pretraining: Pretraining, training: [PairSet], validation: [PairSet], options: PretrainingOptions
    ) throws {
      let resuming = checkpoint.map { resume && FileManager.default.fileExists(atPath: $0) } ?? false
      if resume && !resuming { global.say("no checkpoint at \(checkpoint!); starting from the first step") }
      let progress = ProgressLine()
      let logLines = try log.map { try JSONLinesLog(path: $0, appending: resuming) }
      let onStep = { (record: PretrainingStep) in
        progress.show(String(format: "epoch %d/%d  step %d/%d  loss %.4f  %.1f pairs/s", record.epoch, options.epochs,
          record.step, record.totalSteps, record.loss, record.samplesPerSecond))
        if logEveryStep { logLines?.write(record) }
      }
      let onEpoch = { (record: PretrainingEpoch) in
        progress.finish()
        let recalls = record.validationRecallAt1.keys.sorted().map { key in
          "\(key) R@1 " + record.validationRecallAt1[key]!.map { String(format: "%.3f", $0) }.joined(separator: "/")
        }
        global.detail(String(format: "epoch %d  loss %.4f  logit scale %.3f  %.1f pairs/s", record.epoch, record.loss,
          record.logitScale, record.samplesPerSecond) + (recalls.isEmpty ? "" : "  " + recalls.joined(separator: "  ")))
        logLines?.write(record)
      }
      guard let checkpoint else {
        _ = try pretraining.train(training, validation: validation, options: options, onStep: onStep, onEpoch: onEpoch)
        return
      }
      let interrupt = InterruptRequest()
      let outcome = try pretraining.train(training, validation: validation, options: options, checkpoint: checkpoint,
        checkpointEvery: checkpointEvery, resume: resume,
        shouldStop: { completed in interrupt.isRequested || stopAfterStep.map { completed >= $0 } ?? false },
        onStep: onStep, onEpoch: onEpoch)
      if let resumed = outcome.resumedAfterStep { global.detail("resumed after step \(resumed)") }
      guard outcome.wasStopped else { return }
      progress.finish()
      FileHandle.standardError.write(Data(("metatx: stopped after step \(outcome.steps) of \(outcome.totalSteps); "
        + "\(checkpoint) holds it: run the same command with --resume to continue\n").utf8))
      throw ExitCode(130)
    }
  }
}
