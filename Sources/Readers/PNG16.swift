import CZlib
import Foundation

/// The PNG reader for 16 bits per sample, which keeps every bit.
///
/// libpng's simplified API, which `ImageDecoder.decodePNG` uses for every
/// other depth, reduces 16-bit samples to 8 bits; X-ray, infrared and depth
/// pictures need their low byte. This reader handles bit depth 16 with colour
/// type 0 (gray), 2 (RGB), 4 (gray+alpha) or 6 (RGBA), non-interlaced or
/// Adam7, and returns `[H, W, C]` with C 1 or 3: each big-endian sample `v`
/// becomes `Float(v) / 65535`, the correctly rounded quotient (0 → 0,
/// 257 → 1/255, 65535 → 1). As on the 8-bit path, alpha is dropped and
/// colours are kept as stored: gAMA, sRGB, iCCP and tRNS are ignored.
///
/// Memory: the inflated scanlines (at most 8 bytes × `ImageDecoder.maximumPixels`)
/// grow only as zlib produces them, so a header declaring a huge picture over
/// a few bytes of data allocates no more than those bytes inflate to.
///
/// `ImageDecoder.decode` picks this reader for files whose IHDR says 16 bits;
/// it is public so that its own checks (IHDR missing or not first, other
/// depths, which the dispatch leaves to libpng) can be reached directly.
///
/// Reference: PNG Specification (Third Edition), W3C: §5 datastream and
/// chunk layout, §7.3 and §9 filtering, §8.2 Adam7, §11.2.2 IHDR.
public enum PNG16 {
  /// The colour types allowed at bit depth 16 (PNG §11.2.2, Table 11).
  enum ColourType: UInt8 {
    case gray = 0, rgb = 2, grayAlpha = 4, rgba = 6

    /// Samples per pixel in the file.
    var storedChannels: Int {
      switch self {
      case .gray: return 1
      case .grayAlpha: return 2
      case .rgb: return 3
      case .rgba: return 4
      }
    }

    /// Samples per pixel in the `DecodedImage`: the stored ones without alpha
    /// (alpha is always the last stored sample).
    var outputChannels: Int {
      switch self {
      case .gray, .grayAlpha: return 1
      case .rgb, .rgba: return 3
      }
    }

    var label: String {
      switch self {
      case .gray: return "gray"
      case .grayAlpha: return "gray+alpha"
      case .rgb: return "RGB"
      case .rgba: return "RGBA"
      }
    }
  }

  /// The scanline filter types (PNG §9.2); the first byte of every scanline.
  enum FilterType: UInt8 {
    case none = 0, sub, up, average, paeth
  }

  /// What IHDR says about the picture.
  struct Header: CustomStringConvertible {
    var width: Int
    var height: Int
    var colourType: ColourType
    var isInterlaced: Bool

    /// Bytes per complete pixel, the distance the Sub, Average and Paeth
    /// filters look back (PNG §9.2: 2 bytes per sample at depth 16).
    var bytesPerPixel: Int { colourType.storedChannels * 2 }

    /// The sub-images whose scanlines the zlib stream holds, in order.
    var passes: [Pass] {
      guard isInterlaced else { return [Pass(firstX: 0, firstY: 0, stepX: 1, stepY: 1, width: width, height: height)] }
      return Pass.adam7.map { origin in
        // A pass starting beyond the picture's edge is empty, as for a 1×1 picture.
        let passWidth = width > origin.x ? (width - origin.x + origin.stepX - 1) / origin.stepX : 0
        let passHeight = height > origin.y ? (height - origin.y + origin.stepY - 1) / origin.stepY : 0
        return Pass(firstX: origin.x, firstY: origin.y, stepX: origin.stepX, stepY: origin.stepY, width: passWidth, height: passHeight)
      }
    }

    var description: String {
      "\(width)×\(height) 16-bit \(colourType.label)\(isInterlaced ? " Adam7" : "") picture"
    }
  }

