import ArgumentParser
import Foundation
import MetaTX

extension Metatx {
  struct TrainHead: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "train-head",
      abstract: "Train a modality's tokenizer and a task head on a frozen (or tuned) shared encoder.",
      discussion: """
        The paper's recipe: the shared encoder stays frozen (gradients still flow through it \
        to the tokenizer), only the tokenizer and a small head train; --tune-encoder trains \
        the encoder too. --head ridge fits a closed-form linear probe on frozen embeddings. \
        Data: a CSV/TSV/JSONL manifest (path or text column, label column), a folder of class \
        folders, or for tabular data one CSV with --target. The task file written with -o \
        holds everything eval and predict need. After every epoch the complete training state \
        goes to TASK.checkpoint and the best epoch so far to TASK; Ctrl-C stops at the next \
        step, and --resume continues from the checkpoint to the same weights an uninterrupted \
        run gives. The checkpoint is removed when the run completes.
        """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var tokenizerOptions: TokenizerOptions
    @OptionGroup var data: DataOptions

    @Option(help: "The inputs' modality (default: from the manifest's file names).")
    var modality: Modality?

    @Option(help: "Training data: a manifest, a class-folder root, or a table.")
    var train: String

    @Option(help: "Validation data (same forms); the best epoch on it is kept.")
    var val: String?

    @OptionGroup var encoderOptions: EncoderOptions

    @Option(help: "classification, multilabel or regression.")
    var task: TaskKind = .classification

    @Option(help: "linear, mlp or ridge.")
    var head: HeadKind = .linear

    @Option(name: .customLong("pool"), help: "Pooling of the encoder output the head sees.")
    var vectorPool: VectorPooling = .mean
    private var pool: Pooling { vectorPool.pooling }

    @Option var epochs: Int = 10
    @Option var batchSize: Int = 32
    @Option var lr: Float = 1e-3
    @Option var weightDecay: Float = 0.05
    @Option var labelSmoothing: Float = 0

    @Flag(help: "Train the encoder too (its learning rate is --lr × 0.1).")
    var tuneEncoder = false

    @Flag(help: "Train a new tokenizer (defaults, --set, --bpe) even for a modality the model has a pretrained tokenizer for.")
    var freshTokenizers = false

    @Option(help: "Stop after this many epochs without validation improvement.")
    var patience: Int?

    @Option(help: "Ridge penalty for --head ridge (relative to the mean Gram diagonal).")
    var ridgePenalty: Float = 1e-3

    @Option(help: "Write one JSON line per epoch to this file.")
    var log: String?

    @Flag(help: "Keep a copy of the frozen encoder in the task file (default: its path and SHA-256 only; a tuned or random encoder is always copied).")
    var embedEncoder = false

    @Option(name: [.short, .long], help: "The task file to write.")
    var output: String

    @Flag(help: "Continue the stopped run whose checkpoint is OUTPUT.checkpoint (same options and data).")
    var resume = false

    /// Ends the run once this epoch is complete, exactly as Ctrl-C would: for tests of --resume.
    @Option(help: .hidden)
    var stopAfterEpoch: Int?

    func validate() throws {
      if epochs < 1 || batchSize < 1 { throw ValidationError("--epochs and --batch-size must be positive") }
      if !(lr > 0) { throw ValidationError("--lr must be positive") }
      if labelSmoothing < 0 || labelSmoothing >= 1 { throw ValidationError("--label-smoothing must be in [0, 1)") }
      if resume && head == .ridge { throw ValidationError("--resume continues gradient training; --head ridge fits in one pass") }
      if resume && output == AtomicFile.standardStream {
        throw ValidationError("--resume needs a task file (-o FILE), whose checkpoint is FILE.checkpoint")
      }
      if let stopAfterEpoch, stopAfterEpoch < 1 { throw ValidationError("--stop-after-epoch must be positive") }
    }

    /// Where the checkpoint lives: beside the task file; none for a ridge head or a task file on stdout.
    private var checkpoint: String? {
      head == .ridge || output == AtomicFile.standardStream ? nil : TrainingCheckpoint.path(besideTaskFile: output)
    }

