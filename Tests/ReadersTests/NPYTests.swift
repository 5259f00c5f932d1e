import Foundation
import Kernels
import Readers
import XCTest

/// Round trips, the exact bytes written, and exact conversions from hand-built files.
final class NPYTests: XCTestCase {
  var scratch: ScratchDirectory!

  override func setUpWithError() throws {
    scratch = try ScratchDirectory()
  }

  override func tearDown() {
    scratch.remove()
  }

  /// A `.npy` file: magic, version, header length of the version's width, header, data.
  func npyBytes(version: UInt8 = 1, header: String, data: [UInt8]) -> Data {
    let length: [UInt8] =
      version == 1 ? littleEndianBytes(UInt16(header.utf8.count)) : littleEndianBytes(UInt32(header.utf8.count))
    return Data([0x93] + Array("NUMPY".utf8) + [version, 0] + length + Array(header.utf8) + data)
  }

  func testRoundTripThroughFilesForEveryRank() throws {
    let arrays = [
      NPYArray(shape: [], values: [-0.0]),
      NPYArray(shape: [5], values: [1, .infinity, Float(bitPattern: 0x7FC0_0001), .leastNonzeroMagnitude, -3]),
      NPYArray(shape: [2, 3], values: [1, 2, 3, 4, 5, 6]),
      NPYArray(shape: [2, 1, 2], values: [0.5, -0.5, 1e30, -1e-30]),
      NPYArray(shape: [0, 3], values: []),
    ]
    for (index, array) in arrays.enumerated() {
      let path = scratch.file("array\(index).npy")
      try array.write(to: path)
      let back = try NPYArray.read(path: path)
      XCTAssertEqual(back.shape, array.shape)
      assertSameBits(back.values, array.values)
    }
    XCTAssertEqual(try scratch.contents(), (0..<arrays.count).map { "array\($0).npy" })
  }

  /// numpy's own layout: version 1.0, `<f4`, the dict with a trailing comma,
  /// space padding and a newline so the data starts at a multiple of 64.
  func testSerializedBytesMatchNumpyLayout() throws {
    let data = NPYArray(shape: [2, 3], values: [1, 2, 3, 4, 5, 6]).serialized()
    XCTAssertEqual(Array(data.prefix(8)), [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])
    let headerLength = Int(data[8]) | Int(data[9]) << 8
    XCTAssertEqual((10 + headerLength) % 64, 0)
    let header = String(decoding: data[10..<(10 + headerLength)], as: UTF8.self)
    let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
    XCTAssertEqual(header, dict + String(repeating: " ", count: headerLength - dict.count - 1) + "\n")
    XCTAssertEqual(Array(data.suffix(from: 10 + headerLength)), littleEndianBytes([1, 2, 3, 4, 5, 6]))
  }

  func testShapeReprUsesPythonTupleSyntax() {
    for (shape, repr) in [([], "()"), ([7], "(7,)"), ([2, 3, 4], "(2, 3, 4)")] {
      let data = NPYArray(shape: shape, values: [Float](repeating: 1, count: shape.reduce(1, *))).serialized()
      XCTAssertTrue(String(decoding: data.prefix(128), as: UTF8.self).contains("'shape': \(repr), }"), repr)
    }
  }

