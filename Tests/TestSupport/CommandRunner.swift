import Foundation

/// The result of running the built `metatx` binary.
public struct CommandResult {
  public var status: Int32
  public var standardOutput: Data
  public var standardError: String
  public var outputText: String { String(decoding: standardOutput, as: UTF8.self) }
}

/// Runs the `metatx` executable that sits beside the test bundle in the build
/// folder, with `arguments` and optional standard input.
public func runMetatx(_ arguments: [String], input: Data? = nil) throws -> CommandResult {
  try runBuiltExecutable(metatxExecutable(), arguments, input: input)
}

/// Runs another executable of the package (`metatx-bench`) from the same build folder.
public func runBuiltExecutable(named name: String, _ arguments: [String]) throws -> CommandResult {
  try runBuiltExecutable(
    metatxExecutable().deletingLastPathComponent().appendingPathComponent(name), arguments, input: nil)
}

private func runBuiltExecutable(_ executable: URL, _ arguments: [String], input: Data?) throws -> CommandResult {
  // Standard input and error go through files, standard output through a pipe
  // drained by this thread: no side can block on a full pipe.
  let scratch = try makeTemporaryFolder()
  defer { try? FileManager.default.removeItem(at: scratch) }
  let inputURL = scratch.appendingPathComponent("stdin")
  let errorURL = scratch.appendingPathComponent("stderr")
  try (input ?? Data()).write(to: inputURL)
  _ = FileManager.default.createFile(atPath: errorURL.path, contents: nil)
  let process = Process()
  process.executableURL = executable
  process.arguments = arguments
  let outputPipe = Pipe()
  process.standardOutput = outputPipe
  process.standardError = try FileHandle(forWritingTo: errorURL)
  process.standardInput = try FileHandle(forReadingFrom: inputURL)
  try process.run()
  let outputData = outputPipe.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return CommandResult(
    status: process.terminationStatus, standardOutput: outputData,
    standardError: String(decoding: try Data(contentsOf: errorURL), as: UTF8.self))
}

/// `.build/<configuration>/metatx`, found from the test bundle's location.
public func metatxExecutable() -> URL {
  let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
  var folder = bundle.deletingLastPathComponent()
  if folder.lastPathComponent == "MacOS" {  // macOS: …/X.xctest/Contents/MacOS/X
    folder = folder.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
  }
  return folder.appendingPathComponent("metatx")
}

/// A fresh temporary folder, removed by the caller's `defer`.
public func makeTemporaryFolder() throws -> URL {
  let folder = FileManager.default.temporaryDirectory.appendingPathComponent("metatx-test-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
  return folder
}

/// What an interrupted run left: whether it was still training when the first
/// checkpoint appeared, its exit status (nil if SIGINT did not stop it within
/// 30 s — it is then killed) and its standard error.
public struct InterruptedRun {
  public var wasRunningAtCheckpoint: Bool
  public var status: Int32?
  public var standardError: String
}

/// Starts `metatx arguments`, waits (up to 60 s) until `checkpoint` exists,
/// sends SIGINT as Ctrl-C would, and waits for the process to end.
public func interruptAtFirstCheckpoint(_ arguments: [String], checkpoint: String) throws -> InterruptedRun {
  let scratch = try makeTemporaryFolder()
  defer { try? FileManager.default.removeItem(at: scratch) }
  let errorURL = scratch.appendingPathComponent("stderr")
  _ = FileManager.default.createFile(atPath: errorURL.path, contents: nil)
  let process = Process()
  process.executableURL = metatxExecutable()
  process.arguments = arguments
  process.standardError = try FileHandle(forWritingTo: errorURL)
  try process.run()
  let deadline = Date().addingTimeInterval(60)
  while !FileManager.default.fileExists(atPath: checkpoint) && process.isRunning && Date() < deadline {
    Thread.sleep(forTimeInterval: 0.01)
  }
  let wasRunning = process.isRunning
  process.interrupt()
  let stopDeadline = Date().addingTimeInterval(30)
  while process.isRunning && Date() < stopDeadline { Thread.sleep(forTimeInterval: 0.01) }
  var status: Int32? = nil
  if process.isRunning {
    process.terminate()
    process.waitUntilExit()
  } else {
    status = process.terminationStatus
  }
  return InterruptedRun(
    wasRunningAtCheckpoint: wasRunning, status: status,
    standardError: String(decoding: try Data(contentsOf: errorURL), as: UTF8.self))
}
