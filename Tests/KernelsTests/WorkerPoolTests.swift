import Foundation
import Kernels
import TestSupport
import XCTest

final class WorkerPoolTests: XCTestCase {
  override func tearDown() {
    Threads.configure()
    super.tearDown()
  }

  /// Every index runs exactly once, for counts below, at and above the thread count.
  func testParallelForRunsEveryIndexOnce() {
    for threads in [1, 2, 3, 5] {
      Threads.configure(threads)
      XCTAssertEqual(Threads.count, threads)
      for iterations in [1, 2, 3, 4, 7, 64, 1001] {
        let hits = UnsafeMutableBufferPointer<Int32>.allocate(capacity: iterations)
        defer { hits.deallocate() }
        hits.initialize(repeating: 0)
        Threads.parallelFor(iterations) { index in hits[index] += 1 }
        XCTAssertEqual(Array(hits), Array(repeating: 1, count: iterations),
          "threads \(threads), iterations \(iterations)")
      }
    }
  }

  /// A region started inside a region runs serially on the slice that started it
  /// and still covers every index.
  func testNestedRegionRunsSeriallyAndCompletely() {
    Threads.configure(3)
    let outer = 6, inner = 50
    let hits = UnsafeMutableBufferPointer<Int32>.allocate(capacity: outer * inner)
    defer { hits.deallocate() }
    hits.initialize(repeating: 0)
    Threads.parallelFor(outer) { row in
      XCTAssertTrue(Threads.isInsideParallelRegion)
      Threads.parallelFor(inner) { column in hits[row * inner + column] += 1 }
    }
    XCTAssertFalse(Threads.isInsideParallelRegion)
    XCTAssertEqual(Array(hits), Array(repeating: 1, count: outer * inner))
  }

  /// Workers asleep after a long pause wake for the next region (and a region
  /// right after another finds them spinning); both give the full result.
  func testRegionsAfterSleepAndBackToBack() {
    Threads.configure(2)
    for pause in [0, 0, 5_000, 0, 20_000, 1] {
      if pause > 0 { usleep(useconds_t(pause)) }
      let sums = UnsafeMutableBufferPointer<Int>.allocate(capacity: 2)
      defer { sums.deallocate() }
      sums.initialize(repeating: 0)
      Threads.parallelFor(2) { slice in
        for value in 0..<10_000 { sums[slice] += value % 7 }
      }
      XCTAssertEqual(sums[0] + sums[1], 2 * (0..<10_000).reduce(0) { $0 + $1 % 7 }, "pause \(pause) µs")
    }
  }

  /// Many short regions back to back, with the pool rebuilt between batches of
  /// them: every slice of every region runs exactly once (a claim that
  /// straddled two regions would run a slice twice or never).
  func testManyShortRegionsLoseAndRepeatNothing() {
    let regions = 20_000
    for threads in [2, 3, 4, 2] {
      Threads.configure(threads)
      let hits = UnsafeMutableBufferPointer<Int32>.allocate(capacity: 5)
      defer { hits.deallocate() }
      hits.initialize(repeating: 0)
      let onWorkers = UnsafeMutableBufferPointer<Int32>.allocate(capacity: 5)
      defer { onWorkers.deallocate() }
      onWorkers.initialize(repeating: 0)
      var expected = [Int32](repeating: 0, count: 5)
      let caller = pthread_self()
      for region in 0..<regions {
        let slices = 2 + region % 4
        // Slices may land on different threads, so each adds to its own cells only;
        // a little work per slice gives the workers time to claim some.
        Threads.parallelFor(slices) { slice in
          var work = Double(slice + 1)
          for _ in 0..<500 { work = work * 1.000_001 + 0.5 }  // about 1 µs, not foldable
          hits[slice] += work > 0 ? 1 : 0
          if pthread_equal(pthread_self(), caller) == 0 { onWorkers[slice] += 1 }
        }
        for slice in 0..<slices { expected[slice] += 1 }
      }
      XCTAssertEqual(Array(hits), expected, "\(threads) threads")
      XCTAssertGreaterThan(onWorkers.reduce(0, +), 0, "\(threads) threads: the workers took part")
    }
  }

  /// Two threads starting regions at once: one gets the pool, the other runs
  /// serially; neither loses work.
  func testConcurrentCallersBothComplete() {
    Threads.configure(2)
    let count = 4_000
    let first = UnsafeMutableBufferPointer<Int32>.allocate(capacity: count)
    let second = UnsafeMutableBufferPointer<Int32>.allocate(capacity: count)
    defer {
      first.deallocate()
      second.deallocate()
    }
    first.initialize(repeating: 0)
    second.initialize(repeating: 0)
    let group = DispatchGroup()
    for buffer in [first, second] {
      nonisolated(unsafe) let buffer = buffer
      DispatchQueue.global().async(group: group) {
        for _ in 0..<200 { Threads.parallelFor(count) { buffer[$0] += 1 } }
      }
    }
    XCTAssertEqual(group.wait(timeout: .now() + 60), .success)
    XCTAssertEqual(Array(first), Array(repeating: 200, count: count))
    XCTAssertEqual(Array(second), Array(repeating: 200, count: count))
  }
}
