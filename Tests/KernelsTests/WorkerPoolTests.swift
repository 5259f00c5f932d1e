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