    func run() throws {
      global.apply()
      if let checkpoint, !resume, FileManager.default.fileExists(atPath: checkpoint) {
        throw ReaderError(file: checkpoint, "a stopped run's checkpoint: continue it with --resume, or delete it to start afresh")
      }
      var report = BadRowReport(policy: data.policy)
      let trainManifest = try data.read(train, kind: task, modality: modality, requiresTarget: true, report: &report)
      guard let first = trainManifest.entries.first else { throw CommandFailure("\(train) holds no usable rows") }
      let labels: LabelSet? = task == .regression ? nil : try LabelSet(training: trainManifest)
      var validationManifest = try val.map {
        try data.read($0, kind: task, modality: modality, requiresTarget: true, report: &report)
      }
      if let labels, let manifest = validationManifest {
        validationManifest = try labels.keepingKnownLabels(in: manifest, report: &report)
      }

      var rng = SeededRNG(seed: global.seed)
      let loaded = try encoderOptions.load(seed: global.seed, global: global)
      let (sharedEncoder, pretrained) = (loaded.encoder, loaded.tokenizers)
      let modalities = first.inputs.map(\.modality)
      let settings = try tokenizerOptions.parsed()
      let tokenizers = try modalities.map { modality -> AnyTokenizer in
        if let tokenizer = pretrained[modality], !freshTokenizers {
          let ignored = settings.flags(changing: modality)
          guard ignored.isEmpty else {
            throw CommandFailure(
              "\(loaded.source) brings its own \(modality.rawValue) tokenizer, which \(ignored.joined(separator: ", ")) would not change; "
                + "add --fresh-tokenizers to train a new one with them, or drop them to use the model's")
          }
          return tokenizer
        }
        let paths = trainManifest.entries.compactMap { entry -> String? in
          switch entry.inputs[modalities.firstIndex(of: modality)!] {
          case .file(let path, _), .tableRow(let path, _): return path
          case .text: return nil
          }
        }
        guard let tokenizer = try modality.freshTokenizer(
          fittingTo: Array(Set(paths)).sorted(), dim: sharedEncoder.config.dim, settings: settings, rng: &rng)
        else { throw CommandFailure("\(modality.rawValue) inputs are token arrays; train-head needs a tokenized modality") }
        return tokenizer
      }
      let trainSamples = try TaskData.samples(trainManifest, kind: task, tokenizers: tokenizers, labels: labels,
        report: &report).map(\.sample)
      let validationSamples = try validationManifest.map {
        try TaskData.samples($0, kind: task, tokenizers: tokenizers, labels: labels, report: &report).map(\.sample)
      } ?? []
      if let summary = report.summary { global.say(summary) }
      guard !trainSamples.isEmpty else { throw CommandFailure("no training samples left") }

      let outputs = labels?.count ?? trainSamples[0].target.count
      let width = pool.outputWidth(dim: sharedEncoder.config.dim)
      let taskHead = TaskHead(kind: head, inputWidth: width, outputs: outputs)
      var headRng = rng.derived("head")
      taskHead.initialise(&headRng)
      let taskModel = TaskModel(kind: task, labels: labels?.names ?? [data.target], tokenizers: tokenizers,
        encoder: sharedEncoder, pooling: pool, head: taskHead)
      let options = trainingOptions()
      global.say("training a \(head.rawValue) \(task.rawValue) head on \(trainSamples.count) samples"
        + (validationSamples.isEmpty ? "" : ", validating on \(validationSamples.count)")
        + "; encoder \(sharedEncoder.config) \(tuneEncoder ? "tuned" : "frozen")")
      let taskRecord = { (epochs: [EpochRecord]) in
        TaskRecord(kind: task, labels: taskModel.labels, inputs: modalities, pooling: pool, head: head,
          outputs: outputs, encoderSource: loaded.source + (tuneEncoder ? " (tuned)" : ""), options: options,
          epochs: epochs)
      }
      let encoderReference = try (tuneEncoder || embedEncoder ? nil : loaded.file).map {
        try EncoderReference(path: $0.path, prefix: $0.prefix, heads: sharedEncoder.config.heads,
          isBuiltInDefault: $0.isBuiltInDefault)
      }
      let save = { (epochs: [EpochRecord]) in
        try TaskFile.write(taskModel, record: taskRecord(epochs), to: output, encoderReference: encoderReference)
      }
      let records = try fit(taskModel, train: trainSamples, validation: validationSamples, options: options,
        saveBest: save)
      try save(records)
      if let checkpoint { removeCompletedCheckpoint(checkpoint, global: global) }
      if let best = records.last(where: \.isBest), let score = best.validationScore {
        global.say(String(format: "best epoch %d: validation %@ %.4f", best.epoch,
          task == .classification ? "accuracy" : "score (−loss)", score))
      }
      global.say("wrote \(output)")
    }

