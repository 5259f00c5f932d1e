import CJPEG
import CPNG
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A decoded picture: `[H, W, C]` samples scaled to [0, 1], `C` 1 (gray) or 3 (RGB).
///
/// Alpha is dropped, as PIL's `convert("RGB")` does (CLIP's preprocessing),
/// so a transparent pixel keeps the colour stored under it.
public struct DecodedImage: Equatable, Sendable {
  public var width: Int
  public var height: Int
  /// 1 (gray) or 3 (RGB).
  public var channels: Int
  /// `[H, W, C]` row-major, each sample in [0, 1].
  public var pixels: [Float]

  public init(width: Int, height: Int, channels: Int, pixels: [Float]) {
    precondition(channels == 1 || channels == 3, "an image has 1 or 3 channels, not \(channels)")
    precondition(pixels.count == width * height * channels, "\(pixels.count) samples do not fill \(height)×\(width)×\(channels)")
    self.width = width
    self.height = height
    self.channels = channels
    self.pixels = pixels
  }
}

/// Reads pictures in the formats users have, picked by their first bytes (so
/// standard input works): PNG (libpng; 16-bit files our own `PNG16`), JPEG (libjpeg-turbo), binary and ASCII
/// PGM/PPM (P2, P3, P5, P6), and NumPy `.npy` arrays `[H, W]` or `[H, W, C]`.
///
/// Sample scaling to [0, 1]: 8-bit formats divide by 255, 16-bit PNGs by
/// 65535 (`PNG16`); PGM/PPM by their maxval; `.npy` of dtype `u1` by 255,
/// `u2` by 65535, floats are taken as already in [0, 1] (they must be finite).
public enum ImageDecoder {
  /// The largest picture accepted, in pixels (PIL's decompression-bomb limit is 89 M):
  /// a hostile header cannot make us allocate more than 4 bytes × 3 channels × this.
  public static let maximumPixels = 1 << 27

  /// The file extensions `read` understands, lower case (used to list a folder of frames).
  public static let extensions: Set<String> = ["png", "jpg", "jpeg", "pgm", "ppm", "pnm", "npy"]

  /// Decodes the picture at `path` (`-`: standard input).
  public static func read(path: String) throws -> DecodedImage {
    try decode(AtomicFile.readAll(path), name: path)
  }

