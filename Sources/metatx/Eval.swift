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

    @Option(help: "The task file written by train-head.")
    var model: String

    @Option(name: .customLong("data"), help: "Labelled data: a manifest, a class-folder root, or a table.")
    var dataPath: String

    @Option(help: "k of the top-k accuracy (classification).")
    var topK: Int = 5

    @Option var batchSize: Int = 32

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() throws {
      global.apply()
      let (taskModel, record) = try TaskFile.load(path: model)
      var report = BadRowReport(policy: data.policy)
      let manifest = try data.read(dataPath, kind: record.kind, modality: record.inputs.count == 1 ? record.inputs[0] : nil,
        requiresTarget: true, report: &report)
      let labels = record.kind == .regression ? nil : try LabelSet(names: record.labels, source: model)
      let samples = try TaskData.samples(manifest, kind: record.kind, tokenizers: taskModel.tokenizers, labels: labels,
        report: &report).map(\.sample)
      if let summary = report.summary { global.say(summary) }
      guard !samples.isEmpty else { throw ValidationError("\(dataPath) holds no usable rows") }
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
  }
}