    private func trainingOptions() -> TrainingOptions {
      var options = TrainingOptions()
      options.epochs = epochs
      options.batchSize = batchSize
      options.learningRate = lr
      options.weightDecay = weightDecay
      options.labelSmoothing = labelSmoothing
      options.tuneEncoder = tuneEncoder
      options.patience = patience
      options.ridgePenalty = ridgePenalty
      options.seed = global.seed
      return options
    }

    /// Trains (or fits a ridge head); `saveBest` writes the task file after
    /// each epoch that is the best yet. Ctrl-C or --stop-after-epoch end the
    /// command with a message and exit status 130.
    private func fit(
      _ taskModel: TaskModel, train: [LabelledSample], validation: [LabelledSample], options: TrainingOptions,
      saveBest: ([EpochRecord]) throws -> Void
    ) throws -> [EpochRecord] {
      if head == .ridge {
        try HeadTraining.fitRidge(taskModel, train: train, options: options)
        if !validation.isEmpty {
          var rng = SeededRNG(seed: options.seed)
          let (loss, score) = HeadTraining.evaluate(taskModel, validation, batchSize: options.batchSize, rng: &rng)
          global.say(String(format: "ridge head: validation loss %.4f, score %.4f", loss, score))
        }
        return []
      }
      let resuming = checkpoint.map { resume && FileManager.default.fileExists(atPath: $0) } ?? false
      if resume && !resuming { global.say("no checkpoint at \(checkpoint!); starting from the first epoch") }
      let progress = ProgressLine()
      let logLines = try log.map { try JSONLinesLog(path: $0, appending: resuming) }
      let started = Date()
      var trainedSteps = 0
      let onProgress = { (step: HeadTraining.Progress) in
        trainedSteps += 1
        let done = Double((step.epoch - 1) * step.stepsPerEpoch + step.step)
        let total = Double(options.epochs * step.stepsPerEpoch)
        // Steps restored from a checkpoint took no time in this process.
        let remaining = Date().timeIntervalSince(started) / Double(trainedSteps) * (total - done)
        progress.show(String(format: "epoch %d/%d  step %d/%d  loss %.4f  %.1f samples/s  ETA %ds",
          step.epoch, options.epochs, step.step, step.stepsPerEpoch, step.loss, step.samplesPerSecond,
          Int(remaining.rounded())))
      }
      let onEpoch = { (record: EpochRecord) in
        progress.finish()
        var line = String(format: "epoch %d  train loss %.4f", record.epoch, record.trainLoss)
        if let loss = record.validationLoss, let score = record.validationScore {
          line += String(format: "  val loss %.4f  val score %.4f", loss, score)
        }
        global.detail(line + (record.isBest ? "  (best)" : ""))
        logLines?.write(record)
      }
      guard let checkpoint else {
        return HeadTraining.train(taskModel, train: train, validation: validation, options: options,
          onProgress: onProgress, onEpoch: onEpoch)
      }
      let interrupt = InterruptRequest()
      let outcome = try HeadTraining.train(taskModel, train: train, validation: validation, options: options,
        checkpoint: checkpoint, resume: resume,
        shouldStop: { completed in interrupt.isRequested || stopAfterEpoch.map { completed >= $0 } ?? false },
        onProgress: onProgress, onEpoch: onEpoch, onImprovement: saveBest)
      if let resumed = outcome.resumedAfterEpoch { global.detail("resumed after epoch \(resumed)") }
      guard outcome.wasStopped else { return outcome.records }
      progress.finish()
      let stoppedIn = (outcome.records.last?.epoch ?? 0) + 1
      let message = outcome.records.last.map { last in
        "stopped in epoch \(stoppedIn) of \(options.epochs); \(checkpoint) holds epoch \(last.epoch) "
          + "and \(output) the best epoch so far: run the same command with --resume to continue"
      } ?? "stopped in epoch 1 of \(options.epochs), before any checkpoint; nothing was written"
      FileHandle.standardError.write(Data("metatx: \(message)\n".utf8))
      throw ExitCode(130)
    }
  }
}
