import CPNG
import CZlib
import Foundation
import Readers
import XCTest

// MARK: A plain 16-bit PNG writer, independent of the reader under test

/// A chunk: big-endian length, type, body, CRC-32 of type and body (PNG §5.3).
func pngChunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
  let typed = Array(type.utf8) + body
  let crc = typed.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, UInt32($0.count))) }
  return bigEndianBytes(UInt32(body.count)) + typed + bigEndianBytes(crc)
}

func bigEndianBytes(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value.bigEndian) { Array($0) } }

let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

/// IHDR's body for a 16-bit picture.
func png16Header(width: Int, height: Int, colourType: UInt8, interlaced: Bool = false) -> [UInt8] {
  bigEndianBytes(UInt32(width)) + bigEndianBytes(UInt32(height)) + [16, colourType, 0, 0, interlaced ? 1 : 0]
}

/// Samples per pixel stored for PNG colour type 0, 2, 4 or 6.
func png16StoredChannels(_ colourType: UInt8) -> Int { [0: 1, 2: 3, 4: 2, 6: 4][colourType]! }

/// The filtered scanlines (each a filter byte then the filtered samples) of
/// `samples` `[H, W, C]`, big-endian, pass after pass when `interlaced`.
/// `filter(pass, row)` picks the filter type of each scanline (pass 0 when not interlaced).
func png16Scanlines(
  width: Int, height: Int, channels: Int, samples: [UInt16], interlaced: Bool,
  filter: (Int, Int) -> UInt8
) -> [UInt8] {
  precondition(samples.count == width * height * channels)
  // Adam7 (PNG §8.2): start column, start row, column step, row step.
  let passes = interlaced ? [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)] : [(0, 0, 1, 1)]
  let bytesPerPixel = channels * 2
  var out: [UInt8] = []
  for (passIndex, (x0, y0, dx, dy)) in passes.enumerated() {
    let rows = Array(stride(from: y0, to: height, by: dy)).map { y in
      stride(from: x0, to: width, by: dx).flatMap { x in
        (0..<channels).flatMap { c -> [UInt8] in
          let value = samples[(y * width + x) * channels + c]
          return [UInt8(value >> 8), UInt8(value & 0xFF)]
        }
      }
    }
    // An empty pass contributes nothing, not even filter bytes.
    guard let first = rows.first, !first.isEmpty else { continue }
    for (rowIndex, row) in rows.enumerated() {
      let above = rowIndex > 0 ? rows[rowIndex - 1] : [UInt8](repeating: 0, count: row.count)
      let type = filter(passIndex, rowIndex)
      out.append(type)
      for i in 0..<row.count {
        let a = i >= bytesPerPixel ? Int(row[i - bytesPerPixel]) : 0
        let b = Int(above[i])
        let c = i >= bytesPerPixel ? Int(above[i - bytesPerPixel]) : 0
        let predictor: Int
        switch type {
        case 0: predictor = 0
        case 1: predictor = a
        case 2: predictor = b
        case 3: predictor = (a + b) / 2
        case 4: predictor = paeth(a, b, c).value
        default: predictor = 0  // invalid types are written unfiltered, for the error tests
        }
        out.append(UInt8(truncatingIfNeeded: Int(row[i]) - predictor))
      }
    }
  }
  return out
}

/// The Paeth predictor of PNG §9.4 and which neighbour it picked ("a", "b" or "c").
func paeth(_ a: Int, _ b: Int, _ c: Int) -> (value: Int, picked: Character) {
  let p = a + b - c
  let (pa, pb, pc) = (abs(p - a), abs(p - b), abs(p - c))
  if pa <= pb, pa <= pc { return (a, "a") }
  return pb <= pc ? (b, "b") : (c, "c")
}

/// zlib's `compress` (a zlib stream, RFC 1950).
func zlibCompressed(_ raw: [UInt8]) -> [UInt8] {
  var count = compressBound(UInt(raw.count))
  var compressed = [UInt8](repeating: 0, count: Int(count))
  precondition(compress(&compressed, &count, raw, UInt(raw.count)) == Z_OK)
  return Array(compressed.prefix(Int(count)))
}

