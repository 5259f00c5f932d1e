import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The bytes of a whole file, memory-mapped when the file allows it, copied
/// into memory otherwise (standard input, pipes, in-memory data).
///
/// Mapping lets a 340 MB checkpoint open in milliseconds: pages are read only
/// when a tensor is converted. The mapping is read-only and private, so the
/// bytes never change under us through this process; truncating the file from
/// outside while it is mapped is not defended against (the OS raises SIGBUS).
/// Immutable after init, hence safe to share between threads.
final class FileBytes: @unchecked Sendable {
  /// The first byte; valid for `count` bytes while this object lives.
  let base: UnsafeRawPointer
  let count: Int
  private let isMapped: Bool

  var buffer: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

  /// A copy of `data`.
  init(copying data: Data) {
    let storage = UnsafeMutableRawPointer.allocate(byteCount: max(data.count, 1), alignment: 64)
    data.withUnsafeBytes { bytes in
      if let source = bytes.baseAddress { storage.copyMemory(from: source, byteCount: bytes.count) }
    }
    base = UnsafeRawPointer(storage)
    count = data.count
    isMapped = false
  }

  /// Maps the regular file at `path`; `-` and other unmappable files are read into memory.
  convenience init(path: String) throws {
    if path == AtomicFile.standardStream {
      self.init(copying: try AtomicFile.readAll(path))
      return
    }
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else {
      throw ReaderError(file: path, "cannot open: \(AtomicFile.errorText())")
    }
    defer { close(descriptor) }
    var status = stat()
    guard fstat(descriptor, &status) == 0 else {
      throw ReaderError(file: path, "cannot stat: \(AtomicFile.errorText())")
    }
    // mmap refuses empty files, and pipes or devices have no fixed size to map.
    guard (status.st_mode & S_IFMT) == S_IFREG, status.st_size > 0 else {
      self.init(copying: try AtomicFile.readAll(from: descriptor, path: path, sizeHint: 0))
      return
    }
    let length = Int(status.st_size)
    guard let mapping = mmap(nil, length, PROT_READ, MAP_PRIVATE, descriptor, 0),
      mapping != UnsafeMutableRawPointer(bitPattern: -1)
    else {
      throw ReaderError(file: path, "cannot map: \(AtomicFile.errorText())")
    }
    self.init(mapping: UnsafeRawPointer(mapping), count: length)
  }

  private init(mapping: UnsafeRawPointer, count: Int) {
    base = mapping
    self.count = count
    isMapped = true
  }

  deinit {
    if isMapped {
      munmap(UnsafeMutableRawPointer(mutating: base), count)
    } else {
      UnsafeMutableRawPointer(mutating: base).deallocate()
    }
  }
}
