import Kernels
import Readers

/// Antialiased bicubic resampling of planes, `[C, H, W]` → `[C, H', W']`:
/// Pillow's `Image.resize(size, BICUBIC)` (CLIP's preprocessing) and PyTorch's
/// `F.interpolate(mode="bicubic", antialias=True)` (timm's
/// `resample_abs_pos_embed`), which is the same algorithm in float.
///
/// Separable: rows, then columns. Output sample `i` of an axis of `n` inputs
/// resized to `m` is centred at `c = (i + ½)·s` with `s = n / m`; its weights
/// are `k((j − c + ½) / f)` for inputs `j` within the support `2f` of `c`,
/// normalised to sum 1, where `f = max(s, 1)` widens the kernel when shrinking
/// (the antialiasing) and `k` is Keys' cubic with `a = −½`:
/// `k(x) = (a+2)|x|³ − (a+3)|x|² + 1` for `|x| < 1`,
/// `a|x|³ − 5a|x|² + 8a|x| − 4a` for `1 ≤ |x| < 2`, else 0.
/// Reference: Pillow `libImaging/Resample.c` (`precompute_coeffs`, `bicubic_filter`).
///
/// Pillow rounds 8-bit images to integers after each pass; this stays in
/// float, so results agree with Pillow's to within about one 8-bit step.
public enum BicubicResampler {
  /// Keys' cubic convolution kernel with `a = −½`.
  static func kernel(_ x: Double) -> Double {
    let a = -0.5
    let x = abs(x)
    if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
    if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
    return 0
  }

  /// The weights of one axis resized from `input` to `output` samples: for
  /// output `i`, inputs `first[i] ..< first[i] + weights[i].count`.
  static func axisWeights(input: Int, output: Int) -> (first: [Int], weights: [[Double]]) {
    let scale = Double(input) / Double(output)
    let filterScale = max(scale, 1)
    let support = 2 * filterScale
    var first: [Int] = []
    var weights: [[Double]] = []
    for i in 0..<output {
      let centre = (Double(i) + 0.5) * scale
      // Int(_:) truncates toward zero like Pillow's C cast.
      let low = max(Int(centre - support + 0.5), 0)
      let high = min(Int(centre + support + 0.5), input)
      var row = (low..<high).map { kernel((Double($0) - centre + 0.5) / filterScale) }
      let total = row.reduce(0, +)
      if total != 0 { row = row.map { $0 / total } }
      first.append(low)
      weights.append(row)
    }
    return (first, weights)
  }

  /// Resizes `planes` `[C, H, W]` to `[C, toHeight, toWidth]`.
  public static func resize(
    _ planes: [Float], channels: Int, height: Int, width: Int, toHeight: Int, toWidth: Int
  ) -> [Float] {
    precondition(planes.count == channels * height * width, "\(planes.count) samples do not fill [\(channels), \(height), \(width)]")
    precondition(toHeight > 0 && toWidth > 0, "cannot resize to \(toHeight)×\(toWidth)")
    if height == toHeight && width == toWidth { return planes }
    // Rows: [C, H, W] → [C, H, W'].
    let columns = axisWeights(input: width, output: toWidth)
    var wide = [Float](repeating: 0, count: channels * height * toWidth)
    for row in 0..<(channels * height) {
      for x in 0..<toWidth {
        var sum = 0.0
        for (k, weight) in columns.weights[x].enumerated() {
          sum += weight * Double(planes[row * width + columns.first[x] + k])
        }
        wide[row * toWidth + x] = Float(sum)
      }
    }
    // Columns: [C, H, W'] → [C, H', W'].
    let rows = axisWeights(input: height, output: toHeight)
    var result = [Float](repeating: 0, count: channels * toHeight * toWidth)
    for c in 0..<channels {
      for y in 0..<toHeight {
        for x in 0..<toWidth {
          var sum = 0.0
          for (k, weight) in rows.weights[y].enumerated() {
            sum += weight * Double(wide[(c * height + rows.first[y] + k) * toWidth + x])
          }
          result[(c * toHeight + y) * toWidth + x] = Float(sum)
        }
      }
    }
    return result
  }
}