/// A whole 16-bit PNG of `samples` `[H, W, stored channels]`.
func png16Bytes(
  width: Int, height: Int, colourType: UInt8, samples: [UInt16], interlaced: Bool = false,
  ancillary: [UInt8] = [], filter: (Int, Int) -> UInt8 = { pass, row in UInt8((pass + row) % 5) }
) -> [UInt8] {
  let raw = png16Scanlines(
    width: width, height: height, channels: png16StoredChannels(colourType), samples: samples, interlaced: interlaced,
    filter: filter)
  return pngSignature + pngChunk("IHDR", png16Header(width: width, height: height, colourType: colourType, interlaced: interlaced))
    + ancillary + pngChunk("IDAT", zlibCompressed(raw)) + pngChunk("IEND", [])
}

/// Deterministic samples spread over the whole 16-bit range (a 64-bit LCG's high bits).
func png16Samples(count: Int, seed: UInt64) -> [UInt16] {
  var state = seed
  return (0..<count).map { _ in
    state = state &* 6364136223846793005 &+ 1442695040888963407
    return UInt16(truncatingIfNeeded: state >> 48)
  }
}

/// The reader's expected output: `samples` without alpha, each / 65535.
func expectedPixels(_ samples: [UInt16], colourType: UInt8) -> [Float] {
  let stored = png16StoredChannels(colourType)
  let kept = colourType == 0 || colourType == 4 ? 1 : 3
  return samples.enumerated().filter { $0.offset % stored < kept }.map { Float($0.element) / 65535 }
}

final class PNG16Tests: XCTestCase {
  func decode(_ bytes: [UInt8]) throws -> DecodedImage { try ImageDecoder.decode(Data(bytes), name: "depth.png") }

  func assertFails(_ bytes: [UInt8], _ phrase: String, line: UInt = #line) {
    assertReaderError(try decode(bytes), file: "depth.png", contains: phrase, line: line)
  }

  /// The chunks of a well-formed file as (type, body), to rebuild it with one part changed.
  func chunks(of file: [UInt8]) -> [(type: String, body: [UInt8])] {
    var result: [(String, [UInt8])] = []
    var position = 8
    while position < file.count {
      let length = file[position..<(position + 4)].reduce(0) { $0 << 8 | Int($1) }
      let type = String(decoding: file[(position + 4)..<(position + 8)], as: UTF8.self)
      result.append((type, Array(file[(position + 8)..<(position + 8 + length)])))
      position += 12 + length
    }
    return result
  }

  func assemble(_ chunks: [(type: String, body: [UInt8])]) -> [UInt8] {
    pngSignature + chunks.flatMap { pngChunk($0.type, $0.body) }
  }

  /// A valid file with its IDAT body replaced by `body` (CRC recomputed).
  func withIDAT(_ file: [UInt8], _ body: [UInt8]) -> [UInt8] {
    assemble(chunks(of: file).map { $0.type == "IDAT" ? ("IDAT", body) : $0 })
  }

  // MARK: Golden values

  /// Samples the old 8-bit path got wrong (0x0001 → 0, 0x8000 → 128/255,
  /// 0xFFFE → 1) next to ones both get right; the expected Floats are
  /// written as literals (each the nearest Float to v / 65535).
  static let goldenSamples: [UInt16] = [0x0000, 0x0001, 0x0101, 0x8000, 0xFFFE, 0xFFFF]
  static let goldenValues: [Float] = [0, 1.5259022e-05, 0.003921569, 0.5000076, 0.99998474, 1]

  func testGoldenGraySamples() throws {
    let image = try decode(png16Bytes(width: 3, height: 2, colourType: 0, samples: Self.goldenSamples))
    XCTAssertEqual([image.width, image.height, image.channels], [3, 2, 1])
    assertSameBits(image.pixels, Self.goldenValues)
    // 0x0101 is exactly 1/255, as the 8-bit path also gives; the others are not multiples of 257.
    XCTAssertEqual(image.pixels[2], Float(1) / 255)
    XCTAssertNotEqual(image.pixels[1], 0)
    XCTAssertNotEqual(image.pixels[4], 1)
  }

