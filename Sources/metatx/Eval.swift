import ArgumentParser
import Foundation
import MetaTX

extension Metatx {
  struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Evaluate a trained task on labelled data.",
      discussion: """
        Classification: accuracy, top-k, per-class precision/recall/F1, macro and weighted F1, \
        confusion matrix. Multi-label: mAP, micro/macro F1. Regression: MSE, MAE, R². A table \
        on standard output, or JSON with --json. Exits 0 whatever the scores; non-zero only on errors.
        """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var data: DataOptions

    @Option(help: "The task file written by train-head (or, with --retrieval/--zero-shot, a pretrained model).")
    var model: String

    @Option(name: .customLong("data"), help: "Labelled data: a manifest, a class-folder root, or a table.")
    var dataPath: String?

    @Option(help: "A pair manifest: report cross-modal retrieval recall@1/5/10 both ways and median rank.")
    var retrieval: String?

    @Option(name: .customLong("zero-shot"), help: "A labelled manifest to classify by similarity to class prompts.")
    var zeroShot: String?

    @Option(help: "Prompt templates for --zero-shot, {} standing for the class name (repeatable).")
    var classes: [String] = ["a photo of a {}"]

    @Option(help: "k of the top-k accuracy (classification).")
    var topK: Int = 5

    @Option var batchSize: Int = 32

    @Flag(help: "Print the report as JSON.")
    var json = false

    func validate() throws {
      let modes = [dataPath, retrieval, zeroShot].compactMap { $0 }
      if modes.count != 1 { throw ValidationError("give exactly one of --data, --retrieval, --zero-shot") }
      if classes.contains(where: { !$0.contains("{}") }) { throw ValidationError("every --classes template needs {}") }
    }

    func run() throws {
      global.apply()
      if let retrieval {
        try emit(try PretrainedEvaluation.retrieval(modelPath: model, pairs: retrieval, batchSize: batchSize,
          policy: data.policy, say: global.say))
        return
      }
      if let zeroShot {
        try emit(try zeroShotReport(manifest: zeroShot))
        return
      }
      let dataPath = self.dataPath!
      let (taskModel, record) = try TaskFile.load(path: model)
      var report = BadRowReport(policy: data.policy)
      let manifest = try data.read(dataPath, kind: record.kind, modality: record.inputs.count == 1 ? record.inputs[0] : nil,
        requiresTarget: true, report: &report)
      let labels = record.kind == .regression ? nil : try LabelSet(names: record.labels, source: model)
      let samples = try TaskData.samples(manifest, kind: record.kind, tokenizers: taskModel.tokenizers, labels: labels,
        report: &report).map(\.sample)
      if let summary = report.summary { global.say(summary) }
      guard !samples.isEmpty else { throw CommandFailure("\(dataPath) holds no usable rows") }
      let predictions = taskModel.predictions(samples.map(\.inputs), batchSize: batchSize)
      let targets = Tensor(shape: [samples.count, samples[0].target.count], values: samples.flatMap(\.target))
      do {
        switch record.kind {
        case .classification:
          try emit(ClassificationReport(scores: predictions, targets: samples.map { Int($0.target[0]) },
            classNames: record.labels, topK: [topK]))
        case .multilabel:
          try emit(MultiLabelReport(probabilities: predictions, targets: targets, labelNames: record.labels))
        case .regression:
          try emit(RegressionReport(predictions: predictions, targets: targets, targetNames: record.labels))
        }
      } catch let error as MetricInputError {
        throw ReaderError(file: dataPath, error.problem)
      }
    }

    private func emit<Report: MetricsReport>(_ report: Report) throws {
      if json {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(report), as: UTF8.self))
      } else {
        print(report.table())
      }
    }

    /// Zero-shot from a labelled manifest: the class names are its labels.
    private func zeroShotReport(manifest path: String) throws -> ClassificationReport {
      let pretrained = try Model.load(path: model)
      var report = BadRowReport(policy: data.policy)
      let manifest = try data.read(path, kind: .classification, modality: nil, requiresTarget: true, report: &report)
      guard let first = manifest.entries.first, first.inputs.count == 1 else {
        throw CommandFailure("--zero-shot needs a manifest with one input column and labels")
      }
      let modality = first.inputs[0].modality
      guard let tokenizer = pretrained.tokenizers[modality] else {
        throw CommandFailure("\(model) has no \(modality.rawValue) tokenizer")
      }
      let labels = try LabelSet(training: manifest)
      let samples = try TaskData.samples(manifest, kind: .classification, tokenizers: [tokenizer], labels: labels,
        report: &report).map(\.sample)
      if let summary = report.summary { global.say(summary) }
      do {
        return try PretrainedEvaluation.zeroShot(modelPath: model, samples: samples, modality: modality,
          classNames: labels.names, templates: classes, batchSize: batchSize, topK: topK)
      } catch let error as MetricInputError {
        throw ReaderError(file: path, error.problem)
      }
    }
  }
}
