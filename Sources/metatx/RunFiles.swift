import ArgumentParser
import Foundation

/// A `--log` file of JSON lines (one object per line, keys sorted). A
/// resumed run adds its lines to the stopped run's log; a fresh run starts it empty.
final class JSONLinesLog {
  private let handle: FileHandle
  private let encoder = JSONEncoder()

  init(path: String, appending: Bool) throws {
    guard appending && FileManager.default.fileExists(atPath: path)
      || FileManager.default.createFile(atPath: path, contents: nil)
    else { throw ValidationError("cannot create the log file \(path)") }
    handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    try handle.seekToEnd()
    encoder.outputFormatting = [.sortedKeys]
  }

  deinit { try? handle.close() }

  /// Appends `value` as one line; a value JSON cannot hold (a NaN loss) is left out.
  func write(_ value: some Encodable) {
    guard let json = try? encoder.encode(value) else { return }
    handle.write(json + Data("\n".utf8))
  }
}

/// Removes a completed run's checkpoint; failing to is reported, not fatal, since the result is saved.
func removeCompletedCheckpoint(_ checkpoint: String, global: GlobalOptions) {
  guard FileManager.default.fileExists(atPath: checkpoint) else { return }
  do {
    try FileManager.default.removeItem(atPath: checkpoint)
  } catch {
    global.say("the run is complete but its checkpoint \(checkpoint) could not be removed: \(error)")
  }
}
