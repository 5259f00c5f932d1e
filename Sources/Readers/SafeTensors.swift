import Foundation
import Kernels

/// An element type of the safetensors format, spelled as in the header's `"dtype"`.
///
/// The list follows the reference implementation (huggingface/safetensors 0.8).
/// Every type is accepted when a file is opened, so a checkpoint with some
/// float8 tensors still opens; only `convertsToFloat` types can be read as Float.
public enum SafeTensorsDType: String, CaseIterable, Sendable {
  case bool = "BOOL"
  case u8 = "U8"
  case i8 = "I8"
  case i16 = "I16"
  case u16 = "U16"
  case f16 = "F16"
  case bf16 = "BF16"
  case i32 = "I32"
  case u32 = "U32"
  case f32 = "F32"
  case i64 = "I64"
  case u64 = "U64"
  case f64 = "F64"
  case c64 = "C64"
  case f8E5M2 = "F8_E5M2"
  case f8E4M3 = "F8_E4M3"
  case f8E8M0 = "F8_E8M0"
  case f8E4M3FNUZ = "F8_E4M3FNUZ"
  case f8E5M2FNUZ = "F8_E5M2FNUZ"
  case f6E2M3 = "F6_E2M3"
  case f6E3M2 = "F6_E3M2"
  case f4 = "F4"

  /// Bits per element; the sub-byte types (F4, F6) pack elements without padding.
  public var bitWidth: Int {
    switch self {
    case .f4: 4
    case .f6E2M3, .f6E3M2: 6
    case .bool, .u8, .i8, .f8E5M2, .f8E4M3, .f8E8M0, .f8E4M3FNUZ, .f8E5M2FNUZ: 8
    case .i16, .u16, .f16, .bf16: 16
    case .i32, .u32, .f32: 32
    case .i64, .u64, .f64, .c64: 64
    }
  }

  /// Bytes per element, or nil for the sub-byte types.
  public var byteSize: Int? { bitWidth % 8 == 0 ? bitWidth / 8 : nil }

  /// Whether `SafeTensorsFile.floats` can convert this type. Integers beyond
  /// ±2^24 and F64 values lose precision in the conversion, as any cast to Float does.
  public var convertsToFloat: Bool {
    switch self {
    case .bool, .u8, .i8, .i16, .u16, .f16, .bf16, .i32, .u32, .f32, .i64, .u64, .f64: true
    case .c64, .f8E5M2, .f8E4M3, .f8E8M0, .f8E4M3FNUZ, .f8E5M2FNUZ, .f6E2M3, .f6E3M2, .f4: false
    }
  }

  /// Converts `count` little-endian elements at `source` (any alignment) to Float.
  func decode(_ source: UnsafeRawPointer, count: Int, into destination: UnsafeMutablePointer<Float>) {
    switch self {
    case .f32: decodeEach(source, count, destination, UInt32.self) { Float(bitPattern: $0) }
    case .f64: decodeEach(source, count, destination, UInt64.self) { Float(Double(bitPattern: $0)) }
    case .f16: decodeEach(source, count, destination, UInt16.self, floatFromHalf)
    case .bf16: decodeEach(source, count, destination, UInt16.self) { Float(bitPattern: UInt32($0) << 16) }
    case .i64: decodeEach(source, count, destination, Int64.self) { Float($0) }
    case .u64: decodeEach(source, count, destination, UInt64.self) { Float($0) }
    case .i32: decodeEach(source, count, destination, Int32.self) { Float($0) }
    case .u32: decodeEach(source, count, destination, UInt32.self) { Float($0) }
    case .i16: decodeEach(source, count, destination, Int16.self) { Float($0) }
    case .u16: decodeEach(source, count, destination, UInt16.self) { Float($0) }
    case .i8: decodeEach(source, count, destination, Int8.self) { Float($0) }
    case .u8: decodeEach(source, count, destination, UInt8.self) { Float($0) }
    case .bool: decodeEach(source, count, destination, UInt8.self) { $0 == 0 ? 0 : 1 }
    case .c64, .f8E5M2, .f8E4M3, .f8E8M0, .f8E4M3FNUZ, .f8E5M2FNUZ, .f6E2M3, .f6E3M2, .f4:
      preconditionFailure("\(rawValue) does not convert to Float; check convertsToFloat first")
    }
  }
}

/// Loads `count` little-endian `Raw` values from `source` without assuming
/// alignment (other writers need not align the data section) and maps each to Float.
@inline(__always)
func decodeEach<Raw: FixedWidthInteger>(
  _ source: UnsafeRawPointer, _ count: Int, _ destination: UnsafeMutablePointer<Float>,
  _ raw: Raw.Type, _ convert: (Raw) -> Float
) {
  for index in 0..<count {
    let bits = Raw(littleEndian: source.loadUnaligned(fromByteOffset: index * MemoryLayout<Raw>.size, as: Raw.self))
    destination[index] = convert(bits)
  }
}

