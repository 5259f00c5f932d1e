import Foundation
import MetaTX

/// What `metatx-bench` measures, parsed from its command line.
///
/// The target depends on MetaTX and Kernels only, so the few flags are parsed
/// by hand rather than through ArgumentParser.
struct BenchOptions {
  /// Timed runs per measurement, after one untimed warm-up.
  var repeats = 5
  /// Rounds of (metatx, then the peer) per preset: the figures are medians over
  /// rounds, and the ratio to the peer the median of each round's own ratio, so
  /// a change of machine load between two programs' turns moves one round only.
  var rounds = 3
  /// Threads to run on; nil: `Threads.configure()`'s default.
  var threads: Int?
  var presets: [EncoderPreset] = [.tiny, .small, .base]
  var json = false
  var peer: PeerChoice = .automatic

  static let tokens = 197
  static let forwardBatches = [1, 8]
  static let trainingBatch = 8
  /// Training steps are measured for these presets only (base would take minutes).
  static let trainingPresets: Set<EncoderPreset> = [.tiny, .small]

  static let usage = """
    USAGE: metatx-bench [--repeats R] [--rounds N] [--threads T] [--presets tiny,small,base] [--quick]
                        [--peer PYTHON | --no-peer] [--json]

    Times the shared encoder (\(tokens) tokens) forward at batch \(forwardBatches.map(String.init).joined(separator: " and ")) and one
    training step (forward, backward, AdamW, zero gradients) at batch \(trainingBatch) for tiny and small,
    against "the GEMM limit": threaded OpenBLAS sgemm on the encoder's own Linear products, timed
    in the same run. Figures are medians of R repeats after one warm-up; each preset is
    measured in N rounds, metatx then the PyTorch peer, and the table gives medians over
    rounds and the median of the rounds' own metatx/torch ratios.

    OPTIONS:
      --repeats R       timed repeats per measurement (default 5)
      --rounds N        rounds of metatx then peer per preset (default 3)
      --threads T       threads to run on (default: OPENBLAS_NUM_THREADS, else all cores)
      --presets LIST    comma-separated presets among tiny, small, base, large (default tiny,small,base)
      --quick           smoke run: R = 1, N = 1, tiny only
      --peer PYTHON     Python with torch for Scripts/bench_torch.py (default: $METATX_PEER_PYTHON,
                        else .venv-bench/bin/python if it exists, else no peer)
      --no-peer         do not run the PyTorch peer
      --json            one JSON object per measurement instead of the table
      -h, --help        show this help
    """

  /// Parses `arguments` (without the program name).
  static func parse(_ arguments: [String]) throws -> BenchOptions {
    var options = BenchOptions()
    var remaining = arguments[...]
    func value(of flag: String) throws -> String {
      guard let next = remaining.popFirst() else { throw UsageError("\(flag) needs a value") }
      return next
    }
    while let flag = remaining.popFirst() {
      switch flag {
      case "--repeats":
        let text = try value(of: flag)
        guard let count = Int(text), count >= 1 else {
          throw UsageError("--repeats expects a positive integer, got '\(text)'")
        }
        options.repeats = count
      case "--rounds":
        let text = try value(of: flag)
        guard let count = Int(text), count >= 1 else {
          throw UsageError("--rounds expects a positive integer, got '\(text)'")
        }
        options.rounds = count
      case "--threads":
        let text = try value(of: flag)
        guard let count = Int(text), count >= 1 else {
          throw UsageError("--threads expects a positive integer, got '\(text)'")
        }
        options.threads = count
      case "--presets":
        options.presets = try value(of: flag).split(separator: ",").map { name in
          guard let preset = EncoderPreset(rawValue: String(name)) else {
            let known = EncoderPreset.allCases.map(\.rawValue).joined(separator: ", ")
            throw UsageError("unknown preset '\(name)'; choose among \(known)")
          }
          return preset
        }
        if options.presets.isEmpty { throw UsageError("--presets needs at least one preset") }
      case "--quick":
        options.repeats = 1
        options.rounds = 1
        options.presets = [.tiny]
      case "--peer":
        options.peer = .python(try value(of: flag))
      case "--no-peer":
        options.peer = .none
      case "--json":
        options.json = true
      case "-h", "--help":
        throw UsageError(nil)
      default:
        throw UsageError("unknown argument '\(flag)'")
      }
    }
    return options
  }
}

/// Which Python runs the PyTorch peer benchmark.
enum PeerChoice {
  /// `$METATX_PEER_PYTHON`, else `.venv-bench/bin/python` when present, else none.
  case automatic
  case python(String)
  case none
}

/// A bad command line; a nil message asks for the usage text alone.
struct UsageError: Error {
  let message: String?
  init(_ message: String?) { self.message = message }
}
