import ArgumentParser
import MetaTX

@main
struct Metatx: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "metatx",
    abstract: "Turn files of any modality into vectors in one space with a shared transformer encoder.",
    discussion: """
      metatx implements Meta-Transformer (Zhang et al., 2023) on the CPU: a tokenizer per \
      modality, one shared pre-norm ViT encoder, pooling to one embedding. Data goes to \
      standard output, messages to standard error; `-` stands for stdin/stdout.
      """,
    version: metatxVersion,
    subcommands: [Embed.self, Tokenize.self, TrainHead.self, Eval.self, Predict.self, Pretrain.self]
  )
}
