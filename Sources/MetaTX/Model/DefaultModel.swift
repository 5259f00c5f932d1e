import Foundation

/// Where the built-in default model is found when a command names none.
///
/// In order: the file named by `METATX_MODEL`; `share/metatx/default.safetensors`
/// beside the installed binary (`PREFIX/bin/metatx` → `PREFIX/share/metatx/`,
/// where `make install` puts it); `Models/default.safetensors` in the source
/// tree the binary was built in (`.build/<triple>/<configuration>/metatx`).
public enum DefaultModel {
  public static let environmentVariable = "METATX_MODEL"
  public static let fileName = "default.safetensors"

  /// The places looked at, in order, for an executable at `executable`.
  public static func candidates(executable: String, environment: [String: String]) -> [String] {
    var paths: [String] = []
    if let named = environment[environmentVariable], !named.isEmpty { paths.append(named) }
    let folder = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
    paths.append(folder.deletingLastPathComponent().appendingPathComponent("share/metatx/\(fileName)").path)
    var ancestor = folder
    for _ in 0..<4 {
      ancestor = ancestor.deletingLastPathComponent()
      paths.append(ancestor.appendingPathComponent("Models/\(fileName)").path)
    }
    return paths
  }

  /// The first candidate that exists, for the running executable; nil when none does.
  public static func locate() -> String? {
    candidates(executable: runningExecutable, environment: ProcessInfo.processInfo.environment)
      .first { FileManager.default.fileExists(atPath: $0) }
  }

  /// A one-line explanation for when no default model exists.
  public static var missingExplanation: String {
    let places = candidates(executable: runningExecutable, environment: ProcessInfo.processInfo.environment)
    return "no built-in default model (looked for \(places.first ?? fileName) and \(places.count - 1) other places); "
      + "train one with `make model`, set \(environmentVariable), or give --model or --encoder"
  }

  /// The running binary's own path (`/proc/self/exe` on Linux, where argv[0] may be a bare name).
  private static var runningExecutable: String {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
  }
}