  func testGoldenRGBAndRGBASamples() throws {
    let rgb = try decode(png16Bytes(width: 2, height: 1, colourType: 2, samples: Self.goldenSamples))
    XCTAssertEqual([rgb.width, rgb.height, rgb.channels], [2, 1, 3])
    assertSameBits(rgb.pixels, Self.goldenValues)
    // RGBA: the same colours with alpha 0x0000 and 0x1234, which must vanish.
    let rgbaSamples: [UInt16] = Array(Self.goldenSamples[0..<3]) + [0x0000] + Array(Self.goldenSamples[3..<6]) + [0x1234]
    let rgba = try decode(png16Bytes(width: 2, height: 1, colourType: 6, samples: rgbaSamples))
    XCTAssertEqual([rgba.width, rgba.height, rgba.channels], [2, 1, 3])
    assertSameBits(rgba.pixels, Self.goldenValues)
  }

  func testGrayAlphaDropsAlphaAndKeepsStoredGray() throws {
    // Fully transparent pixels keep the gray stored under them (no compositing).
    let samples: [UInt16] = [0x8000, 0x0000, 0x0001, 0xFFFF, 0xFFFE, 0x7FFF]
    let image = try decode(png16Bytes(width: 3, height: 1, colourType: 4, samples: samples))
    XCTAssertEqual([image.width, image.height, image.channels], [3, 1, 1])
    assertSameBits(image.pixels, [0.5000076, 1.5259022e-05, 0.99998474])
  }

  // MARK: Filters and interlacing

  func testEveryFilterTypeAgainstUnfilteredSamples() throws {
    for colourType: UInt8 in [0, 2, 4, 6] {
      let (width, height) = (7, 5)
      let samples = png16Samples(count: width * height * png16StoredChannels(colourType), seed: UInt64(colourType) + 1)
      let expected = expectedPixels(samples, colourType: colourType)
      for filterType: UInt8 in 0...4 {
        let file = png16Bytes(width: width, height: height, colourType: colourType, samples: samples) { _, _ in filterType }
        // The filter must matter: read unfiltered, the bytes would give other samples.
        if filterType != 0 {
          let raw = png16Scanlines(width: width, height: height, channels: png16StoredChannels(colourType), samples: samples, interlaced: false) { _, _ in filterType }
          let stride = raw.count / height
          let filteredBytes: [UInt8] = (0..<height).flatMap { (y: Int) -> ArraySlice<UInt8> in raw[(y * stride + 1)..<((y + 1) * stride)] }
          let sampleBytes: [UInt8] = samples.flatMap { (value: UInt16) -> [UInt8] in [UInt8(value >> 8), UInt8(value & 0xFF)] }
          XCTAssertNotEqual(filteredBytes, sampleBytes, "filter \(filterType) left the bytes as they were")
        }
        let image = try decode(file)
        XCTAssertEqual([image.width, image.height], [width, height])
        assertSameBits(image.pixels, expected)
      }
    }
  }

  func testPaethRowsPickEachNeighbour() throws {
    // The samples of the filter test reach all three Paeth branches (a, b and c), so each is exercised.
    let samples = png16Samples(count: 7 * 5 * 3, seed: 3)
    let bytes = samples.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    let rowBytes = 7 * 6
    var picked: Set<Character> = []
    for y in 1..<5 {
      for i in 6..<rowBytes {
        picked.insert(paeth(Int(bytes[y * rowBytes + i - 6]), Int(bytes[(y - 1) * rowBytes + i]), Int(bytes[(y - 1) * rowBytes + i - 6])).picked)
      }
    }
    XCTAssertEqual(picked, ["a", "b", "c"])
    let image = try decode(png16Bytes(width: 7, height: 5, colourType: 2, samples: samples) { _, _ in 4 })
    assertSameBits(image.pixels, expectedPixels(samples, colourType: 2))
  }

