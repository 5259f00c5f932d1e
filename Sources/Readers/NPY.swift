import Foundation
import Kernels

/// A NumPy `.npy` array, held as Float in C order.
///
/// Layout: the magic `\x93NUMPY`, one byte major and one byte minor version,
/// the header length (UInt16 little-endian in 1.0, UInt32 in 2.0 and 3.0),
/// then the header: a Python dict literal such as
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }` padded with
/// spaces and ended by `\n` (numpy pads so the data starts 64-byte aligned),
/// then the raw elements. Reference: numpy.lib.format
/// (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html).
///
/// Read: little-endian `<f2 <f4 <f8 <i2 <i4 <i8 <u2 <u4 <u8` and one-byte
/// `|i1 |u1 |b1`, C order only; float64 and integers beyond ±2^24 lose
/// precision in the conversion to Float. Written: `<f4`, version 1.0 unless
/// the header outgrows its 16-bit length, then 2.0.
public struct NPYArray: Equatable, Sendable {
  /// Dimensions, outermost first; `[]` is a scalar holding one value.
  public var shape: [Int]
  /// The elements in C (row-major) order; as many as the product of `shape`.
  public var values: [Float]

  /// An array of `values`, which must have `shape`'s element count.
  public init(shape: [Int], values: [Float]) {
    precondition(shape.allSatisfy { $0 >= 0 }, "NPY shape \(shape) has a negative dimension")
    precondition(shape.reduce(1, *) == values.count, "\(values.count) values do not fill shape \(shape)")
    self.shape = shape
    self.values = values
  }

  /// A copy of `tensor`'s shape and elements.
  public init(_ tensor: Tensor) {
    self.init(shape: tensor.shape, values: tensor.values)
  }

  /// The array as a tensor of the same shape (a copy).
  public var tensor: Tensor { Tensor(shape: shape, values: values) }

  /// Reads the `.npy` file at `path`; `-` reads standard input.
  public static func read(path: String) throws -> NPYArray {
    try read(data: AtomicFile.readAll(path), name: path)
  }

  /// Parses `data` as a `.npy` file; `name` stands for it in errors.
  public static func read(data: Data, name: String) throws -> NPYArray {
    try data.withUnsafeBytes { try parse($0, file: name) }
  }

  /// Writes the array as `<f4` to `path` atomically; `-` writes to standard output.
  public func write(to path: String) throws {
    try AtomicFile.write(serialized(), to: path)
  }

  /// The complete `.npy` file: preamble, padded header, little-endian float32 data.
  public func serialized() -> Data {
    precondition(shape.reduce(1, *) == values.count, "\(values.count) values do not fill shape \(shape)")
    let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': \(Self.shapeRepr(shape)), }"
    var preambleSize = 10
    var header = Self.paddedHeader(dict, preambleSize: preambleSize)
    if header.count > Int(UInt16.max) {
      preambleSize = 12
      header = Self.paddedHeader(dict, preambleSize: preambleSize)
    }
    var data = Data(count: preambleSize + header.count + values.count * MemoryLayout<Float>.size)
    data.withUnsafeMutableBytes { (output: UnsafeMutableRawBufferPointer) in
      output.copyBytes(from: Self.magic)
      output[6] = preambleSize == 10 ? 1 : 2
      output[7] = 0
      if preambleSize == 10 {
        output.storeBytes(of: UInt16(header.count).littleEndian, toByteOffset: 8, as: UInt16.self)
      } else {
        output.storeBytes(of: UInt32(header.count).littleEndian, toByteOffset: 8, as: UInt32.self)
      }
      UnsafeMutableRawBufferPointer(rebasing: output[preambleSize...]).copyBytes(from: header)
      var position = preambleSize + header.count
      for value in values {
        output.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: position, as: UInt32.self)
        position += 4
      }
    }
    return data
  }

  private static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

  /// `dict` plus spaces and `\n`, so that preamble and header end on a 64-byte boundary.
  private static func paddedHeader(_ dict: String, preambleSize: Int) -> [UInt8] {
    let unpadded = preambleSize + dict.utf8.count + 1
    let padding = (64 - unpadded % 64) % 64
    return Array(dict.utf8) + repeatElement(UInt8(ascii: " "), count: padding) + [0x0A]
  }

  /// Python's tuple repr: `()`, `(5,)`, `(2, 3)`.
  static func shapeRepr(_ shape: [Int]) -> String {
    shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
  }

  /// The element types read, by their descr without byte order, each decoded
  /// by the safetensors converter of the same little-endian layout.
  private static let elementTypes: [String: SafeTensorsDType] = [
    "f2": .f16, "f4": .f32, "f8": .f64,
    "i1": .i8, "i2": .i16, "i4": .i32, "i8": .i64,
    "u1": .u8, "u2": .u16, "u4": .u32, "u8": .u64,
    "b1": .bool,
  ]

  private static func parse(_ bytes: UnsafeRawBufferPointer, file: String) throws -> NPYArray {
    func fail(_ problem: String) -> ReaderError { ReaderError(file: file, problem) }

    guard bytes.count >= magic.count, bytes.prefix(magic.count).elementsEqual(magic) else {
      throw fail("not a .npy file (bad magic: expected \\x93NUMPY)")
    }
    guard bytes.count >= 8 else { throw fail("truncated header: the file ends inside the version") }
    let (major, minor) = (bytes[6], bytes[7])
    let lengthFieldSize: Int
    switch (major, minor) {
    case (1, 0): lengthFieldSize = 2
    case (2, 0), (3, 0): lengthFieldSize = 4
    default: throw fail("unsupported .npy version \(major).\(minor) (1.0, 2.0 and 3.0 are read)")
    }
    let headerStart = 8 + lengthFieldSize
    guard bytes.count >= headerStart else { throw fail("truncated header: the file ends inside the header length") }
    let headerLength =
      lengthFieldSize == 2
      ? Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt16.self)))
      : Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self)))
    guard headerLength <= bytes.count - headerStart else {
      throw fail("truncated header: it declares \(headerLength) bytes but only \(bytes.count - headerStart) follow")
    }
    let dataStart = headerStart + headerLength

    let literal: PythonLiteral
    do {
      literal = try PythonLiteral.parse(UnsafeRawBufferPointer(rebasing: bytes[headerStart..<dataStart]))
    } catch {
      throw fail("header is not a parseable Python dict: \(error.reason)")
    }
    guard case .dict(let fields) = literal else {
      throw fail("header is not a parseable Python dict: found \(literal.repr)")
    }
    let expectedKeys: Set = ["descr", "fortran_order", "shape"]
    guard Set(fields.keys) == expectedKeys else {
      let keys = fields.keys.sorted().map { "'\($0)'" }.joined(separator: ", ")
      throw fail("header keys are [\(keys)], expected exactly 'descr', 'fortran_order' and 'shape'")
    }

    let elementType = try parseDescr(fields["descr"]!, fail: fail)
    guard case .bool(let fortranOrder) = fields["fortran_order"]! else {
      throw fail("fortran_order is \(fields["fortran_order"]!.repr), expected True or False")
    }
    guard !fortranOrder else {
      throw fail("fortran_order: True is not supported; save np.ascontiguousarray(a) instead")
    }
    guard case .tuple(let dimensions) = fields["shape"]! else {
      throw fail("shape is \(fields["shape"]!.repr), expected a tuple of non-negative integers")
    }
    let shape = try dimensions.map { dimension in
      guard case .integer(let size) = dimension, size >= 0 else {
        throw fail("shape entry \(dimension.repr) is not a non-negative integer")
      }
      return size
    }

    var count = 1
    for size in shape {
      let (product, overflow) = count.multipliedReportingOverflow(by: size)
      guard !overflow else { throw fail("shape \(shapeRepr(shape)) overflows the element count") }
      count = product
    }
    let elementSize = elementType.byteSize!
    let (expectedBytes, overflow) = count.multipliedReportingOverflow(by: elementSize)
    guard !overflow else { throw fail("shape \(shapeRepr(shape)) overflows the byte count") }
    let foundBytes = bytes.count - dataStart
    guard foundBytes == expectedBytes else {
      let what = foundBytes < expectedBytes ? "data is truncated" : "data has extra bytes (wrong shape?)"
      throw fail(
        "\(what): shape \(shapeRepr(shape)) of \(fields["descr"]!.repr) needs \(expectedBytes) bytes, found \(foundBytes)"
      )
    }

    let values = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
      if let destination = buffer.baseAddress, let source = bytes.baseAddress {
        elementType.decode(source + dataStart, count: count, into: destination)
      }
      initialized = count
    }
    return NPYArray(shape: shape, values: values)
  }

  /// The element type named by a descr string such as `'<f4'`.
  private static func parseDescr(_ descr: PythonLiteral, fail: (String) -> ReaderError) throws -> SafeTensorsDType {
    guard case .string(let text) = descr else {
      if case .list = descr { throw fail("structured dtypes are refused (descr is a list of fields)") }
      throw fail("descr is \(descr.repr), expected a dtype string such as '<f4'")
    }
    let characters = Array(text)
    guard characters.count >= 2, "<>|=".contains(characters[0]) else {
      throw fail("descr '\(text)' is not a dtype string such as '<f4'")
    }
    let byteOrder = characters[0]
    let kind = String(characters[1...])
    if kind.hasPrefix("O") { throw fail("pickled object arrays are refused (descr '\(text)')") }
    if kind.hasPrefix("V") { throw fail("structured dtypes are refused (descr '\(text)')") }
    guard let elementType = elementTypes[kind] else {
      throw fail("unsupported dtype '\(text)' (read: f2 f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1)")
    }
    if elementType.byteSize! > 1 && byteOrder != "<" {
      if byteOrder == ">" {
        throw fail("big-endian data ('\(text)') is not supported; save a.astype('<\(kind)') instead")
      }
      throw fail("byte order '\(byteOrder)' in '\(text)' is not little-endian '<'")
    }
    return elementType
  }
}
