import ArgumentParser
import Foundation
import MetaTX

extension Metatx {
  struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Predict with a trained task: one line per input, in input order.",
      discussion: """
        Inputs are files (each may hold several samples: text lines, table rows), - for \
        standard input, or --data MANIFEST. Output: TSV `id<TAB>label<TAB>probability` (with \
        --top-k, label/probability pairs), or `id<TAB>values` for regression; --json for JSON lines.
        """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var data: DataOptions

    @Option(help: "The task file written by train-head.")
    var model: String

    @Option(name: .customLong("data"), help: "A manifest of inputs (targets not needed).")
    var dataPath: String?

    @Option(help: "Print the k most probable labels.")
    var topK: Int = 1

    @Option var batchSize: Int = 32

    @Flag(help: "Print JSON lines.")
    var json = false

    @Argument(help: "Input files, or - for standard input.")
    var files: [String] = []

    func validate() throws {
      if files.isEmpty == (dataPath == nil) { throw ValidationError("give input files or --data MANIFEST (one of them)") }
      if topK < 1 { throw ValidationError("--top-k must be at least 1") }
    }

    func run() throws {
      global.apply()
      let (taskModel, record) = try TaskFile.load(path: model)
      var ids: [String] = []
      var samples: [[AnySample]] = []
      if let dataPath {
        var report = BadRowReport(policy: data.policy)
        let manifest = try data.read(dataPath, kind: record.kind,
          modality: record.inputs.count == 1 ? record.inputs[0] : nil, requiresTarget: false, report: &report)
        for (sample, entry) in try TaskData.samples(manifest, kind: record.kind, tokenizers: taskModel.tokenizers,
          labels: nil, report: &report)
        {
          ids.append(entry.location.description)
          samples.append(sample.inputs)
        }
        if let summary = report.summary { global.say(summary) }
      } else {
        guard taskModel.tokenizers.count == 1 else {
          throw CommandFailure("this task takes \(record.inputs.map(\.rawValue)); give --data MANIFEST")
        }
        for file in files {
          let decoded = try taskModel.tokenizers[0].read(path: file)
          for (index, sample) in decoded.enumerated() {
            ids.append(decoded.count == 1 ? file : "\(file)#\(index + 1)")
            samples.append([sample])
          }
        }
      }
      let predictions = taskModel.predictions(samples, batchSize: batchSize)
      let width = predictions.shape.count == 2 ? predictions.shape[1] : 0
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
      for (row, id) in ids.enumerated() {
        let values = Array(UnsafeBufferPointer(start: predictions.data + row * width, count: width))
        switch record.kind {
        case .regression:
          if json {
            print(String(decoding: try encoder.encode(RegressionLine(id: id, values: values)), as: UTF8.self))
          } else {
            print(([id] + values.map { "\($0)" }).joined(separator: "\t"))
          }
        case .classification, .multilabel:
          let ranked = values.indices.sorted { values[$0] > values[$1] || (values[$0] == values[$1] && $0 < $1) }
            .prefix(topK).map { LabelScore(label: record.labels[$0], probability: values[$0]) }
          if json {
            print(String(decoding: try encoder.encode(ClassLine(id: id, top: Array(ranked))), as: UTF8.self))
          } else {
            print(([id] + ranked.map { "\($0.label)\t\($0.probability)" }).joined(separator: "\t"))
          }
        }
      }
    }
  }
}

private struct LabelScore: Encodable {
  var label: String
  var probability: Float
}

private struct ClassLine: Encodable {
  var id: String
  var top: [LabelScore]
}

private struct RegressionLine: Encodable {
  var id: String
  var values: [Float]
}
