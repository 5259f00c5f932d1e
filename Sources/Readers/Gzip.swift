import CZlib
import Foundation

/// gzip (RFC 1952) decompression through zlib.
public enum Gzip {
  /// The largest output accepted by default: a hostile stream that inflates
  /// far beyond any real input (a "zip bomb") stops here instead of filling memory.
  public static let defaultMaximumSize = 1 << 30

  /// The decompressed content of the gzip stream `data` (concatenated members
  /// are decoded one after the other, as `gzip -d` does).
  ///
  /// - Parameters:
  ///   - data: the whole `.gz` file.
  ///   - file: the name used in errors.
  ///   - maximumSize: the largest output accepted, in bytes.
  /// - Throws: `ReaderError` for a stream that is not gzip, is corrupt or
  ///   truncated, or inflates beyond `maximumSize`.
  public static func decompress(_ data: Data, file: String, maximumSize: Int = defaultMaximumSize) throws -> Data {
    guard data.count >= 18, data[data.startIndex] == 0x1f, data[data.startIndex + 1] == 0x8b else {
      throw ReaderError(file: file, "not a gzip file (expected the magic bytes 1f 8b and at least 18 bytes)")
    }
    var stream = z_stream()
    // 16 + MAX_WBITS: expect a gzip header and trailer (zlib.h, inflateInit2).
    guard inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
      throw ReaderError(file: file, "zlib could not start decompressing")
    }
    defer { inflateEnd(&stream) }
    var output = Data()
    let chunkSize = 1 << 18
    let chunk = UnsafeMutablePointer<UInt8>.allocate(capacity: chunkSize)
    defer { chunk.deallocate() }
    try data.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
      stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: UInt8.self).baseAddress!)
      stream.avail_in = UInt32(input.count)
      while true {
        stream.next_out = chunk
        stream.avail_out = UInt32(chunkSize)
        let status = inflate(&stream, Z_NO_FLUSH)
        let produced = chunkSize - Int(stream.avail_out)
        guard output.count + produced <= maximumSize else {
          throw ReaderError(file: file, "decompresses to more than \(maximumSize) bytes")
        }
        output.append(chunk, count: produced)
        switch status {
        case Z_STREAM_END:
          // Another member may follow (`cat a.gz b.gz`): start it afresh.
          guard stream.avail_in > 0 else { return }
          guard inflateReset(&stream) == Z_OK else { throw ReaderError(file: file, "zlib could not reset") }
        case Z_OK:
          continue
        case Z_BUF_ERROR where stream.avail_in == 0:
          throw ReaderError(file: file, "the gzip stream is truncated")
        default:
          let message = stream.msg.map { String(cString: $0) } ?? "error \(status)"
          throw ReaderError(file: file, "corrupt gzip data: \(message)")
        }
      }
    }
    return output
  }
}
