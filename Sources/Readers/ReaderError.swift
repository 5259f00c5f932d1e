/// A file that could not be read as what it claims to be.
///
/// The description is one line, `FILE: problem`, ready for the command line.
public struct ReaderError: Error, CustomStringConvertible, Equatable {
  /// The file's path as the user gave it (`-` for standard input).
  public var file: String
  /// What is wrong, and what was expected where that helps.
  public var problem: String

  public init(file: String, _ problem: String) {
    self.file = file
    self.problem = problem
  }

  public var description: String { "\(file): \(problem)" }
}
