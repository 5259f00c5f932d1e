import Foundation
import Readers
import XCTest

final class AtomicFileTests: XCTestCase {
  var scratch: ScratchDirectory!

  override func setUpWithError() throws {
    scratch = try ScratchDirectory()
  }

  override func tearDown() {
    scratch.remove()
  }

  func testWriteCreatesFileWithExactContentAndNoLeftovers() throws {
    let path = scratch.file("new.bin")
    let content = Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0 * 7) })
    try AtomicFile.write(content, to: path)
    XCTAssertEqual(try AtomicFile.readAll(path), content)
    XCTAssertEqual(try scratch.contents(), ["new.bin"])
  }

  func testOverwriteReplacesOldContentAndLeavesNoTemporaryFiles() throws {
    let path = scratch.file("model.safetensors")
    try AtomicFile.write(Data(repeating: 1, count: 5000), to: path)
    try AtomicFile.write(Data([9, 8, 7]), to: path)
    XCTAssertEqual(try AtomicFile.readAll(path), Data([9, 8, 7]))
    XCTAssertEqual(try scratch.contents(), ["model.safetensors"])
  }

  func testOverwriteKeepsThePermissionsOfTheReplacedFile() throws {
    let path = scratch.file("private.safetensors")
    try AtomicFile.write(Data([1]), to: path)
    try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
    try AtomicFile.write(Data([2]), to: path)
    let permissions = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
    XCTAssertEqual(permissions, 0o600)
    XCTAssertEqual(try AtomicFile.readAll(path), Data([2]))
  }

  func testEmptyDataWritesEmptyFile() throws {
    let path = scratch.file("empty")
    try AtomicFile.write(Data([1, 2]), to: path)
    try AtomicFile.write(Data(), to: path)
    XCTAssertEqual(try AtomicFile.readAll(path), Data())
  }

  /// While one thread rewrites the file, every read sees a complete old or new version.
  func testConcurrentReaderSeesOnlyWholeVersions() throws {
    let path = scratch.file("shared.bin")
    let versions = [Data(repeating: 0xAA, count: 300_000), Data(repeating: 0x55, count: 200_000)]
    try AtomicFile.write(versions[0], to: path)
    let done = DispatchSemaphore(value: 0)
    let writerFailure = LockedBox<String?>(nil)
    DispatchQueue.global().async {
      for round in 0..<60 {
        do {
          try AtomicFile.write(versions[round % 2], to: path)
        } catch {
          writerFailure.value = "\(error)"
        }
      }
      done.signal()
    }
    var reads = 0
    while done.wait(timeout: .now()) == .timedOut {
      let seen = try AtomicFile.readAll(path)
      XCTAssertTrue(versions.contains(seen), "read \(seen.count) bytes that match neither version")
      reads += 1
    }
    XCTAssertNil(writerFailure.value)
    XCTAssertGreaterThan(reads, 0)
    XCTAssertEqual(try scratch.contents(), ["shared.bin"])
  }

  func testFailedRenameKeepsDestinationAndRemovesTemporaryFile() throws {
    let path = scratch.file("occupied")
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    try FileManager.default.createDirectory(atPath: path + "/inside", withIntermediateDirectories: false)
    assertReaderError(try AtomicFile.write(Data([1]), to: path), file: path, contains: "cannot replace")
    XCTAssertEqual(try scratch.contents(), ["occupied"])
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: path), ["inside"])
  }

  func testWriteIntoMissingDirectoryNamesThePath() {
    let path = scratch.file("no-such-directory/out.npy")
    assertReaderError(try AtomicFile.write(Data([1]), to: path), file: path, contains: "No such file or directory")
  }

  func testReadAllOfMissingFileSaysCannotOpen() {
    let path = scratch.file("absent.npy")
    assertReaderError(try AtomicFile.readAll(path), file: path, contains: "cannot open: No such file or directory")
  }

  func testReadAllOfDirectoryFails() {
    assertReaderError(try AtomicFile.readAll(scratch.path), file: scratch.path, contains: "Is a directory")
  }

  func testRelativePathWritesIntoCurrentDirectory() throws {
    let previous = FileManager.default.currentDirectoryPath
    XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(scratch.path))
    defer { _ = FileManager.default.changeCurrentDirectoryPath(previous) }
    try AtomicFile.write(Data([4, 2]), to: "relative.bin")
    XCTAssertEqual(try AtomicFile.readAll(scratch.file("relative.bin")), Data([4, 2]))
    XCTAssertEqual(try scratch.contents(), ["relative.bin"])
  }
}

/// A value shared between a test and a background thread.
final class LockedBox<Value>: @unchecked Sendable {
  private let lock = NSLock()
  private var stored: Value

  init(_ value: Value) {
    stored = value
  }

  var value: Value {
    get { lock.withLock { stored } }
    set { lock.withLock { stored = newValue } }
  }
}