  func testHeaderTooLongForVersion1FallsBackToVersion2() throws {
    let shape = [Int](repeating: 1, count: 30_000)
    let data = NPYArray(shape: shape, values: [4.5]).serialized()
    XCTAssertEqual(data[6], 2)
    let headerLength = data.subdata(in: 8..<12).withUnsafeBytes {
      Int(UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)))
    }
    XCTAssertGreaterThan(headerLength, Int(UInt16.max))
    XCTAssertEqual((12 + headerLength) % 64, 0)
    let back = try NPYArray.read(data: data, name: "long.npy")
    XCTAssertEqual(back.shape, shape)
    XCTAssertEqual(back.values, [4.5])
  }

  func testTensorConversionsKeepShapeAndValues() {
    let tensor = Tensor(shape: [2, 2], values: [1, 2, 3, 4])
    let array = NPYArray(tensor)
    XCTAssertEqual(array.shape, [2, 2])
    XCTAssertEqual(array.values, [1, 2, 3, 4])
    XCTAssertEqual(array.tensor.shape, [2, 2])
    XCTAssertEqual(array.tensor.values, [1, 2, 3, 4])
    XCTAssertEqual(NPYArray(shape: [], values: [9]).tensor.values, [9])
  }

  // MARK: Known bytes: each descr's conversion checked against hand-encoded values

  func testFloat64ConvertsToNearestFloat() throws {
    let values: [Double] = [0.5, -1.25, 0.1, 1e300]
    let data = npyBytes(
      header: "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }\n",
      data: values.flatMap { littleEndianBytes($0.bitPattern) })
    let array = try NPYArray.read(data: data, name: "f8.npy")
    XCTAssertEqual(array.shape, [2, 2])
    assertSameBits(array.values, [0.5, -1.25, Float(0.1 as Double), .infinity])
  }

  func testInt64AndInt32ConvertExactly() throws {
    let int64 = try NPYArray.read(
      data: npyBytes(
        header: "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }\n",
        data: [Int64(-7), 1 << 40, 16_777_216].flatMap(littleEndianBytes)),
      name: "i8.npy")
    XCTAssertEqual(int64.shape, [3])
    XCTAssertEqual(int64.values, [-7, 1_099_511_627_776, 16_777_216])
    let int32 = try NPYArray.read(
      data: npyBytes(
        header: "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }\n",
        data: [Int32.min, 42].flatMap(littleEndianBytes)),
      name: "i4.npy")
    XCTAssertEqual(int32.values, [-2_147_483_648, 42])
  }

  func testHalfAndOneByteTypesConvertExactly() throws {
    func read(_ descr: String, _ shape: String, _ bytes: [UInt8]) throws -> [Float] {
      try NPYArray.read(
        data: npyBytes(header: "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }\n", data: bytes),
        name: "\(descr).npy"
      ).values
    }
    assertSameBits(
      try read("<f2", "(3,)", [UInt16(0x3C00), 0xC000, 0x0001].flatMap(littleEndianBytes)), [1, -2, 0x1p-24])
    XCTAssertEqual(try read("|u1", "(2,)", [0, 255]), [0, 255])
    XCTAssertEqual(try read("|i1", "(2,)", [0x80, 0x7F]), [-128, 127])
    XCTAssertEqual(try read("|b1", "(3,)", [0, 1, 1]), [0, 1, 1])
    XCTAssertEqual(try read("<u2", "(1,)", littleEndianBytes(UInt16(65535))), [65535])
  }

  func testScalarShapeGivesEmptyShapeWithOneValue() throws {
    let array = try NPYArray.read(
      data: npyBytes(
        header: "{'descr': '<f4', 'fortran_order': False, 'shape': (), }\n", data: littleEndianBytes([2.5])),
      name: "scalar.npy")
    XCTAssertEqual(array.shape, [])
    XCTAssertEqual(array.values, [2.5])
  }

  /// Keys in any order, double quotes, no trailing comma, odd spacing, versions 2.0 and 3.0.
  func testHeaderVariantsAreAccepted() throws {
    let headers = [
      "{'shape': (2,), 'fortran_order': False, 'descr': '<f4'}\n",
      "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2,)}   \n",
      "{ 'descr' : '<f4' ,'fortran_order':False,'shape':( 2 , ) , }",
    ]
    for version: UInt8 in [1, 2, 3] {
      for header in headers {
        let array = try NPYArray.read(
          data: npyBytes(version: version, header: header, data: littleEndianBytes([3, -3])), name: "variant.npy")
        XCTAssertEqual(array.shape, [2], header)
        XCTAssertEqual(array.values, [3, -3], header)
      }
    }
  }
}