  /// One sub-image: the pixels at (firstX + i·stepX, firstY + j·stepY). A
  /// non-interlaced picture is a single pass with steps 1.
  struct Pass {
    /// Adam7's seven passes as (first column, first row, column step, row step), PNG §8.2.
    static let adam7: [(x: Int, y: Int, stepX: Int, stepY: Int)] = [
      (0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2),
    ]

    var firstX: Int
    var firstY: Int
    var stepX: Int
    var stepY: Int
    /// Pixels per scanline and scanlines; either may be 0 (an empty pass has no bytes at all, not even filter bytes).
    var width: Int
    var height: Int

    /// Bytes in the zlib output for this pass: one filter byte plus the samples per scanline.
    func filteredByteCount(bytesPerPixel: Int) -> Int {
      width == 0 || height == 0 ? 0 : height * (1 + width * bytesPerPixel)
    }
  }

  static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

  /// Whether the file's first chunk is an IHDR declaring bit depth 16: the
  /// test `ImageDecoder.decodePNG` uses to pick this reader. Byte 24 is the
  /// bit depth whatever IHDR's declared length, so a 16-bit file with a
  /// broken IHDR still comes here and gets this reader's error.
  static func declaresSixteenBits(_ bytes: [UInt8]) -> Bool {
    // Signature (8), length (4), type (4), width (4), height (4), then the bit depth.
    bytes.count > 24 && bytes.starts(with: signature) && bytes[12..<16].elementsEqual("IHDR".utf8) && bytes[24] == 16
  }

  /// Decodes a whole 16-bit PNG file; `name` stands for it in errors.
  ///
  /// - Returns: `[H, W, C]`, C 1 (gray, gray+alpha) or 3 (RGB, RGBA), each
  ///   sample `v / 65535`.
  /// - Throws: `ReaderError` for a file that is not a PNG, is truncated or
  ///   corrupt (chunk lengths, CRCs, zlib data, filter types), is not 16-bit,
  ///   or declares more than `ImageDecoder.maximumPixels` pixels.
  public static func decode(_ bytes: [UInt8], name: String) throws -> DecodedImage {
    let (header, compressed) = try readChunks(bytes, name: name)
    let bytesPerPixel = header.bytesPerPixel
    let passes = header.passes
    let expectedCount = passes.reduce(0) { $0 + $1.filteredByteCount(bytesPerPixel: bytesPerPixel) }
    var scanlines = try inflateScanlines(compressed, expectedCount: expectedCount, header: header, name: name)

    let channels = header.colourType.outputChannels
    var pixels = [Float](repeating: 0, count: header.width * header.height * channels)
    var passStart = 0
    for (passIndex, pass) in passes.enumerated() where pass.width > 0 && pass.height > 0 {
      let rowBytes = pass.width * bytesPerPixel
      try unfilter(&scanlines, start: passStart, rowCount: pass.height, rowBytes: rowBytes, bytesPerPixel: bytesPerPixel, name: name) { row in
        // Counted from 1, as people count lines and as the specification numbers the passes.
        let line = "scanline \(row + 1) of \(pass.height)"
        return header.isInterlaced ? "\(line) in Adam7 pass \(passIndex + 1)" : line
      }
      for row in 0..<pass.height {
        let y = pass.firstY + row * pass.stepY
        var sample = passStart + row * (1 + rowBytes) + 1
        for column in 0..<pass.width {
          let output = (y * header.width + pass.firstX + column * pass.stepX) * channels
          for channel in 0..<channels {
            let value = UInt16(scanlines[sample + 2 * channel]) << 8 | UInt16(scanlines[sample + 2 * channel + 1])
            pixels[output + channel] = Float(value) / 65535
          }
          sample += bytesPerPixel
        }
      }
      passStart += pass.filteredByteCount(bytesPerPixel: bytesPerPixel)
    }
    return DecodedImage(width: header.width, height: header.height, channels: channels, pixels: pixels)
  }

