/// What a task predicts.
public enum TaskKind: String, CaseIterable, Codable, Sendable {
  /// One class per sample; softmax cross-entropy.
  case classification
  /// Any number of labels per sample; binary cross-entropy per label.
  case multilabel
  /// One or more real values per sample; mean squared error.
  case regression
}
