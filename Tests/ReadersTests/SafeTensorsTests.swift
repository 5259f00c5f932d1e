import Foundation
import Kernels
import Readers
import XCTest

/// Round trips through the writer and exact conversions from hand-built files.
final class SafeTensorsTests: XCTestCase {
  var scratch: ScratchDirectory!

  override func setUpWithError() throws {
    scratch = try ScratchDirectory()
  }

  override func tearDown() {
    scratch.remove()
  }

  /// Awkward values: signed zero, infinities, a NaN with payload, a subnormal, extremes.
  let specialValues: [Float] = [
    0, -0.0, .infinity, -.infinity, Float(bitPattern: 0x7FC0_1234), .leastNonzeroMagnitude,
    .greatestFiniteMagnitude, -1.5, 3.25,
  ]

  func makeWriter() -> SafeTensorsWriter {
    var writer = SafeTensorsWriter()
    writer.add("encoder.weight", shape: [3, 3], floats: specialValues)
    writer.add("bias", shape: [5], floats: [1, 2, 3, 4, 5])
    writer.add("scale", shape: [], floats: [0.125])
    writer.add("empty", shape: [0, 4], floats: [])
    writer.add("cube", shape: [2, 1, 3], floats: [6, 5, 4, 3, 2, 1])
    return writer
  }

  func testRoundTripThroughFileKeepsNamesShapesBitsAndMetadata() throws {
    let path = scratch.file("model.safetensors")
    let metadata = ["format": "pt", "note": "quotes \" and \\ and\nnewline, ünïcödé 🙂", "": "empty key"]
    try makeWriter().write(to: path, metadata: metadata)

    let file = try SafeTensorsFile(path: path)
    XCTAssertEqual(file.file, path)
    XCTAssertEqual(file.names, ["bias", "cube", "empty", "encoder.weight", "scale"])
    XCTAssertEqual(file.metadata, metadata)
    assertSameBits(try file.floats("encoder.weight"), specialValues)
    assertSameBits(try file.floats("bias"), [1, 2, 3, 4, 5])
    assertSameBits(try file.floats("scale"), [0.125])
    assertSameBits(try file.floats("empty"), [])
    assertSameBits(try file.floats("cube"), [6, 5, 4, 3, 2, 1])
    XCTAssertEqual(file.info("cube")?.shape, [2, 1, 3])
    XCTAssertEqual(file.info("scale")?.shape, [])
    XCTAssertEqual(file.info("empty")?.shape, [0, 4])
    XCTAssertEqual(file.info("bias")?.dtype, .f32)
    XCTAssertNil(file.info("missing"))
    XCTAssertEqual(try scratch.contents(), ["model.safetensors"])
  }

  func testTensorHasShapeAndValues() throws {
    let file = try SafeTensorsFile(data: makeWriter().serialized(), name: "memory")
    let cube = try file.tensor("cube")
    XCTAssertEqual(cube.shape, [2, 1, 3])
    XCTAssertEqual(cube.values, [6, 5, 4, 3, 2, 1])
    let scale = try file.tensor("scale")
    XCTAssertEqual(scale.shape, [])
    XCTAssertEqual(scale.values, [0.125])
  }

