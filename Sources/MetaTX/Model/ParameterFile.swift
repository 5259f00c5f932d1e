import Kernels
import Readers

extension ParameterSet {
  /// Copies every parameter from `file`, where each is stored as `prefix + name`.
  /// A missing tensor, a wrong shape or a non-finite value is an error naming
  /// the file and the tensor; other tensors in the file are not looked at.
  public func load(from file: SafeTensorsFile, prefix: String) throws {
    for entry in entries {
      let name = prefix + entry.name
      guard let info = file.info(name) else { throw ReaderError(file: file.file, "missing tensor \(name)") }
      guard info.shape == entry.shape else {
        throw ReaderError(file: file.file, "tensor \(name) has shape \(info.shape), expected \(entry.shape)")
      }
      let values = try file.floats(name)
      guard values.allSatisfy(\.isFinite) else {
        throw ReaderError(file: file.file, "tensor \(name) holds NaN or infinite values")
      }
      values.withUnsafeBufferPointer {
        (self.values.data + entry.offset).update(from: $0.baseAddress!, count: entry.count)
      }
    }
  }

  /// Adds every parameter to `writer` as `prefix + name`.
  public func add(to writer: inout SafeTensorsWriter, prefix: String) {
    for entry in entries {
      writer.add(prefix + entry.name, shape: entry.shape,
        floats: UnsafeBufferPointer(start: values.data + entry.offset, count: entry.count))
    }
  }
}
