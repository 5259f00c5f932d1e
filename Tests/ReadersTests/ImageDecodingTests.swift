import CJPEG
import CZlib
import Foundation
import Readers
import XCTest

/// A PNG built chunk by chunk (zlib for IDAT and the CRCs), so bit depths and
/// colour types the tests need are exact. `rows` are the raw scanlines
/// without filter bytes.
func pngBytes(width: Int, height: Int, bitDepth: UInt8, colourType: UInt8, rows: [UInt8], palette: [UInt8]? = nil) -> Data {
  func bigEndian(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value.bigEndian) { Array($0) } }
  func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
    let typed = Array(type.utf8) + body
    let crc = typed.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, UInt32($0.count))) }
    return bigEndian(UInt32(body.count)) + typed + bigEndian(crc)
  }
  let header = bigEndian(UInt32(width)) + bigEndian(UInt32(height)) + [bitDepth, colourType, 0, 0, 0]
  let stride = rows.count / max(height, 1)
  var raw: [UInt8] = []
  // A header-only file (rows empty) gets an empty IDAT.
  for y in 0..<(rows.isEmpty ? 0 : height) { raw += [0] + rows[(y * stride)..<((y + 1) * stride)] }
  var compressedCount = compressBound(UInt(raw.count))
  var compressed = [UInt8](repeating: 0, count: Int(compressedCount))
  _ = compress(&compressed, &compressedCount, raw, UInt(raw.count))
  var file: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", header)
  if let palette { file += chunk("PLTE", palette) }
  file += chunk("IDAT", Array(compressed.prefix(Int(compressedCount)))) + chunk("IEND", [])
  return Data(file)
}

/// A baseline JPEG of `pixels` `[H, W, C]` (C 1 or 3) at quality 100, from libjpeg.
func jpegBytes(width: Int, height: Int, channels: Int, pixels: [UInt8]) -> Data {
  var compressor = jpeg_compress_struct()
  var errorManager = jpeg_error_mgr()
  compressor.err = jpeg_std_error(&errorManager)
  jpeg_CreateCompress(&compressor, JPEG_LIB_VERSION, MemoryLayout<jpeg_compress_struct>.size)
  var buffer: UnsafeMutablePointer<UInt8>? = nil
  var size: UInt = 0
  jpeg_mem_dest(&compressor, &buffer, &size)
  compressor.image_width = JDIMENSION(width)
  compressor.image_height = JDIMENSION(height)
  compressor.input_components = Int32(channels)
  compressor.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB
  jpeg_set_defaults(&compressor)
  jpeg_set_quality(&compressor, 100, 1)
  jpeg_start_compress(&compressor, 1)
  var copy = pixels
  copy.withUnsafeMutableBufferPointer { samples in
    while compressor.next_scanline < compressor.image_height {
      var row: UnsafeMutablePointer<UInt8>? = samples.baseAddress! + Int(compressor.next_scanline) * width * channels
      jpeg_write_scanlines(&compressor, &row, 1)
    }
  }
  jpeg_finish_compress(&compressor)
  let data = Data(bytes: buffer!, count: Int(size))
  free(buffer)
  jpeg_destroy_compress(&compressor)
  return data
}

final class ImageDecodingTests: XCTestCase {
  func decode(_ data: Data) throws -> DecodedImage { try ImageDecoder.decode(data, name: "picture") }

  func assertFails(_ data: Data, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertThrowsError(try decode(data), file: file, line: line) { error in
      guard let error = error as? ReaderError else { return XCTFail("not a ReaderError: \(error)", file: file, line: line) }
      XCTAssertEqual(error.file, "picture", file: file, line: line)
      XCTAssertTrue(error.problem.contains(expected), "\(error.problem) lacks \(expected)", file: file, line: line)
      XCTAssertFalse(error.description.contains("\n"), file: file, line: line)
    }
  }

  func testPNGColourTypesAndDepths() throws {
    // 8-bit gray 2×1.
    var image = try decode(pngBytes(width: 2, height: 1, bitDepth: 8, colourType: 0, rows: [0, 255]))
    XCTAssertEqual([image.width, image.height, image.channels], [2, 1, 1])
    XCTAssertEqual(image.pixels, [0, 1])
    // 16-bit gray: all 16 bits kept (PNG16Tests has the rest).
    image = try decode(pngBytes(width: 1, height: 1, bitDepth: 16, colourType: 0, rows: [0x80, 0x00]))
    XCTAssertEqual(image.pixels[0], 32768 / 65535)
    // 8-bit RGBA: alpha dropped, colour kept.
    image = try decode(pngBytes(width: 1, height: 1, bitDepth: 8, colourType: 6, rows: [51, 102, 204, 0]))
    XCTAssertEqual(image.channels, 3)
    XCTAssertEqual(image.pixels, [51, 102, 204].map { Float($0) / 255 })
    // 8-bit RGB 1×2.
    image = try decode(pngBytes(width: 1, height: 2, bitDepth: 8, colourType: 2, rows: [1, 2, 3, 4, 5, 6]))
    XCTAssertEqual(image.pixels, [1, 2, 3, 4, 5, 6].map { Float($0) / 255 })
    // 2-bit palette.
    image = try decode(pngBytes(width: 2, height: 1, bitDepth: 2, colourType: 3, rows: [0b0100_0000], palette: [10, 20, 30, 40, 50, 60]))
    XCTAssertEqual(image.pixels, [40, 50, 60, 10, 20, 30].map { Float($0) / 255 })
  }

