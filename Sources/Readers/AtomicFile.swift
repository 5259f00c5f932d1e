import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Whole-file reads and crash-safe whole-file writes; `-` is standard input/output.
///
/// A write goes to `.NAME.tmp-PID-RANDOM` beside the destination, is fsynced,
/// then renamed over it: rename(2) within one directory is atomic, so a reader
/// (or a crash) sees either the old file or the complete new one, never half.
public enum AtomicFile {
  /// The path that means standard input for reads and standard output for writes.
  public static let standardStream = "-"

  /// Replaces the file at `path` with `data` atomically; `-` writes `data` to standard output.
  ///
  /// An existing destination keeps its permission bits; a symbolic link there
  /// is replaced by the file, not followed. On failure the temporary file is
  /// removed and the destination is untouched.
  public static func write(_ data: Data, to path: String) throws {
    if path == standardStream {
      try writeAll(data, to: STDOUT_FILENO, path: path)
      return
    }
    let temporaryPath = temporaryPath(beside: path)
    let descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
    guard descriptor >= 0 else {
      throw ReaderError(file: path, "cannot create temporary file \(temporaryPath): \(errorText())")
    }
    do {
      var existing = stat()
      // A replaced file keeps its permissions (a private checkpoint stays private).
      if stat(path, &existing) == 0, fchmod(descriptor, existing.st_mode & 0o7777) != 0 {
        throw ReaderError(file: path, "cannot copy permissions: \(errorText())")
      }
      try writeAll(data, to: descriptor, path: path)
      guard fsync(descriptor) == 0 else { throw ReaderError(file: path, "cannot sync: \(errorText())") }
    } catch {
      close(descriptor)
      unlink(temporaryPath)
      throw error
    }
    guard close(descriptor) == 0 else {
      let problem = ReaderError(file: path, "cannot close: \(errorText())")
      unlink(temporaryPath)
      throw problem
    }
    guard rename(temporaryPath, path) == 0 else {
      let problem = ReaderError(file: path, "cannot replace: \(errorText())")
      unlink(temporaryPath)
      throw problem
    }
    syncDirectory(containing: path)
  }

  /// The whole content of the file at `path`; `-` reads standard input to its end.
  public static func readAll(_ path: String) throws -> Data {
    if path == standardStream {
      return try readAll(from: STDIN_FILENO, path: path, sizeHint: 0)
    }
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { throw ReaderError(file: path, "cannot open: \(errorText())") }
    defer { close(descriptor) }
    var status = stat()
    let sizeHint = fstat(descriptor, &status) == 0 ? Int(status.st_size) : 0
    return try readAll(from: descriptor, path: path, sizeHint: sizeHint)
  }

  /// Reads until end of file; `sizeHint` only reserves capacity, since pipes
  /// and files that are still growing report no (or a wrong) size.
  static func readAll(from descriptor: Int32, path: String, sizeHint: Int) throws -> Data {
    var data = Data()
    data.reserveCapacity(max(sizeHint, 0))
    let chunkSize = 1 << 20
    let chunk = UnsafeMutableRawPointer.allocate(byteCount: chunkSize, alignment: 16)
    defer { chunk.deallocate() }
    while true {
      let count = read(descriptor, chunk, chunkSize)
      if count == 0 { return data }
      if count < 0 {
        if errno == EINTR { continue }
        throw ReaderError(file: path, "cannot read: \(errorText())")
      }
      data.append(chunk.assumingMemoryBound(to: UInt8.self), count: count)
    }
  }

  /// Writes every byte, resuming after partial writes and signal interruptions.
  private static func writeAll(_ data: Data, to descriptor: Int32, path: String) throws {
    try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
      var offset = 0
      while offset < bytes.count {
        let count = writeSome(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
        if count < 0 {
          if errno == EINTR { continue }
          throw ReaderError(file: path, "cannot write: \(errorText())")
        }
        offset += count
      }
    }
  }

  /// `DIR/.NAME.tmp-PID-RANDOM`: hidden, in the destination's directory so
  /// the rename stays within one file system, unique per process and call.
  private static func temporaryPath(beside path: String) -> String {
    let slash = path.lastIndex(of: "/")
    let directory = slash.map { String(path[...$0]) } ?? ""
    let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
    return "\(directory).\(name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
  }

  /// Makes the rename itself durable. Best effort: the new content is already
  /// in place and complete, so a failure here is no reason to report an error.
  private static func syncDirectory(containing path: String) {
    let directory = path.lastIndex(of: "/").map { String(path[...$0]) } ?? "."
    let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard descriptor >= 0 else { return }
    fsync(descriptor)
    close(descriptor)
  }

  static func errorText() -> String {
    String(cString: strerror(errno))
  }
}

/// write(2), reachable under another name from inside `AtomicFile`, whose
/// own `write` would otherwise shadow it.
private func writeSome(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
  write(descriptor, bytes, count)
}