/// An IEEE 754 binary16 bit pattern as Float (exact: every half is a float).
///
/// Bit manipulation rather than `Float16`, which is missing on some platforms:
/// the 5-bit exponent (bias 15) is rebiased to 8 bits (bias 127), the 10-bit
/// mantissa shifted up by 13; subnormals are `mantissa × 2⁻²⁴`.
func floatFromHalf(_ bits: UInt16) -> Float {
  let sign = UInt32(bits & 0x8000) << 16
  let exponent = UInt32(bits >> 10) & 0x1F
  let mantissa = UInt32(bits & 0x3FF)
  switch exponent {
  case 0:
    let magnitude = Float(mantissa) * 0x1p-24
    return sign == 0 ? magnitude : -magnitude
  case 0x1F:
    return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13)
  default:
    return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13)
  }
}

/// A Hugging Face safetensors file, opened for reading.
///
/// Layout: an 8-byte little-endian `UInt64` header length N; N bytes of UTF-8
/// JSON (possibly padded with trailing spaces) mapping each tensor name to
/// `{"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}`, plus an
/// optional `"__metadata__"` object of strings; then the data section, where
/// each tensor is raw little-endian C-order bytes at `begin..<end`, counted
/// from the first byte after the header.
/// Reference: https://huggingface.co/docs/safetensors (format section).
///
/// The whole header is validated on open, so every later read is in bounds.
public struct SafeTensorsFile: Sendable {
  /// One tensor's header entry.
  public struct Entry: Equatable, Sendable {
    public var name: String
    public var dtype: SafeTensorsDType
    /// Dimensions, outermost first; `[]` is a scalar.
    public var shape: [Int]
    /// The tensor's bytes, relative to the start of the data section.
    public var byteRange: Range<Int>
    /// The number of elements, the product of `shape`.
    public var count: Int { shape.reduce(1, *) }
  }

  /// Headers longer than this are refused, as the reference implementation does,
  /// so a corrupt length cannot make us parse (or allocate for) gigabytes.
  public static let maximumHeaderLength = 100_000_000

  /// The path (or name) the file was opened with, used in every error.
  public let file: String
  /// The `__metadata__` strings; empty when the file has none.
  public let metadata: [String: String]
  /// The tensor names, sorted.
  public let names: [String]
  private let entries: [String: Entry]
  private let bytes: FileBytes
  private let dataStart: Int

  /// Opens and validates the file at `path` by mapping it; `-` reads standard input.
  public init(path: String) throws {
    try self.init(bytes: FileBytes(path: path), file: path)
  }

  /// The SHA-256 of the whole file as opened (64 hex digits): the bytes read
  /// are the bytes named, even if the file is replaced on disk meanwhile.
  public func sha256() -> String { SHA256.hexDigest(bytes.buffer) }

  /// Validates `data` as a safetensors file; `name` stands for it in errors.
  public init(data: Data, name: String) throws {
    try self.init(bytes: FileBytes(copying: data), file: name)
  }

  private init(bytes: FileBytes, file: String) throws {
    self.bytes = bytes
    self.file = file
    let all = bytes.buffer
    guard all.count >= 8 else {
      throw ReaderError(file: file, "file is \(all.count) bytes, too short for the 8-byte header length")
    }
    let declaredLength = UInt64(littleEndian: all.loadUnaligned(as: UInt64.self))
    guard declaredLength <= UInt64(Self.maximumHeaderLength) else {
      throw ReaderError(
        file: file, "header length \(declaredLength) exceeds the \(Self.maximumHeaderLength)-byte (100 MB) limit")
    }
    let headerLength = Int(declaredLength)
    guard headerLength <= all.count - 8 else {
      throw ReaderError(
        file: file, "header length \(headerLength) runs past the end of the file (\(all.count - 8) bytes follow it)")
    }
    let header = UnsafeRawBufferPointer(rebasing: all[8..<(8 + headerLength)])
    dataStart = 8 + headerLength
    let dataLength = all.count - dataStart

    guard String(validating: header, as: UTF8.self) != nil else {
      throw ReaderError(file: file, "header is not valid UTF-8")
    }
    let json: JSONValue
    do {
      json = try JSONValue.parse(header)
    } catch {
      throw ReaderError(file: file, "header is not valid JSON: \(error.reason)")
    }
    guard case .object(let members) = json else {
      throw ReaderError(file: file, "header is \(json.typeName), expected a JSON object")
    }

    var metadata: [String: String] = [:]
    var entries: [String: Entry] = [:]
    // Sorted, so that a file with several faults always reports the same one.
    for key in members.keys.sorted() {
      if key == "__metadata__" {
        metadata = try Self.parseMetadata(members[key]!, file: file)
      } else {
        entries[key] = try Self.parseEntry(key, members[key]!, dataLength: dataLength, file: file)
      }
    }
    try Self.checkNoOverlap(entries.values, file: file)
    self.metadata = metadata
    self.entries = entries
    names = entries.keys.sorted()
  }