  /// Decodes `data`, a whole file; `name` stands for it in errors.
  public static func decode(_ data: Data, name: String) throws -> DecodedImage {
    let bytes = [UInt8](data)
    func starts(with magic: [UInt8]) -> Bool { bytes.count >= magic.count && Array(bytes[0..<magic.count]) == magic }
    if bytes.isEmpty { throw ReaderError(file: name, "the file is empty, expected a PNG, JPEG, PGM/PPM or .npy image") }
    if starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return try decodePNG(bytes, name: name) }
    if starts(with: [0xFF, 0xD8, 0xFF]) { return try decodeJPEG(bytes, name: name) }
    if starts(with: [0x93] + Array("NUMPY".utf8)) { return try decodeNPY(data, name: name) }
    if bytes.count >= 2, bytes[0] == UInt8(ascii: "P"), [UInt8(ascii: "2"), UInt8(ascii: "3"), UInt8(ascii: "5"), UInt8(ascii: "6")].contains(bytes[1]) {
      return try decodePNM(bytes, name: name)
    }
    throw ReaderError(file: name, "unknown image format (expected the magic bytes of PNG, JPEG, PGM/PPM P2/P3/P5/P6 or .npy)")
  }

  static func checkSize(width: Int, height: Int, name: String) throws {
    guard width > 0, height > 0 else { throw ReaderError(file: name, "the image is \(width)×\(height), expected at least 1×1 pixels") }
    guard width <= maximumPixels / height else {
      throw ReaderError(file: name, "the image is \(width)×\(height), more than the \(maximumPixels) pixels accepted")
    }
  }

  // MARK: PNG

  /// Files whose IHDR declares 16 bits per sample go to `PNG16`, our own
  /// reader, which keeps all 16 bits (each sample / 65535): libpng's
  /// simplified API would drop the low byte. Every other file (gray,
  /// gray+alpha, RGB, RGBA at 1–8 bits, palette) goes through that API
  /// (png_image), which catches libpng's errors in C and returns them as a
  /// message, and is read as 8-bit gray+alpha or RGBA (each sample / 255).
  static func decodePNG(_ bytes: [UInt8], name: String) throws -> DecodedImage {
    if PNG16.declaresSixteenBits(bytes) { return try PNG16.decode(bytes, name: name) }
    var image = png_image()
    image.version = UInt32(PNG_IMAGE_VERSION)
    func message() -> String {
      withUnsafeBytes(of: image.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
    let begun = bytes.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
    guard begun != 0 else { throw ReaderError(file: name, "not a readable PNG: \(message())") }
    let width = Int(image.width), height = Int(image.height)
    do {
      try checkSize(width: width, height: height, name: name)
    } catch {
      png_image_free(&image)
      throw error
    }
    let isColour = image.format & PNG_FORMAT_FLAG_COLOR != 0
    let channels = isColour ? 3 : 1
    // With alpha in the output no compositing happens: colours are kept as stored.
    image.format = (isColour ? PNG_FORMAT_FLAG_COLOR : 0) | PNG_FORMAT_FLAG_ALPHA
    let stored = channels + 1
    var buffer = [UInt8](repeating: 0, count: width * height * stored)
    let finished = buffer.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, 0, nil) }
    guard finished != 0 else { throw ReaderError(file: name, "corrupt or truncated PNG: \(message())") }
    var pixels = [Float](repeating: 0, count: width * height * channels)
    for pixel in 0..<(width * height) {
      for c in 0..<channels { pixels[pixel * channels + c] = Float(buffer[pixel * stored + c]) / 255 }
    }
    return DecodedImage(width: width, height: height, channels: channels, pixels: pixels)
  }

  // MARK: JPEG

  /// libjpeg-turbo's decompressor, to 8-bit gray or RGB.
  ///
  /// libjpeg reports a fatal error by calling `error_exit`, which must not
  /// return; C code longjmps out of it, but Swift cannot call setjmp. So the
  /// decoding runs on a thread of its own and `error_exit` records the message
  /// and ends that thread (`pthread_exit`); the caller, which waited for it,
  /// then frees libjpeg's memory with `jpeg_destroy_decompress` (valid in any
  /// state) and throws. Only the few Swift objects on the ended thread's stack
  /// leak. Warnings (corrupt entropy data, a premature end of file, after
  /// which libjpeg fills the rest with gray) are errors too: the pixels would
  /// be wrong.
  static func decodeJPEG(_ bytes: [UInt8], name: String) throws -> DecodedImage {
    let job = JPEGJob(bytes)
    var thread = pthread_t()
    let started = pthread_create(&thread, nil, { context in
      let job = Unmanaged<JPEGJob>.fromOpaque(context!).takeUnretainedValue()
      job.run()
      return nil
    }, Unmanaged.passUnretained(job).toOpaque())
    guard started == 0 else { throw ReaderError(file: name, "cannot start the JPEG decoding thread (error \(started))") }
    pthread_join(thread, nil)
    jpeg_destroy_decompress(job.decompressor)
    if let failure = job.failure { throw ReaderError(file: name, "corrupt or truncated JPEG: \(failure)") }
    if let problem = job.refusal { throw ReaderError(file: name, problem) }
    let pixels = job.samples.map { Float($0) / 255 }
    return DecodedImage(width: job.width, height: job.height, channels: job.channels, pixels: pixels)
  }

  // MARK: PGM / PPM

  /// Netpbm gray (P2 ASCII, P5 binary) and colour (P3 ASCII, P6 binary) maps,
  /// with `#` comments in the header; binary samples are one byte when
  /// maxval < 256, else two bytes big-endian (netpbm's definition).
  static func decodePNM(_ bytes: [UInt8], name: String) throws -> DecodedImage {
    let kind = bytes[1]
    let isASCII = kind == UInt8(ascii: "2") || kind == UInt8(ascii: "3")
    let channels = kind == UInt8(ascii: "3") || kind == UInt8(ascii: "6") ? 3 : 1
    var position = 2
    func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }
    /// The next decimal number, skipping whitespace and comments; nil at the end.
    func nextNumber() throws -> Int? {
      while position < bytes.count {
        if isSpace(bytes[position]) {
          position += 1
        } else if bytes[position] == UInt8(ascii: "#") {
          while position < bytes.count, bytes[position] != 0x0A { position += 1 }
        } else {
          break
        }
      }
      guard position < bytes.count else { return nil }
      var value = 0
      let start = position
      while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) {
        value = value * 10 + Int(bytes[position] - UInt8(ascii: "0"))
        guard value <= 1 << 31 else { throw ReaderError(file: name, "a number in the P\(Character(UnicodeScalar(kind))) file is too large") }
        position += 1
      }
      guard position > start, position == bytes.count || isSpace(bytes[position]) || bytes[position] == UInt8(ascii: "#") else {
        throw ReaderError(file: name, "bad P\(Character(UnicodeScalar(kind))) file: expected a decimal number at byte \(start)")
      }
      return value
    }
    let magic = "P\(Character(UnicodeScalar(kind)))"
    guard let width = try nextNumber(), let height = try nextNumber(), let maxval = try nextNumber() else {
      throw ReaderError(file: name, "bad \(magic) header: expected width, height and maxval")
    }
    try checkSize(width: width, height: height, name: name)
    guard (1...65535).contains(maxval) else { throw ReaderError(file: name, "bad \(magic) header: maxval \(maxval) is outside 1…65535") }
    let count = width * height * channels
    var pixels = [Float](repeating: 0, count: count)
    if isASCII {
      for index in 0..<count {
        guard let value = try nextNumber() else {
          throw ReaderError(file: name, "truncated \(magic) file: \(index) of \(count) samples")
        }
        guard value <= maxval else { throw ReaderError(file: name, "\(magic) sample \(index) is \(value), above maxval \(maxval)") }
        pixels[index] = Float(value) / Float(maxval)
      }
    } else {
      // Exactly one whitespace byte separates maxval from the raster.
      let start = position + 1
      let width16 = maxval > 255 ? 2 : 1
      guard bytes.count - min(start, bytes.count) >= count * width16 else {
        throw ReaderError(file: name, "truncated \(magic) file: the raster needs \(count * width16) bytes, found \(max(bytes.count - start, 0))")
      }
      for index in 0..<count {
        let value = width16 == 1 ? Int(bytes[start + index])
          : Int(bytes[start + 2 * index]) << 8 | Int(bytes[start + 2 * index + 1])
        guard value <= maxval else { throw ReaderError(file: name, "\(magic) sample \(index) is \(value), above maxval \(maxval)") }
        pixels[index] = Float(value) / Float(maxval)
      }
    }
    return DecodedImage(width: width, height: height, channels: channels, pixels: pixels)
  }

  // MARK: NPY

  /// `[H, W]` or `[H, W, C]` with C 1, 3 or 4 (alpha dropped).
  static func decodeNPY(_ data: Data, name: String) throws -> DecodedImage {
    let array = try NPYArray.read(data: data, name: name)
    let shape = array.shape
    guard shape.count == 2 || (shape.count == 3 && [1, 3, 4].contains(shape[2])) else {
      throw ReaderError(file: name, "an image .npy must be [H, W] or [H, W, C] with C 1, 3 or 4, found shape \(shape)")
    }
    try checkSize(width: shape[1], height: shape[0], name: name)
    let scale = try npySampleScale(data, name: name)
    guard array.values.allSatisfy(\.isFinite) else { throw ReaderError(file: name, "the image holds NaN or infinite values") }
    let stored = shape.count == 3 ? shape[2] : 1
    let channels = stored == 1 ? 1 : 3
    let pixelCount = shape[0] * shape[1]
    var pixels = [Float](repeating: 0, count: pixelCount * channels)
    for pixel in 0..<pixelCount {
      for c in 0..<channels { pixels[pixel * channels + c] = array.values[pixel * stored + c] * scale }
    }
    return DecodedImage(width: shape[1], height: shape[0], channels: channels, pixels: pixels)
  }

  /// The factor that brings a `.npy`'s samples to [0, 1], from its dtype:
  /// 1/255 for `u1`, 1/65535 for `u2`, 1 for floats.
  static func npySampleScale(_ data: Data, name: String) throws -> Float {
    // NPYArray has validated the header already; its descr is the first quoted value after 'descr'.
    let header = String(decoding: data.prefix(4096), as: UTF8.self)
    guard let key = header.range(of: "'descr'") else { throw ReaderError(file: name, "the .npy header names no descr") }
    let rest = header[key.upperBound...].drop { $0 != "'" }.dropFirst()
    let quoted = String(rest.prefix { $0 != "'" })
    // The first character is the byte order (`<`, `>`, `|`).
    switch quoted.dropFirst() {
    case "u1": return 1 / 255
    case "u2": return 1 / 65535
    case "f2", "f4", "f8": return 1
    default:
      throw ReaderError(file: name, "image .npy dtype '\(quoted)' is not u1, u2 or a float type")
    }
  }
}

