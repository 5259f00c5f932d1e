import ArgumentParser
import Foundation
import MetaTX

/// Options every subcommand accepts.
struct GlobalOptions: ParsableArguments {
  @Option(name: .long, help: "Threads to run on (default: OPENBLAS_NUM_THREADS, else all cores).")
  var threads: Int?

  @Option(name: .long, help: "Seed of every random choice, for reproducible runs.")
  var seed: UInt64 = 0

  @Flag(name: [.short, .long], help: "Print nothing but errors on standard error.")
  var quiet = false

  @Flag(name: [.short, .long], help: "Print more detail on standard error.")
  var verbose = false

  func validate() throws {
    if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    if quiet && verbose { throw ValidationError("--quiet and --verbose exclude each other") }
  }

  /// Applies the settings that are process-wide (thread count).
  func apply() {
    Threads.configure(threads)
  }

  /// A message for the user on standard error (silenced by --quiet).
  func say(_ message: String) {
    guard !quiet else { return }
    FileHandle.standardError.write(Data("metatx: \(message)\n".utf8))
  }

  /// A detail shown only with --verbose.
  func detail(_ message: String) {
    guard verbose else { return }
    FileHandle.standardError.write(Data("metatx: \(message)\n".utf8))
  }
}

/// Whether standard output is a terminal (binary data is not written there).
var standardOutputIsTerminal: Bool { isatty(STDOUT_FILENO) != 0 }

/// A problem found while running (not in the arguments themselves): printed
/// as one `Error:` line, without the usage text a `ValidationError` brings.
struct CommandFailure: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