  /// The header entry for `name`, or nil when the file has no such tensor.
  public func info(_ name: String) -> Entry? {
    entries[name]
  }

  /// The tensor's elements converted to Float, in C order.
  public func floats(_ name: String) throws -> [Float] {
    let entry = try convertibleEntry(name)
    return [Float](unsafeUninitializedCapacity: entry.count) { buffer, initialized in
      if let destination = buffer.baseAddress {
        entry.dtype.decode(bytes.base + dataStart + entry.byteRange.lowerBound, count: entry.count, into: destination)
      }
      initialized = entry.count
    }
  }

  /// The tensor converted to Float, with its shape (`[]` for a scalar).
  public func tensor(_ name: String) throws -> Tensor {
    let entry = try convertibleEntry(name)
    let result = Tensor(shape: entry.shape)
    entry.dtype.decode(bytes.base + dataStart + entry.byteRange.lowerBound, count: entry.count, into: result.data)
    return result
  }

  private func convertibleEntry(_ name: String) throws -> Entry {
    guard let entry = entries[name] else {
      throw ReaderError(file: file, "no tensor named \(JSONValue.quoted(name)) (the file has \(entries.count) tensors)")
    }
    guard entry.dtype.convertsToFloat else {
      throw ReaderError(
        file: file,
        "tensor \(JSONValue.quoted(name)) has unsupported dtype \(entry.dtype.rawValue) (no Float conversion)")
    }
    return entry
  }

  private static func parseMetadata(_ value: JSONValue, file: String) throws -> [String: String] {
    switch value {
    case .null:
      return [:]
    case .object(let members):
      return try members.mapValues { member in
        guard case .string(let text) = member else {
          throw ReaderError(file: file, "__metadata__ must be an object of strings, found \(member.typeName)")
        }
        return text
      }
    default:
      throw ReaderError(file: file, "__metadata__ must be an object of strings, found \(value.typeName)")
    }
  }

  private static func parseEntry(_ name: String, _ value: JSONValue, dataLength: Int, file: String) throws -> Entry {
    let tensor = "tensor \(JSONValue.quoted(name))"
    func fail(_ problem: String) -> ReaderError { ReaderError(file: file, "\(tensor): \(problem)") }
    guard case .object(let fields) = value else {
      throw fail("entry is \(value.typeName), expected an object")
    }
    func field(_ key: String) throws -> JSONValue {
      guard let member = fields[key] else { throw fail("missing \"\(key)\"") }
      return member
    }
    func naturals(_ key: String) throws -> [Int] {
      let member = try field(key)
      guard case .array(let elements) = member else {
        throw fail("\"\(key)\" is \(member.typeName), expected an array")
      }
      return try elements.map { element in
        guard case .integer(let number) = element, number >= 0 else {
          throw fail("\"\(key)\" entry \(describe(element)) is not a non-negative integer")
        }
        return number
      }
    }

    let dtypeField = try field("dtype")
    guard case .string(let dtypeName) = dtypeField else {
      throw fail("\"dtype\" is \(dtypeField.typeName), expected a string")
    }
    guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
      throw fail("unknown dtype \(JSONValue.quoted(dtypeName))")
    }
    let shape = try naturals("shape")
    let offsets = try naturals("data_offsets")
    guard offsets.count == 2 else {
      throw fail("\"data_offsets\" has \(offsets.count) entries, expected [begin, end]")
    }
    let (begin, end) = (offsets[0], offsets[1])
    guard begin <= end else {
      throw fail("data_offsets [\(begin), \(end)] begin after end")
    }
    guard end <= dataLength else {
      throw fail("data_offsets end \(end) is beyond the \(dataLength)-byte data section")
    }
    var bits = dtype.bitWidth
    for dimension in shape {
      let (product, overflow) = bits.multipliedReportingOverflow(by: dimension)
      guard !overflow else { throw fail("shape \(shape) of \(dtype.rawValue) overflows the byte count") }
      bits = product
    }
    guard bits % 8 == 0 else {
      throw fail("shape \(shape) of \(dtype.rawValue) does not fill a whole number of bytes")
    }
    guard bits / 8 == end - begin else {
      throw fail("shape \(shape) of \(dtype.rawValue) needs \(bits / 8) bytes but data_offsets span \(end - begin)")
    }
    return Entry(name: name, dtype: dtype, shape: shape, byteRange: begin..<end)
  }

  /// Two tensors sharing bytes would alias each other, which no writer means to do.
  private static func checkNoOverlap(_ entries: some Sequence<Entry>, file: String) throws {
    let ordered = entries.filter { !$0.byteRange.isEmpty }.sorted { $0.byteRange.lowerBound < $1.byteRange.lowerBound }
    for (previous, next) in zip(ordered, ordered.dropFirst())
    where next.byteRange.lowerBound < previous.byteRange.upperBound {
      throw ReaderError(
        file: file,
        "tensors \(JSONValue.quoted(previous.name)) and \(JSONValue.quoted(next.name)) overlap "
          + "(bytes \(previous.byteRange) and \(next.byteRange))")
    }
  }
}