/// One JPEG decoding, shared between the caller and the decoding thread.
///
/// libjpeg's structs live in manually allocated memory so that their
/// addresses stay fixed while libjpeg holds pointers into them.
private final class JPEGJob {
  let bytes: [UInt8]
  let decompressor = UnsafeMutablePointer<jpeg_decompress_struct>.allocate(capacity: 1)
  let errorManager = UnsafeMutablePointer<jpeg_error_mgr>.allocate(capacity: 1)
  /// libjpeg's fatal error or first warning, if any.
  var failure: String?
  /// A well-formed file this reader declines (too large, CMYK).
  var refusal: String?
  var width = 0, height = 0, channels = 0
  /// `[H, W, C]` 8-bit samples.
  var samples: [UInt8] = []

  init(_ bytes: [UInt8]) {
    self.bytes = bytes
    decompressor.initialize(to: jpeg_decompress_struct())
    errorManager.initialize(to: jpeg_error_mgr())
  }

  deinit {
    decompressor.deallocate()
    errorManager.deallocate()
  }

  /// Runs on the decoding thread; may end it from inside libjpeg (see `ImageDecoder.decodeJPEG`).
  func run() {
    decompressor.pointee.err = jpeg_std_error(errorManager)
    errorManager.pointee.error_exit = { common in
      let job = JPEGJob.owner(of: common!)
      job.failure = job.failure ?? JPEGJob.message(common!)
      pthread_exit(nil)
    }
    errorManager.pointee.emit_message = { common, level in
      // Level −1 is a warning (corrupt data); higher levels are trace messages.
      guard level < 0 else { return }
      let job = JPEGJob.owner(of: common!)
      job.failure = job.failure ?? JPEGJob.message(common!)
    }
    // Set before creation, which keeps it, so that its own errors find their job.
    decompressor.pointee.client_data = Unmanaged.passUnretained(self).toOpaque()
    jpeg_CreateDecompress(decompressor, JPEG_LIB_VERSION, MemoryLayout<jpeg_decompress_struct>.size)
    bytes.withUnsafeBufferPointer { buffer in
      jpeg_mem_src(decompressor, buffer.baseAddress, UInt(buffer.count))
      decode()
    }
  }