  func testWithoutMetadataTheHeaderHasNoMetadataKey() throws {
    let data = makeWriter().serialized()
    let headerLength = Int(data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
    let header = String(decoding: data[8..<(8 + headerLength)], as: UTF8.self)
    XCTAssertFalse(header.contains("__metadata__"))
    XCTAssertEqual(try SafeTensorsFile(data: data, name: "memory").metadata, [:])
  }

  /// The data section starts 8-aligned, the header is padded with spaces, and
  /// the tensors sit back to back in sorted-name order, as the reference reader requires.
  func testLayoutIsAlignedContiguousAndSorted() throws {
    let data = makeWriter().serialized(metadata: ["a": "b"])
    let headerLength = Int(data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
    XCTAssertEqual((8 + headerLength) % 8, 0)
    let header = String(decoding: data[8..<(8 + headerLength)], as: UTF8.self)
    XCTAssertTrue(header.hasPrefix("{"))
    XCTAssertEqual(header.trimmingCharacters(in: .whitespaces).last, "}")

    let file = try SafeTensorsFile(data: data, name: "memory")
    var expectedBegin = 0
    for name in file.names {
      let range = try XCTUnwrap(file.info(name)).byteRange
      XCTAssertEqual(range.lowerBound, expectedBegin, name)
      expectedBegin = range.upperBound
    }
    XCTAssertEqual(8 + headerLength + expectedBegin, data.count)
  }

  func testAddingFromTensorAndBufferMatchesArrays() throws {
    let tensor = Tensor(shape: [2, 2], values: [1, -2, 3, -4])
    let raw: [Float] = [7, 8, 9]
    var writer = SafeTensorsWriter()
    writer.add("from tensor", tensor: tensor)
    raw.withUnsafeBufferPointer { writer.add("from buffer", shape: [3, 1], floats: $0) }
    let file = try SafeTensorsFile(data: writer.serialized(), name: "memory")
    XCTAssertEqual(try file.floats("from tensor"), [1, -2, 3, -4])
    XCTAssertEqual(file.info("from tensor")?.shape, [2, 2])
    XCTAssertEqual(try file.floats("from buffer"), [7, 8, 9])
    XCTAssertEqual(file.info("from buffer")?.shape, [3, 1])
  }

  func testSerializationIsDeterministic() {
    let metadata = ["z": "1", "a": "2", "m": "3"]
    XCTAssertEqual(makeWriter().serialized(metadata: metadata), makeWriter().serialized(metadata: metadata))
  }

  func testMappedFileOutlivesTheStructCopies() throws {
    let path = scratch.file("copy.safetensors")
    try makeWriter().write(to: path)
    var copies: [SafeTensorsFile] = []
    do {
      let file = try SafeTensorsFile(path: path)
      copies.append(file)
    }
    XCTAssertEqual(try copies[0].floats("bias"), [1, 2, 3, 4, 5])
  }

  // MARK: Known bytes: each dtype's conversion checked against hand-encoded values

  /// A file holding one tensor per dtype, encoded by hand. The header length
  /// (not a multiple of 4) leaves the data section unaligned on purpose.
  func knownBytesFile() throws -> SafeTensorsFile {
    let f16: [UInt16] = [0x3C00, 0xC000, 0x7BFF, 0x0001, 0x03FF, 0x3800, 0x7C00, 0x8000, 0x7E00]
    let bf16: [UInt16] = [0x3F80, 0xC000, 0x4049, 0x0000, 0xFF80]
    let f64: [Double] = [0.5, -1.25, 0.1, 1e300]
    let i64: [Int64] = [-3, 1 << 40, 0]
    let i32: [Int32] = [-2_147_483_648, 16_777_216]
    let i16: [Int16] = [-32768, 12345]
    let i8: [Int8] = [-128, 127]
    let u8: [UInt8] = [0, 255]
    let bool: [UInt8] = [0, 1, 2]
    let f32: [Float] = [1.5, -0.25]

    var data: [UInt8] = []
    var fields: [String] = []
    func append(_ name: String, _ dtype: String, _ shape: [Int], _ bytes: [UInt8]) {
      let shapeText = shape.map(String.init).joined(separator: ",")
      fields.append(
        "\"\(name)\": {\"dtype\": \"\(dtype)\", \"shape\": [\(shapeText)], "
          + "\"data_offsets\": [\(data.count), \(data.count + bytes.count)]}")
      data += bytes
    }
    append("f16", "F16", [9], f16.flatMap(littleEndianBytes))
    append("bf16", "BF16", [5], bf16.flatMap(littleEndianBytes))
    append("f64", "F64", [2, 2], f64.flatMap { littleEndianBytes($0.bitPattern) })
    append("i64", "I64", [3], i64.flatMap(littleEndianBytes))
    append("i32", "I32", [2], i32.flatMap(littleEndianBytes))
    append("i16", "I16", [2], i16.flatMap(littleEndianBytes))
    append("i8", "I8", [2], i8.flatMap(littleEndianBytes))
    append("u8", "U8", [2], u8)
    append("bool", "BOOL", [3], bool)
    append("f32", "F32", [2], littleEndianBytes(f32))
    var header = "{" + fields.joined(separator: ", ") + "}"
    while header.utf8.count % 4 != 1 { header += " " }
    return try SafeTensorsFile(data: safetensorsBytes(header: header, data: data), name: "known.safetensors")
  }

  func testF16ConvertsNormalsSubnormalsInfinityAndSignedZeroExactly() throws {
    let values = try knownBytesFile().floats("f16")
    assertSameBits(Array(values[0..<8]), [1, -2, 65504, 0x1p-24, 1023 * 0x1p-24, 0.5, .infinity, -0.0])
    XCTAssertTrue(values[8].isNaN)
  }

  func testBF16IsTheHighHalfOfFloat32() throws {
    assertSameBits(try knownBytesFile().floats("bf16"), [1, -2, 3.140625, 0, -.infinity])
  }

  func testF64RoundsToNearestFloat() throws {
    let file = try knownBytesFile()
    assertSameBits(try file.floats("f64"), [0.5, -1.25, Float(0.1 as Double), .infinity])
    XCTAssertEqual(file.info("f64")?.shape, [2, 2])
    XCTAssertEqual(try file.tensor("f64").shape, [2, 2])
  }

  func testIntegersAndBoolConvertExactly() throws {
    let file = try knownBytesFile()
    XCTAssertEqual(try file.floats("i64"), [-3, 1_099_511_627_776, 0])
    XCTAssertEqual(try file.floats("i32"), [-2_147_483_648, 16_777_216])
    XCTAssertEqual(try file.floats("i16"), [-32768, 12345])
    XCTAssertEqual(try file.floats("i8"), [-128, 127])
    XCTAssertEqual(try file.floats("u8"), [0, 255])
    XCTAssertEqual(try file.floats("bool"), [0, 1, 1])
    XCTAssertEqual(try file.floats("f32"), [1.5, -0.25])
  }

  func testEntryReportsDTypeShapeAndByteRange() throws {
    let entry = try XCTUnwrap(knownBytesFile().info("bf16"))
    XCTAssertEqual(entry.name, "bf16")
    XCTAssertEqual(entry.dtype, .bf16)
    XCTAssertEqual(entry.shape, [5])
    XCTAssertEqual(entry.byteRange, 18..<28)
    XCTAssertEqual(entry.count, 5)
  }

  func testHeaderPaddedWithTrailingSpacesAndEscapedNamesIsRead() throws {
    let header = "{\"caf\\u00e9\\ud83d\\ude00\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}      "
    let file = try SafeTensorsFile(data: safetensorsBytes(header: header, data: littleEndianBytes([2.5])), name: "pad")
    XCTAssertEqual(file.names, ["café😀"])
    XCTAssertEqual(try file.floats("café😀"), [2.5])
  }

  func testNullMetadataMeansNone() throws {
    let header = "{\"__metadata__\": null}"
    XCTAssertEqual(try SafeTensorsFile(data: safetensorsBytes(header: header), name: "null").metadata, [:])
  }

  func testDTypeSizes() {
    XCTAssertEqual(SafeTensorsDType.f32.byteSize, 4)
    XCTAssertEqual(SafeTensorsDType.bf16.byteSize, 2)
    XCTAssertEqual(SafeTensorsDType.f64.byteSize, 8)
    XCTAssertEqual(SafeTensorsDType.bool.byteSize, 1)
    XCTAssertEqual(SafeTensorsDType.c64.byteSize, 8)
    XCTAssertNil(SafeTensorsDType.f4.byteSize)
    XCTAssertEqual(SafeTensorsDType.f4.bitWidth, 4)
    XCTAssertTrue(SafeTensorsDType.i64.convertsToFloat)
    XCTAssertFalse(SafeTensorsDType.f8E4M3.convertsToFloat)
  }

  /// Sub-byte F4 is accepted on open when the packed size matches (3 bytes for 6 elements).
  func testPackedF4OpensButDoesNotConvert() throws {
    let header = "{\"packed\": {\"dtype\": \"F4\", \"shape\": [2, 3], \"data_offsets\": [0, 3]}}"
    let file = try SafeTensorsFile(data: safetensorsBytes(header: header, data: [1, 2, 3]), name: "f4.safetensors")
    XCTAssertEqual(file.info("packed")?.dtype, .f4)
    assertReaderError(try file.floats("packed"), file: "f4.safetensors", contains: "unsupported dtype F4")
  }
}
