import Foundation

/// The frames of one clip, decoded on demand (a clip of thousands of frames
/// is sampled down to a few; only those are decoded).
public struct VideoFrames {
  /// How many frames the clip has, at least 1.
  public let count: Int
  private let decode: (Int) throws -> DecodedImage

  init(count: Int, decode: @escaping (Int) throws -> DecodedImage) {
    self.count = count
    self.decode = decode
  }

  /// Frame `index` (`0 ..< count`).
  public func frame(_ index: Int) throws -> DecodedImage {
    precondition((0..<count).contains(index), "frame \(index) outside 0..<\(count)")
    return try decode(index)
  }
}

/// Reads clips in three layouts:
/// - a folder of frame pictures (any format `ImageDecoder` reads, by
///   extension), in file-name order (byte-wise, so number frames with
///   leading zeros, as `ffmpeg -i clip.mp4 frames/%05d.png` does);
/// - one picture holding the frames stacked vertically (a strip), each
///   `frameHeight` rows high (square frames, height = width, when nil);
/// - a `.npy` `[T, H, W, C]` (C 1, 3 or 4; scaled as `ImageDecoder` scales `.npy`).
public enum VideoDecoder {
  public static func open(path: String, frameHeight: Int?) throws -> VideoFrames {
    var isFolder: ObjCBool = false
    if path != AtomicFile.standardStream, FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
      return try folder(path)
    }
    let data = try AtomicFile.readAll(path)
    if data.starts(with: [0x93] + Array("NUMPY".utf8)) {
      let array = try NPYArray.read(data: data, name: path)
      switch array.shape.count {
      case 4: return try frames(array, data: data, name: path)
      case 2, 3: break  // a strip picture
      default:
        throw ReaderError(file: path, "a video .npy must be [T, H, W, C] (or a strip picture [H, W(, C)]), found shape \(array.shape)")
      }
    }
    return try strip(ImageDecoder.decode(data, name: path), frameHeight: frameHeight, name: path)
  }

  static func folder(_ path: String) throws -> VideoFrames {
    let names: [String]
    do {
      names = try FileManager.default.contentsOfDirectory(atPath: path)
    } catch {
      throw ReaderError(file: path, "cannot list the folder of frames: \(error.localizedDescription)")
    }
    let frames = names.filter { name in
      guard !name.hasPrefix("."), let dot = name.lastIndex(of: ".") else { return false }
      return ImageDecoder.extensions.contains(name[name.index(after: dot)...].lowercased())
    }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    guard !frames.isEmpty else {
      throw ReaderError(file: path, "the folder holds no frames (expected .png, .jpg, .jpeg, .pgm, .ppm, .pnm or .npy files)")
    }
    let folder = path.hasSuffix("/") ? path : path + "/"
    return VideoFrames(count: frames.count) { try ImageDecoder.read(path: folder + frames[$0]) }
  }

  static func strip(_ image: DecodedImage, frameHeight: Int?, name: String) throws -> VideoFrames {
    let height = frameHeight ?? image.width
    guard height > 0, image.height % height == 0 else {
      throw ReaderError(file: name, "a \(image.width)×\(image.height) strip does not split into frames \(height) rows high")
    }
    let plane = height * image.width * image.channels
    return VideoFrames(count: image.height / height) { index in
      DecodedImage(width: image.width, height: height, channels: image.channels,
        pixels: Array(image.pixels[(index * plane)..<((index + 1) * plane)]))
    }
  }

  static func frames(_ array: NPYArray, data: Data, name: String) throws -> VideoFrames {
    let shape = array.shape
    guard [1, 3, 4].contains(shape[3]) else {
      throw ReaderError(file: name, "a video .npy must be [T, H, W, C] with C 1, 3 or 4, found shape \(shape)")
    }
    guard shape[0] > 0 else { throw ReaderError(file: name, "the video has no frames") }
    try ImageDecoder.checkSize(width: shape[2], height: shape[1], name: name)
    let scale = try ImageDecoder.npySampleScale(data, name: name)
    guard array.values.allSatisfy(\.isFinite) else { throw ReaderError(file: name, "the video holds NaN or infinite values") }
    let stored = shape[3]
    let channels = stored == 1 ? 1 : 3
    let pixelCount = shape[1] * shape[2]
    return VideoFrames(count: shape[0]) { index in
      var pixels = [Float](repeating: 0, count: pixelCount * channels)
      let base = index * pixelCount * stored
      for pixel in 0..<pixelCount {
        for c in 0..<channels { pixels[pixel * channels + c] = array.values[base + pixel * stored + c] * scale }
      }
      return DecodedImage(width: shape[2], height: shape[1], channels: channels, pixels: pixels)
    }
  }
}