/// How a JSON value reads in an error message: numbers and strings as written.
private func describe(_ value: JSONValue) -> String {
  switch value {
  case .integer(let number): String(number)
  case .number(let number): String(number)
  case .string(let text): JSONValue.quoted(text)
  default: value.typeName
  }
}

/// Builds a safetensors file of F32 tensors.
///
/// Tensors are laid out back to back in sorted-name order with no gaps (the
/// reference reader refuses gaps), and the header is padded with spaces so the
/// data section starts 8-byte aligned; every F32 tensor is then 4-byte aligned.
public struct SafeTensorsWriter {
  private var tensors: [String: (shape: [Int], values: [Float])] = [:]

  public init() {}

  /// Adds a tensor; `floats` must hold the product of `shape` values in C order.
  public mutating func add(_ name: String, shape: [Int], floats: [Float]) {
    precondition(name != "__metadata__", "safetensors reserves the name __metadata__")
    precondition(tensors[name] == nil, "tensor \(name) added twice")
    precondition(shape.allSatisfy { $0 >= 0 }, "tensor \(name) has a negative dimension in \(shape)")
    precondition(shape.reduce(1, *) == floats.count, "tensor \(name): \(floats.count) values do not fill \(shape)")
    tensors[name] = (shape, floats)
  }

  /// Adds a copy of `floats` (the buffer need not outlive this call).
  public mutating func add(_ name: String, shape: [Int], floats: UnsafeBufferPointer<Float>) {
    add(name, shape: shape, floats: Array(floats))
  }

  /// Adds a copy of `tensor` under `name`.
  public mutating func add(_ name: String, tensor: Tensor) {
    add(name, shape: tensor.shape, floats: UnsafeBufferPointer(tensor.buffer))
  }

  /// The complete file: length, padded header, data.
  public func serialized(metadata: [String: String] = [:]) -> Data {
    let names = tensors.keys.sorted()
    var members: [String] = []
    if !metadata.isEmpty {
      let pairs = metadata.keys.sorted().map { "\(JSONValue.quoted($0)):\(JSONValue.quoted(metadata[$0]!))" }
      members.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
    }
    var offset = 0
    for name in names {
      let (shape, values) = tensors[name]!
      let end = offset + values.count * MemoryLayout<Float>.size
      let dimensions = shape.map(String.init).joined(separator: ",")
      members.append(
        "\(JSONValue.quoted(name)):{\"dtype\":\"F32\",\"shape\":[\(dimensions)],\"data_offsets\":[\(offset),\(end)]}")
      offset = end
    }
    var header = Array("{\(members.joined(separator: ","))}".utf8)
    header += repeatElement(UInt8(ascii: " "), count: (8 - (8 + header.count) % 8) % 8)

    var data = Data(count: 8 + header.count + offset)
    data.withUnsafeMutableBytes { (output: UnsafeMutableRawBufferPointer) in
      output.storeBytes(of: UInt64(header.count).littleEndian, as: UInt64.self)
      output.baseAddress!.advanced(by: 8).copyMemory(from: header, byteCount: header.count)
      var position = 8 + header.count
      for name in names {
        for value in tensors[name]!.values {
          output.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: position, as: UInt32.self)
          position += 4
        }
      }
    }
    return data
  }

  /// Writes `serialized(metadata:)` to `path` atomically; `-` writes to standard output.
  public func write(to path: String, metadata: [String: String] = [:]) throws {
    try AtomicFile.write(serialized(metadata: metadata), to: path)
  }
}
