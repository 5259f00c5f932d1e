/// SHA-256 (FIPS 180-4), for naming a file by its contents: a task file
/// trained on a frozen encoder records the encoder's digest instead of a copy,
/// and refuses an encoder file whose bytes changed since.
///
/// Plain Swift, one pass over bytes already in memory (a mapped file);
/// hashes a 340 MB encoder in about a second in a release build.
public struct SHA256: Sendable {
  private static let roundConstants: [UInt32] = [
    0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
    0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
    0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
    0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
    0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
    0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
    0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
    0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
  ]

  private var state: [UInt32] = [
    0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19,
  ]

  /// The digest of `bytes` as 64 lowercase hexadecimal digits.
  public static func hexDigest(_ bytes: UnsafeRawBufferPointer) -> String {
    var hasher = SHA256()
    let wholeBlocks = bytes.count / 64
    if let base = bytes.baseAddress {
      for block in 0..<wholeBlocks { hasher.compress(base + block * 64) }
    }
    // The tail: the remaining bytes, 0x80, zeros, then the length in bits (big-endian).
    let remainder = bytes.count - wholeBlocks * 64
    var tail = [UInt8](repeating: 0, count: remainder < 56 ? 64 : 128)
    for index in 0..<remainder { tail[index] = bytes[wholeBlocks * 64 + index] }
    tail[remainder] = 0x80
    let bitCount = UInt64(bytes.count) &* 8
    for index in 0..<8 { tail[tail.count - 1 - index] = UInt8(truncatingIfNeeded: bitCount >> (8 * UInt64(index))) }
    tail.withUnsafeBytes { tailBytes in
      for block in 0..<(tailBytes.count / 64) { hasher.compress(tailBytes.baseAddress! + block * 64) }
    }
    return hasher.state.map { word in
      let text = String(word, radix: 16)
      return String(repeating: "0", count: 8 - text.count) + text
    }.joined()
  }

  /// The digest of `bytes` as 64 lowercase hexadecimal digits.
  public static func hexDigest(_ bytes: [UInt8]) -> String {
    bytes.withUnsafeBytes { hexDigest($0) }
  }

  private mutating func compress(_ block: UnsafeRawPointer) {
    withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { schedule in
      for index in 0..<16 {
        schedule[index] = UInt32(bigEndian: block.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self))
      }
      for index in 16..<64 {
        let early = schedule[index - 15], late = schedule[index - 2]
        let sigma0 = early.rotatedRight(7) ^ early.rotatedRight(18) ^ (early >> 3)
        let sigma1 = late.rotatedRight(17) ^ late.rotatedRight(19) ^ (late >> 10)
        schedule[index] = schedule[index - 16] &+ sigma0 &+ schedule[index - 7] &+ sigma1
      }
      var a = state[0], b = state[1], c = state[2], d = state[3]
      var e = state[4], f = state[5], g = state[6], h = state[7]
      for index in 0..<64 {
        let sum1 = e.rotatedRight(6) ^ e.rotatedRight(11) ^ e.rotatedRight(25)
        let choice = (e & f) ^ (~e & g)
        let first = h &+ sum1 &+ choice &+ Self.roundConstants[index] &+ schedule[index]
        let sum0 = a.rotatedRight(2) ^ a.rotatedRight(13) ^ a.rotatedRight(22)
        let majority = (a & b) ^ (a & c) ^ (b & c)
        h = g
        g = f
        f = e
        e = d &+ first
        d = c
        c = b
        b = a
        a = first &+ sum0 &+ majority
      }
      state[0] &+= a
      state[1] &+= b
      state[2] &+= c
      state[3] &+= d
      state[4] &+= e
      state[5] &+= f
      state[6] &+= g
      state[7] &+= h
    }
  }
}

extension UInt32 {
  fileprivate func rotatedRight(_ count: UInt32) -> UInt32 { (self >> count) | (self << (32 - count)) }
}
