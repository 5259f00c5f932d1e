import Foundation
import Synchronization

/// metatx's own threads: `threads − 1` workers plus the calling thread, which
/// run the slices of one parallel region at a time.
///
/// Why not Dispatch or OpenBLAS's pool: a batch-1 forward of the tiny encoder
/// is 144 parallel regions (12 per block: two LayerNorms, four GEMMs and their
/// bias passes, attention, GELU) in about 16 ms, some 110 µs each. Dispatch
/// puts its threads to sleep between regions, so each region starts with a
/// wake-up (a system call and a scheduler hand-off to another core); OpenBLAS's pool
/// spins, but only inside BLAS, and two pools spinning at once take each other's
/// cores. Here the workers spin for `spinDuration` after a region before they
/// sleep, so back-to-back regions start at once, and a late worker never holds
/// the caller up: slices are claimed, not assigned, so the caller takes any slice
/// no worker has started.
///
/// Which thread runs a slice does not change its result: each slice is a fixed
/// part of the work, decided by the caller before the region starts.
final class WorkerPool: @unchecked Sendable {
  /// How long an idle worker spins before it sleeps.
  static let spinDuration: UInt64 = 200_000  // nanoseconds

  /// The threads a region runs on, the caller included.
  let threads: Int

  /// The region on offer, packed in one word so a worker claims a slice with one
  /// compare-and-swap: bits 32… the region's number, bits 16–31 its slice count,
  /// bits 0–15 the next unclaimed slice. A claim that succeeds is a slice of the
  /// region in this word, whose body stays valid until every claimed slice is done.
  private let offer = Atomic<Int>(0)
  /// Slices of the current region finished so far.
  private let finished = Atomic<Int>(0)
  /// Workers asleep on `wakeUp`.
  private let sleepers = Atomic<Int>(0)
  /// Set while a region runs: a region started from inside one (or from another
  /// thread meanwhile) runs serially on its caller instead.
  private let busy = Atomic<Bool>(false)
  private let stopping = Atomic<Bool>(false)
  private let wakeUp = NSCondition()
  /// The current region's body; written before its offer is published.
  private nonisolated(unsafe) var body: ((Int) -> Void)?

  static let maximumSlices = 1 << 16 - 1

  init(threads: Int) {
    self.threads = max(1, threads)
    for index in 1..<self.threads {
      let worker = Thread { [self] in workerLoop() }
      worker.name = "metatx-worker-\(index)"
      worker.start()
    }
  }

  /// Whether a region is running (a GEMM inside one is not split again).
  var isRunningRegion: Bool { busy.load(ordering: .relaxed) }

  /// Stops the workers after the region in progress, if any.
  func shutDown() {
    stopping.store(true, ordering: .sequentiallyConsistent)
    wakeUp.lock()
    wakeUp.broadcast()
    wakeUp.unlock()
  }

  /// Runs `body(slice)` for every slice in `0..<slices`, spread over the threads;
  /// returns when all are done. Serial when another region is running.
  func run(slices: Int, _ body: (Int) -> Void) {
    precondition(slices <= Self.maximumSlices, "WorkerPool: \(slices) slices")
    guard slices > 0 else { return }
    guard threads > 1, slices > 1,
      busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
    else {
      for slice in 0..<slices { body(slice) }
      return
    }
    defer { busy.store(false, ordering: .releasing) }
    withoutActuallyEscaping(body) { body in
      self.body = body
      finished.store(0, ordering: .relaxed)
      let region = (offer.load(ordering: .relaxed) >> 32) + 1
      offer.store(region << 32 | slices << 16, ordering: .sequentiallyConsistent)
      if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
        wakeUp.lock()
        wakeUp.broadcast()
        wakeUp.unlock()
      }
      runClaimedSlices()
      var spins = 0
      while finished.load(ordering: .acquiring) < slices {
        spins &+= 1
        // A worker still on a slice may be waiting for this core (more threads
        // than cores): after a short spin, offer it the core.
        if spins > 1_000 { sched_yield() }
      }
      self.body = nil
    }
  }

  /// Claims and runs slices of the region on offer until none is left.
  private func runClaimedSlices() {
    var current = offer.load(ordering: .acquiring)
    while Self.hasUnclaimedSlice(current) {
      let (exchanged, original) = offer.compareExchange(
        expected: current, desired: current + 1, ordering: .acquiringAndReleasing)
      guard exchanged else {
        current = original
        continue
      }
      body!(current & 0xFFFF)
      finished.add(1, ordering: .releasing)
      current = offer.load(ordering: .acquiring)
    }
  }

  private static func hasUnclaimedSlice(_ offer: Int) -> Bool {
    offer & 0xFFFF < (offer >> 16) & 0xFFFF
  }

  private func workerLoop() {
    while !stopping.load(ordering: .relaxed) {
      waitForOffer()
      runClaimedSlices()
    }
  }

  /// Spins until a slice is on offer (or the pool stops), then sleeps.
  private func waitForOffer() {
    var spins = 0
    var deadline: UInt64 = 0
    while !Self.hasUnclaimedSlice(offer.load(ordering: .relaxed)) {
      if stopping.load(ordering: .relaxed) { return }
      spins &+= 1
      guard spins & 255 == 0 else { continue }
      // Spinning on a shared core must not starve the threads doing the work.
      sched_yield()
      let now = DispatchTime.now().uptimeNanoseconds
      if deadline == 0 {
        deadline = now + Self.spinDuration
      } else if now > deadline {
        sleepUntilOffer()
        return
      }
    }
  }

  private func sleepUntilOffer() {
    wakeUp.lock()
    sleepers.add(1, ordering: .sequentiallyConsistent)
    while !Self.hasUnclaimedSlice(offer.load(ordering: .sequentiallyConsistent))
      && !stopping.load(ordering: .sequentiallyConsistent)
    {
      wakeUp.wait()
    }
    sleepers.subtract(1, ordering: .sequentiallyConsistent)
    wakeUp.unlock()
  }
}