/// The fixed preprocessing of pictures (CLIP's, as torchvision composes it):
/// channel conversion, resize so the shorter side is `size` (bicubic, above),
/// centre crop to `size × size`, then `(x − mean_c) / std_c` per channel on
/// samples already scaled to [0, 1].
public enum ImagePreprocessing {
  /// `[H, W, C]` → `[C, H, W]`, converting to `channels` (1 or 3): gray is
  /// repeated into RGB; RGB becomes gray by ITU-R 601-2 luma
  /// (`0.299 R + 0.587 G + 0.114 B`, PIL's `convert("L")`).
  public static func planes(_ image: DecodedImage, channels: Int) -> [Float] {
    precondition(channels == 1 || channels == 3, "pictures have 1 or 3 channels, not \(channels)")
    let pixelCount = image.width * image.height
    var planes = [Float](repeating: 0, count: channels * pixelCount)
    for pixel in 0..<pixelCount {
      let base = pixel * image.channels
      switch (image.channels, channels) {
      case (1, _):
        for c in 0..<channels { planes[c * pixelCount + pixel] = image.pixels[base] }
      case (_, 1):
        planes[pixel] = 0.299 * image.pixels[base] + 0.587 * image.pixels[base + 1] + 0.114 * image.pixels[base + 2]
      default:
        for c in 0..<3 { planes[c * pixelCount + pixel] = image.pixels[base + c] }
      }
    }
    return planes
  }

  /// torchvision `Resize(size)` with an int: the shorter side becomes `size`,
  /// the longer `⌊size · long / short⌋`. Returns (height, width).
  public static func resizedShape(height: Int, width: Int, shorterSide size: Int) -> (height: Int, width: Int) {
    if width <= height { return (size * height / width, size) }
    return (size, size * width / height)
  }

  /// The whole pipeline: `image` → `[channels, size, size]`, normalised.
  public static func apply(_ image: DecodedImage, size: Int, channels: Int, mean: [Float], std: [Float]) -> Tensor {
    let source = planes(image, channels: channels)
    let shape = resizedShape(height: image.height, width: image.width, shorterSide: size)
    let resized = BicubicResampler.resize(
      source, channels: channels, height: image.height, width: image.width, toHeight: shape.height, toWidth: shape.width)
    // torchvision CenterCrop: offsets int(round((side − size) / 2)), Python's round half to even.
    let top = Int((Double(shape.height - size) / 2).rounded(.toNearestOrEven))
    let left = Int((Double(shape.width - size) / 2).rounded(.toNearestOrEven))
    let output = Tensor(shape: [channels, size, size])
    for c in 0..<channels {
      let inverseStd = 1 / std[c]
      for y in 0..<size {
        for x in 0..<size {
          let value = resized[(c * shape.height + top + y) * shape.width + left + x]
          output[(c * size + y) * size + x] = (value - mean[c]) * inverseStd
        }
      }
    }
    return output
  }

  /// Patches of `pixels` `[C, H, W]` as rows, `[(H/p)·(W/p), C·p·p]`, in
  /// row-major grid order; each row is ordered (channel, row, column), the
  /// order of a flattened PyTorch `Conv2d` weight `[D, C, p, p]`, so official
  /// patch-embedding weights load as the projection unchanged.
  public static func patches(_ pixels: Tensor, patch: Int) -> Tensor {
    precondition(pixels.rank == 3, "pixels must be [C, H, W], are \(pixels.shape)")
    let channels = pixels.shape[0], height = pixels.shape[1], width = pixels.shape[2]
    precondition(height % patch == 0 && width % patch == 0, "\(height)×\(width) is not a multiple of the patch \(patch)")
    let rows = height / patch, columns = width / patch
    let output = Tensor(shape: [rows * columns, channels * patch * patch])
    var index = 0
    for gy in 0..<rows {
      for gx in 0..<columns {
        for c in 0..<channels {
          for y in 0..<patch {
            let source = pixels.data + (c * height + gy * patch + y) * width + gx * patch
            (output.data + index).update(from: source, count: patch)
            index += patch
          }
        }
      }
    }
    return output
  }
}