  func testAdam7MatchesNonInterlaced() throws {
    for (width, height) in [(1, 1), (2, 1), (1, 2), (3, 5), (5, 3), (8, 8), (9, 9), (1, 9), (9, 1), (17, 13)] {
      for colourType: UInt8 in [0, 2, 4, 6] {
        let samples = png16Samples(count: width * height * png16StoredChannels(colourType), seed: UInt64(width * 100 + height))
        let plain = try decode(png16Bytes(width: width, height: height, colourType: colourType, samples: samples))
        let interlaced = try decode(png16Bytes(width: width, height: height, colourType: colourType, samples: samples, interlaced: true))
        XCTAssertEqual([interlaced.width, interlaced.height], [width, height])
        assertSameBits(interlaced.pixels, plain.pixels)
        assertSameBits(interlaced.pixels, expectedPixels(samples, colourType: colourType))
      }
    }
    // A 1×1 picture has only Adam7's first pass: one filter byte and one pixel.
    XCTAssertEqual(png16Scanlines(width: 1, height: 1, channels: 1, samples: [7], interlaced: true) { _, _ in 0 }.count, 3)
  }

  func testAgreesWithLibpng() throws {
    // libpng as an independent reference for filtering and Adam7: its
    // simplified API returns 16-bit samples unchanged when the file says it is
    // linear (gAMA 1.0) and the output is linear too.
    let linear = pngChunk("gAMA", bigEndianBytes(100_000))
    for (width, height, colourType) in [(9, 9, UInt8(0)), (13, 6, UInt8(2))] {
      for interlaced in [false, true] {
        let samples = png16Samples(count: width * height * png16StoredChannels(colourType), seed: 11)
        let file = png16Bytes(width: width, height: height, colourType: colourType, samples: samples, interlaced: interlaced, ancillary: linear)
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        XCTAssertEqual(file.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }, 1)
        image.format = PNG_FORMAT_FLAG_LINEAR | (colourType == 0 ? 0 : PNG_FORMAT_FLAG_COLOR)
        var reference = [UInt16](repeating: 0, count: samples.count)
        XCTAssertEqual(reference.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, 0, nil) }, 1)
        XCTAssertEqual(reference, samples, "libpng does not read back what the test writer wrote")
        assertSameBits(try decode(file).pixels, reference.map { Float($0) / 65535 })
      }
    }
  }

  func testChunkStreamVariants() throws {
    let samples = png16Samples(count: 6 * 4, seed: 5)
    let expected = expectedPixels(samples, colourType: 0)
    let file = png16Bytes(width: 6, height: 4, colourType: 0, samples: samples)
    let parts = chunks(of: file)
    let idat = parts[1].body
    // IDAT split over several chunks, one of them empty; ancillary chunks (known and made up) skipped; a suggested palette in RGB.
    let split = assemble(
      [parts[0], ("tEXt", Array("Comment\0x".utf8)), ("IDAT", Array(idat[0..<5])), ("IDAT", []), ("IDAT", Array(idat[5...])), ("zzZz", [1, 2]), parts[2]])
    assertSameBits(try decode(split).pixels, expected)
    // Bytes after IEND are not read.
    assertSameBits(try decode(file + [0xDE, 0xAD]).pixels, expected)
    let rgb = png16Bytes(width: 1, height: 1, colourType: 2, samples: [1, 2, 3], ancillary: pngChunk("PLTE", [0, 0, 0]))
    assertSameBits(try decode(rgb).pixels, [1, 2, 3].map { Float($0) / 65535 })
  }

  // MARK: Errors

  func testBrokenChunkStreams() {
    let file = png16Bytes(width: 4, height: 3, colourType: 2, samples: png16Samples(count: 36, seed: 7))
    let parts = chunks(of: file)
    // Truncations: inside IDAT, right before IEND, inside a chunk header.
    assertFails(Array(file.prefix(file.count - 20)), "truncated PNG")
    assertFails(Array(file.prefix(file.count - 12)), "before the IEND chunk")
    assertFails(Array(file.prefix(33 + 3)), "truncated PNG")
    // A length beyond the file, and one beyond PNG's limit.
    var long = file
    long.replaceSubrange(33..<37, with: bigEndianBytes(100_000))
    assertFails(long, "declares 100000 bytes")
    long.replaceSubrange(33..<37, with: bigEndianBytes(0xFFFF_FFF0))
    assertFails(long, "2^31−1")
    // A flipped data byte breaks IDAT's CRC.
    var flipped = file
    flipped[33 + 8 + 3] ^= 0x10
    assertFails(flipped, "chunk 'IDAT' at byte 33 has CRC")
    var badType = file
    badType[33 + 5] = 0x20
    assertFails(badType, "not four ASCII letters")
    assertFails(assemble([parts[0], ("IEND", [])]), "IEND comes before any IDAT")
    assertFails(assemble([parts[0], parts[1], ("tEXt", []), parts[1], parts[2]]), "must be consecutive")
    assertFails(assemble([parts[0], ("ABCD", [0]), parts[1], parts[2]]), "unknown critical chunk 'ABCD'")
    assertFails(assemble([parts[0], parts[0], parts[1], parts[2]]), "second IHDR")
    let gray = png16Bytes(width: 1, height: 1, colourType: 0, samples: [1], ancillary: pngChunk("PLTE", [0, 0, 0]))
    assertFails(gray, "PLTE chunk in a gray file")
  }

  func testBrokenHeaders() {
    let samples = png16Samples(count: 36, seed: 9)
    let file = png16Bytes(width: 4, height: 3, colourType: 2, samples: samples)
    let parts = chunks(of: file)
    func withHeader(_ edit: (inout [UInt8]) -> Void) -> [UInt8] {
      var header = parts[0].body
      edit(&header)
      return assemble([("IHDR", header)] + parts.dropFirst())
    }
    // IHDR of the wrong length still declares depth 16 at byte 24, so this reader reports it.
    assertFails(withHeader { $0 += [0] }, "IHDR holds 14 bytes, expected 13")
    assertFails(withHeader { $0[9] = 3 }, "colour type 3 (palette) with bit depth 16")
    assertFails(withHeader { $0[9] = 5 }, "colour type 5 is not one of")
    assertFails(withHeader { $0[10] = 1 }, "compression method 1")
    assertFails(withHeader { $0[11] = 1 }, "filter method 1")
    assertFails(withHeader { $0[12] = 2 }, "interlace method 2")
    assertFails(withHeader { $0.replaceSubrange(0..<4, with: bigEndianBytes(0)) }, "0×3")
    // A hostile header over a few bytes of data: refused before any allocation.
    assertFails(withHeader { $0.replaceSubrange(0..<8, with: bigEndianBytes(0x7FFF_FFFF) + bigEndianBytes(0x7FFF_FFFF)) }, "pixels accepted")
    // A large but accepted picture over a few bytes of data: the stream runs out, nothing near 8×10^8 bytes is filled.
    assertFails(withHeader { $0.replaceSubrange(0..<8, with: bigEndianBytes(10_000) + bigEndianBytes(10_000)) }, "short of the 600010000 bytes")

    // Cases the dispatch sends to libpng (IHDR missing or not first, another
    // depth) still fail there; this reader, called directly, names them itself.
    let missing = assemble([parts[1], parts[2]])
    let late = assemble([("tEXt", Array("a\0b".utf8)), parts[0], parts[1], parts[2]])
    let eightBit = withHeader { $0[8] = 8 }
    for broken in [missing, late] {
      assertReaderError(try ImageDecoder.decode(Data(broken), name: "depth.png"), file: "depth.png", contains: "PNG")
    }
    assertReaderError(try PNG16.decode(missing, name: "depth.png"), file: "depth.png", contains: "the first chunk must be IHDR, found 'IDAT'")
    assertReaderError(try PNG16.decode(late, name: "depth.png"), file: "depth.png", contains: "the first chunk must be IHDR, found 'tEXt'")
    assertReaderError(try PNG16.decode(pngSignature, name: "depth.png"), file: "depth.png", contains: "no IHDR chunk")
    assertReaderError(try PNG16.decode(eightBit, name: "depth.png"), file: "depth.png", contains: "bit depth 8")
    assertReaderError(try PNG16.decode(Array(file.dropFirst()), name: "depth.png"), file: "depth.png", contains: "signature")
  }

  func testBadFilterTypes() {
    let samples = png16Samples(count: 9 * 9, seed: 13)
    assertFails(png16Bytes(width: 9, height: 9, colourType: 0, samples: samples) { _, row in row == 4 ? 5 : 1 }, "scanline 5 of 9 has filter type 5")
    assertFails(
      png16Bytes(width: 9, height: 9, colourType: 0, samples: samples, interlaced: true) { pass, row in pass == 5 && row == 2 ? 255 : 0 },
      "scanline 3 of 5 in Adam7 pass 6 has filter type 255")
  }

  func testBrokenZlibStreams() {
    let (width, height, colourType) = (5, 4, UInt8(6))
    let samples = png16Samples(count: width * height * 4, seed: 17)
    let file = png16Bytes(width: width, height: height, colourType: colourType, samples: samples) { _, _ in 0 }
    let raw = png16Scanlines(width: width, height: height, channels: 4, samples: samples, interlaced: false) { _, _ in 0 }
    let stream = zlibCompressed(raw)
    var badHeader = stream
    badHeader[0] = 0x79
    assertFails(withIDAT(file, badHeader), "bad zlib data in IDAT")
    var badChecksum = stream
    badChecksum[badChecksum.count - 1] ^= 0xFF
    assertFails(withIDAT(file, badChecksum), "bad zlib data in IDAT")
    assertFails(withIDAT(file, Array(stream.dropLast(6))), "the zlib stream in IDAT ends after inflating")
    assertFails(withIDAT(file, []), "ends after inflating 0 of the 164 bytes of scanlines a 5×4 16-bit RGBA picture needs")
    // One scanline too many or too few.
    let rowCount = 1 + width * 8
    assertFails(withIDAT(file, zlibCompressed(raw + raw.prefix(rowCount))), "inflates to more than the 164 bytes")
    assertFails(withIDAT(file, zlibCompressed(Array(raw.dropLast(rowCount)))), "inflates to 123 bytes, short of the 164")
    assertFails(withIDAT(file, stream + [0, 0]), "2 bytes of IDAT data follow the end of the zlib stream")
  }

  func testEveryTruncationAndFlippedByteFails() throws {
    // Hostile input: no prefix and no single flipped byte of a valid file
    // crashes, hangs or decodes; the CRCs catch every flip inside a chunk.
    let file = png16Bytes(width: 3, height: 5, colourType: 4, samples: png16Samples(count: 30, seed: 19), interlaced: true)
    XCTAssertNoThrow(try decode(file))
    for count in 1..<file.count {
      XCTAssertThrowsError(try decode(Array(file.prefix(count))), "prefix of \(count) bytes") { XCTAssertTrue($0 is ReaderError, "\($0)") }
    }
    for index in file.indices {
      var flipped = file
      flipped[index] ^= 0x04
      XCTAssertThrowsError(try decode(flipped), "byte \(index) flipped") { XCTAssertTrue($0 is ReaderError, "\($0)") }
    }
    // Flips inside the zlib data with the CRC made right again reach zlib and the filters: they fail or give a picture of the right size.
    let idat = chunks(of: file)[1].body
    for index in idat.indices {
      var flipped = idat
      flipped[index] ^= 0x04
      do {
        let image = try decode(withIDAT(file, flipped))
        XCTAssertEqual(image.pixels.count, 3 * 5)
      } catch {
        XCTAssertTrue(error is ReaderError, "\(error)")
      }
    }
  }

  // MARK: The 8-bit path

  func testEightBitFilesStillGoThroughLibpng() throws {
    // Every 8-bit value reads as v / 255, as before.
    let gray = try decode(Array(pngBytes(width: 256, height: 1, bitDepth: 8, colourType: 0, rows: (0...255).map { UInt8($0) })))
    assertSameBits(gray.pixels, (0...255).map { Float($0) / 255 })
    let rgb = try decode(Array(pngBytes(width: 1, height: 2, bitDepth: 8, colourType: 2, rows: [1, 2, 3, 4, 5, 6])))
    assertSameBits(rgb.pixels, [1, 2, 3, 4, 5, 6].map { Float($0) / 255 })
    // A broken 8-bit file gets libpng's message, not this reader's: the dispatch looks at the depth only.
    var broken = Array(pngBytes(width: 2, height: 2, bitDepth: 8, colourType: 0, rows: [1, 2, 3, 4]))
    broken[broken.count - 20] ^= 0xFF
    assertReaderError(try decode(broken), file: "depth.png", contains: "PNG")
    XCTAssertThrowsError(try decode(broken)) { XCTAssertFalse("\($0)".contains("has CRC"), "\($0)") }
  }
}
