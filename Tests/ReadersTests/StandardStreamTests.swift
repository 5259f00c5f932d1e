import Foundation
import Readers
import XCTest

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The path `-`: reads come from standard input, writes go to standard output.
/// Each test points descriptor 0 or 1 at a scratch file for its duration.
final class StandardStreamTests: XCTestCase {
  var scratch: ScratchDirectory!

  override func setUpWithError() throws {
    scratch = try ScratchDirectory()
  }

  override func tearDown() {
    scratch.remove()
  }

  /// Runs `body` with `descriptor` redirected to the file at `path`, then restores it.
  func redirecting<T>(_ descriptor: Int32, to path: String, flags: Int32, _ body: () throws -> T) throws -> T {
    fflush(stdout)
    let file = open(path, flags, 0o644)
    guard file >= 0 else { throw RedirectionFailed(reason: "open \(path): errno \(errno)") }
    let saved = dup(descriptor)
    guard saved >= 0 else {
      close(file)
      throw RedirectionFailed(reason: "dup \(descriptor): errno \(errno)")
    }
    dup2(file, descriptor)
    close(file)
    defer {
      dup2(saved, descriptor)
      close(saved)
    }
    return try body()
  }

  func testWritesToStandardOutput() throws {
    let captured = scratch.file("stdout")
    let array = NPYArray(shape: [2], values: [1, 2])
    try redirecting(STDOUT_FILENO, to: captured, flags: O_WRONLY | O_CREAT | O_TRUNC) {
      try array.write(to: "-")
    }
    XCTAssertEqual(try AtomicFile.readAll(captured), array.serialized())
    XCTAssertEqual(try scratch.contents(), ["stdout"])
  }

  func testSafeTensorsWriterWritesToStandardOutput() throws {
    let captured = scratch.file("stdout")
    var writer = SafeTensorsWriter()
    writer.add("x", shape: [3], floats: [1, 2, 3])
    try redirecting(STDOUT_FILENO, to: captured, flags: O_WRONLY | O_CREAT | O_TRUNC) {
      try writer.write(to: "-", metadata: ["k": "v"])
    }
    XCTAssertEqual(try AtomicFile.readAll(captured), writer.serialized(metadata: ["k": "v"]))
  }

  func testReadsNPYFromStandardInput() throws {
    let input = scratch.file("input.npy")
    try NPYArray(shape: [1, 2], values: [5, 6]).write(to: input)
    let array = try redirecting(STDIN_FILENO, to: input, flags: O_RDONLY) {
      try NPYArray.read(path: "-")
    }
    XCTAssertEqual(array, NPYArray(shape: [1, 2], values: [5, 6]))
  }

  func testReadsSafeTensorsFromStandardInputAndNamesItDash() throws {
    let input = scratch.file("input.safetensors")
    var writer = SafeTensorsWriter()
    writer.add("y", shape: [2], floats: [-1, 1])
    try writer.write(to: input)
    let file = try redirecting(STDIN_FILENO, to: input, flags: O_RDONLY) {
      try SafeTensorsFile(path: "-")
    }
    XCTAssertEqual(try file.floats("y"), [-1, 1])
    assertReaderError(try file.floats("z"), file: "-", contains: "no tensor named \"z\"")
  }

  func testBrokenStandardInputIsReportedAsDash() throws {
    let input = scratch.file("garbage")
    try AtomicFile.write(Data("nonsense".utf8), to: input)
    try redirecting(STDIN_FILENO, to: input, flags: O_RDONLY) {
      assertReaderError(try NPYArray.read(path: "-"), file: "-", contains: "bad magic")
    }
  }
}

/// The test could not point a standard descriptor at its scratch file.
struct RedirectionFailed: Error {
  var reason: String
}