  private func decode() {
    jpeg_read_header(decompressor, 1)
    let info = decompressor.pointee
    width = Int(info.image_width)
    height = Int(info.image_height)
    guard width > 0, height > 0, width <= ImageDecoder.maximumPixels / height else {
      refusal = "the JPEG is \(width)×\(height), expected 1 to \(ImageDecoder.maximumPixels) pixels"
      return
    }
    switch info.jpeg_color_space {
    case JCS_GRAYSCALE:
      decompressor.pointee.out_color_space = JCS_GRAYSCALE
    case JCS_CMYK, JCS_YCCK:
      refusal = "CMYK JPEGs are not supported; convert to RGB first"
      return
    default:
      decompressor.pointee.out_color_space = JCS_RGB
    }
    jpeg_start_decompress(decompressor)
    channels = Int(decompressor.pointee.output_components)
    width = Int(decompressor.pointee.output_width)
    height = Int(decompressor.pointee.output_height)
    samples = [UInt8](repeating: 0, count: width * height * channels)
    samples.withUnsafeMutableBufferPointer { buffer in
      while decompressor.pointee.output_scanline < decompressor.pointee.output_height {
        var row: UnsafeMutablePointer<UInt8>? = buffer.baseAddress! + Int(decompressor.pointee.output_scanline) * width * channels
        jpeg_read_scanlines(decompressor, &row, 1)
      }
    }
    jpeg_finish_decompress(decompressor)
  }

  private static func owner(of common: j_common_ptr) -> JPEGJob {
    Unmanaged<JPEGJob>.fromOpaque(common.pointee.client_data).takeUnretainedValue()
  }

  /// libjpeg's text for its last message.
  private static func message(_ common: j_common_ptr) -> String {
    var text = [CChar](repeating: 0, count: Int(JMSG_LENGTH_MAX))
    common.pointee.err.pointee.format_message(common, &text)
    return String(cString: text)
  }
}