  // MARK: Chunks

  /// Walks the chunks from the signature to IEND, checking every length and
  /// CRC-32, and returns IHDR and the concatenated IDAT data.
  static func readChunks(_ bytes: [UInt8], name: String) throws -> (header: Header, compressed: [UInt8]) {
    guard bytes.starts(with: signature) else {
      throw ReaderError(file: name, "not a PNG: the file does not start with the 8-byte PNG signature")
    }
    var position = signature.count
    var header: Header?
    var compressed: [UInt8] = []
    var idatSeen = false, idatEnded = false
    while true {
      guard bytes.count - position >= 8 else {
        if header == nil { throw ReaderError(file: name, "truncated PNG: no IHDR chunk, the file ends at byte \(bytes.count)") }
        throw ReaderError(file: name, "truncated PNG: the file ends at byte \(bytes.count) before the IEND chunk")
      }
      let length = bigEndianUInt32(bytes, at: position)
      let typeBytes = bytes[(position + 4)..<(position + 8)]
      // Checked before the type is printed in any message, so the message stays one line of text.
      guard typeBytes.allSatisfy({ (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }) else {
        throw ReaderError(file: name, "corrupt PNG: the chunk type at byte \(position + 4) is not four ASCII letters")
      }
      let type = String(decoding: typeBytes, as: UTF8.self)
      guard length <= Int(Int32.max) else {
        throw ReaderError(file: name, "corrupt PNG: chunk '\(type)' at byte \(position) declares \(length) bytes, more than the 2^31−1 PNG allows")
      }
      let dataStart = position + 8
      guard bytes.count - dataStart >= length + 4 else {
        throw ReaderError(
          file: name,
          "truncated PNG: chunk '\(type)' at byte \(position) declares \(length) bytes of data and a CRC, but only \(bytes.count - dataStart) bytes remain")
      }
      let storedCRC = bigEndianUInt32(bytes, at: dataStart + length)
      // The CRC covers the type and the data (PNG §5.3), which are contiguous in the file.
      let computedCRC = bytes.withUnsafeBufferPointer { file in
        Int(crc32(0, file.baseAddress! + position + 4, UInt32(4 + length)))
      }
      guard storedCRC == computedCRC else {
        throw ReaderError(
          file: name,
          "corrupt PNG: chunk '\(type)' at byte \(position) has CRC \(hex(storedCRC)) but its contents give \(hex(computedCRC))")
      }
      let data = bytes[dataStart..<(dataStart + length)]
      if header == nil, type != "IHDR" {
        throw ReaderError(file: name, "corrupt PNG: the first chunk must be IHDR, found '\(type)'")
      }
      if idatSeen, type != "IDAT" { idatEnded = true }
      switch type {
      case "IHDR":
        guard header == nil else { throw ReaderError(file: name, "corrupt PNG: a second IHDR chunk at byte \(position)") }
        header = try parseHeader(data, name: name)
      case "IDAT":
        guard !idatEnded else {
          throw ReaderError(file: name, "corrupt PNG: the IDAT chunk at byte \(position) is separated from the earlier ones (IDAT chunks must be consecutive)")
        }
        idatSeen = true
        compressed += data
      case "IEND":
        guard idatSeen else { throw ReaderError(file: name, "corrupt PNG: IEND comes before any IDAT chunk (no image data)") }
        return (header!, compressed)
      case "PLTE":
        // A suggested palette is allowed in truecolour files and ignored; gray files must not have one (PNG §11.2.3).
        guard header!.colourType == .rgb || header!.colourType == .rgba else {
          throw ReaderError(file: name, "corrupt PNG: a PLTE chunk in a \(header!.colourType.label) file")
        }
      default:
        // Bit 5 of the first type byte (lower case) marks an ancillary chunk, safe to skip (PNG §5.4).
        guard typeBytes.first! & 0x20 != 0 else {
          throw ReaderError(file: name, "unsupported PNG: unknown critical chunk '\(type)' at byte \(position), which the picture cannot be decoded without")
        }
      }
      position = dataStart + length + 4
    }
  }

  /// IHDR's 13 bytes: width, height, bit depth, colour type, compression,
  /// filter and interlace methods (PNG §11.2.2).
  static func parseHeader(_ data: ArraySlice<UInt8>, name: String) throws -> Header {
    guard data.count == 13 else { throw ReaderError(file: name, "corrupt PNG: IHDR holds \(data.count) bytes, expected 13") }
    let fields = Array(data)
    let width = bigEndianUInt32(fields, at: 0), height = bigEndianUInt32(fields, at: 4)
    let bitDepth = fields[8], colourTypeCode = fields[9]
    guard let colourType = ColourType(rawValue: colourTypeCode) else {
      if colourTypeCode == 3 {
        throw ReaderError(file: name, "corrupt PNG: colour type 3 (palette) with bit depth \(bitDepth); palette PNGs have 1, 2, 4 or 8 bits")
      }
      throw ReaderError(file: name, "corrupt PNG: colour type \(colourTypeCode) is not one of 0 (gray), 2 (RGB), 3 (palette), 4 (gray+alpha), 6 (RGBA)")
    }
    guard bitDepth == 16 else {
      throw ReaderError(file: name, "bit depth \(bitDepth) with colour type \(colourTypeCode): this reader takes 16-bit PNGs only (ImageDecoder reads the others with libpng)")
    }
    guard fields[10] == 0 else { throw ReaderError(file: name, "unsupported PNG: compression method \(fields[10]), expected 0 (deflate)") }
    guard fields[11] == 0 else { throw ReaderError(file: name, "unsupported PNG: filter method \(fields[11]), expected 0 (adaptive)") }
    guard fields[12] <= 1 else { throw ReaderError(file: name, "unsupported PNG: interlace method \(fields[12]), expected 0 (none) or 1 (Adam7)") }
    try ImageDecoder.checkSize(width: width, height: height, name: name)
    return Header(width: width, height: height, colourType: colourType, isInterlaced: fields[12] == 1)
  }

  static func bigEndianUInt32(_ bytes: [UInt8], at offset: Int) -> Int {
    bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
  }

  static func hex(_ value: Int) -> String { "0x" + String(value, radix: 16, uppercase: true) }

  // MARK: zlib

  /// Inflates the zlib stream (RFC 1950) of the IDAT chunks, which must give
  /// exactly `expectedCount` bytes and end with nothing after it.
  static func inflateScanlines(_ compressed: [UInt8], expectedCount: Int, header: Header, name: String) throws -> [UInt8] {
    var stream = z_stream()
    guard inflateInit_(&stream, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
      throw ReaderError(file: name, "zlib could not start decompressing the PNG's image data")
    }
    defer { inflateEnd(&stream) }
    var output: [UInt8] = []
    // Deflate expands at most 1032:1 (zlib's technical details), so this never
    // reserves more than the data can produce, and legitimate files grow no further.
    output.reserveCapacity(min(expectedCount, compressed.count * 1032 + 1024))
    let chunkSize = 1 << 18
    var chunk = [UInt8](repeating: 0, count: chunkSize)
    let needed = "the \(expectedCount) bytes of scanlines a \(header) needs"
    try compressed.withUnsafeBufferPointer { input in
      try chunk.withUnsafeMutableBufferPointer { scratch in
        var fed = 0
        while true {
          // avail_in is 32 bits: a larger input goes in slices.
          if stream.avail_in == 0, fed < input.count {
            let slice = min(input.count - fed, 1 << 30)
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress! + fed)
            stream.avail_in = UInt32(slice)
            fed += slice
          }
          stream.next_out = scratch.baseAddress
          stream.avail_out = UInt32(chunkSize)
          let status = inflate(&stream, Z_NO_FLUSH)
          let produced = chunkSize - Int(stream.avail_out)
          guard output.count + produced <= expectedCount else {
            throw ReaderError(file: name, "corrupt PNG: the image data inflates to more than \(needed)")
          }
          output.append(contentsOf: scratch[0..<produced])
          switch status {
          case Z_OK:
            continue
          case Z_STREAM_END:
            guard output.count == expectedCount else {
              throw ReaderError(file: name, "corrupt PNG: the image data inflates to \(output.count) bytes, short of \(needed)")
            }
            let unread = Int(stream.avail_in) + input.count - fed
            guard unread == 0 else {
              throw ReaderError(file: name, "corrupt PNG: \(unread) bytes of IDAT data follow the end of the zlib stream")
            }
            return
          case Z_BUF_ERROR where stream.avail_in == 0 && fed == input.count:
            throw ReaderError(
              file: name, "truncated PNG: the zlib stream in IDAT ends after inflating \(output.count) of \(needed)")
          case Z_NEED_DICT:
            throw ReaderError(file: name, "corrupt PNG: the zlib stream in IDAT asks for a preset dictionary, which PNG does not allow")
          default:
            let message = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
            throw ReaderError(file: name, "corrupt PNG: bad zlib data in IDAT: \(message)")
          }
        }
      }
    }
    return output
  }