  func testBadPNGs() {
    let good = pngBytes(width: 4, height: 4, bitDepth: 8, colourType: 0, rows: [UInt8](repeating: 7, count: 16))
    assertFails(good.prefix(good.count - 20), "PNG")
    assertFails(good.prefix(30), "PNG")
    assertFails(pngBytes(width: 0, height: 0, bitDepth: 8, colourType: 0, rows: []), "PNG")
    // A hostile header: 2^31−1 square pixels, refused before any allocation.
    assertFails(pngBytes(width: 0x7FFF_FFFF, height: 0x7FFF_FFFF, bitDepth: 8, colourType: 0, rows: []), "PNG")
  }

  func testJPEGGrayAndColour() throws {
    let gray = try decode(jpegBytes(width: 8, height: 8, channels: 1, pixels: [UInt8](repeating: 100, count: 64)))
    XCTAssertEqual([gray.width, gray.height, gray.channels], [8, 8, 1])
    for value in gray.pixels { XCTAssertEqual(value, 100 / 255, accuracy: 1.5 / 255) }
    let colour = try decode(jpegBytes(width: 16, height: 8, channels: 3, pixels: (0..<(16 * 8)).flatMap { _ in [200, 40, 90] }))
    XCTAssertEqual([colour.width, colour.height, colour.channels], [16, 8, 3])
    for (index, value) in colour.pixels.enumerated() {
      XCTAssertEqual(value, Float([200, 40, 90][index % 3]) / 255, accuracy: 4 / 255)
    }
  }

  func testBadJPEGs() {
    let good = jpegBytes(width: 32, height: 32, channels: 3, pixels: (0..<(32 * 32 * 3)).map { UInt8($0 % 251) })
    // Truncated inside the entropy-coded data: libjpeg warns and pads; we refuse.
    assertFails(good.prefix(good.count / 2), "truncated JPEG")
    // Truncated inside the header: a fatal libjpeg error, caught on its thread.
    assertFails(good.prefix(40), "JPEG")
    // A corrupt marker right after SOI.
    var corrupt = good
    corrupt.replaceSubrange(3..<8, with: [0x01, 0xFF, 0x00, 0x00, 0x00])
    assertFails(corrupt, "JPEG")
    // Repeated failures leave the process healthy.
    for _ in 0..<20 { assertFails(good.prefix(40), "JPEG") }
  }

  func testPNMFormats() throws {
    var image = try decode(Data("P2\n# a comment\n3 1\n4\n0 2 4\n".utf8))
    XCTAssertEqual(image.pixels, [0, 0.5, 1])
    image = try decode(Data("P3 1 1 255 255 0 51\n".utf8))
    XCTAssertEqual(image.pixels, [1, 0, 0.2])
    image = try decode(Data("P5 2 1 255\n".utf8 + [0, 255]))
    XCTAssertEqual(image.pixels, [0, 1])
    image = try decode(Data("P5 1 1 65535\n".utf8 + [0x80, 0x00]))
    XCTAssertEqual(image.pixels[0], 32768 / 65535, accuracy: 1e-7)
    image = try decode(Data("P6 1 1 255\n".utf8 + [255, 0, 51]))
    XCTAssertEqual([image.channels], [3])
    XCTAssertEqual(image.pixels, [1, 0, 0.2])
  }

  func testBadPNMs() {
    assertFails(Data("P5 abc 1 255\n".utf8), "bad P5")
    assertFails(Data("P5 0 0 255\n".utf8), "0×0")
    assertFails(Data("P5 2 2 255\n".utf8 + [1, 2, 3]), "truncated P5")
    assertFails(Data("P2 2 1 3\n1 9\n".utf8), "above maxval")
    assertFails(Data("P6 1 1 70000\n".utf8), "maxval")
    assertFails(Data("P5 100000 100000 255\n".utf8), "pixels accepted")
  }

  func testNPYImages() throws {
    let path = FileManager.default.temporaryDirectory.path + "/image-\(UUID().uuidString).npy"
    defer { try? FileManager.default.removeItem(atPath: path) }
    try NPYArray(shape: [1, 2, 4], values: [0.1, 0.2, 0.3, 1, 0.4, 0.5, 0.6, 1]).write(to: path)
    let image = try ImageDecoder.read(path: path)
    XCTAssertEqual([image.width, image.height, image.channels], [2, 1, 3])
    XCTAssertEqual(image.pixels, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    // An 8-bit array is scaled by 1/255.
    var header = "{'descr': '|u1', 'fortran_order': False, 'shape': (1, 2), }"
    while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
    header += "\n"
    let u8 = Data([0x93] + Array("NUMPY".utf8) + [1, 0] + littleEndianBytes(UInt16(header.utf8.count)) + Array(header.utf8) + [0, 255])
    XCTAssertEqual(try decode(u8).pixels, [0, 1])
  }

  func testBadNPYImages() throws {
    assertFails(NPYArray(shape: [2, 2, 2, 2], values: [Float](repeating: 0, count: 16)).serialized(), "[H, W]")
    assertFails(NPYArray(shape: [1, 2], values: [0, .nan]).serialized(), "NaN")
    assertFails(NPYArray(shape: [0, 3], values: []).serialized(), "0")
  }

  func testUnknownAndEmpty() {
    assertFails(Data(), "empty")
    assertFails(Data("GIF89a".utf8), "unknown image format")
  }
}