  // MARK: Filters

  /// Undoes the filters of one pass's `rowCount` scanlines, which start at
  /// `start` in `data`, each a filter byte then `rowBytes` bytes (PNG §9.2).
  ///
  /// In place: the filtered byte x becomes Filt(x) + predictor (mod 256),
  /// where the predictor reads a = the byte `bytesPerPixel` to the left,
  /// b = the byte above, c = the byte above a, all already reconstructed
  /// (0 left of the row and above the pass's first scanline).
  ///
  /// - Parameters:
  ///   - name: the file, for errors.
  ///   - describeRow: names scanline `row` in an error message.
  static func unfilter(
    _ data: inout [UInt8], start: Int, rowCount: Int, rowBytes: Int, bytesPerPixel: Int, name: String,
    describeRow: (Int) -> String
  ) throws {
    let stride = 1 + rowBytes
    for row in 0..<rowCount {
      let filterByte = data[start + row * stride]
      guard let filter = FilterType(rawValue: filterByte) else {
        throw ReaderError(file: name, "corrupt PNG: \(describeRow(row)) has filter type \(filterByte), expected 0 (None) to 4 (Paeth)")
      }
      let first = start + row * stride + 1
      let above = first - stride
      let hasAbove = row > 0
      for i in 0..<rowBytes {
        let a = i >= bytesPerPixel ? Int(data[first + i - bytesPerPixel]) : 0
        let b = hasAbove ? Int(data[above + i]) : 0
        let c = hasAbove && i >= bytesPerPixel ? Int(data[above + i - bytesPerPixel]) : 0
        let predictor: Int
        switch filter {
        case .none: predictor = 0
        case .sub: predictor = a
        case .up: predictor = b
        case .average: predictor = (a + b) / 2
        case .paeth: predictor = paethPredictor(left: a, above: b, aboveLeft: c)
        }
        data[first + i] = data[first + i] &+ UInt8(truncatingIfNeeded: predictor)
      }
    }
  }

  /// Of a, b, c, the one closest to a + b − c; ties go to a, then b (PNG §9.4).
  static func paethPredictor(left a: Int, above b: Int, aboveLeft c: Int) -> Int {
    let estimate = a + b - c
    let distanceA = abs(estimate - a), distanceB = abs(estimate - b), distanceC = abs(estimate - c)
    if distanceA <= distanceB && distanceA <= distanceC { return a }
    if distanceB <= distanceC { return b }
    return c
  }
}
