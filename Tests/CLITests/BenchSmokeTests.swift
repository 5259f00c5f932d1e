import Foundation
import TestSupport
import XCTest

/// `make bench`'s program runs end to end (smallest settings; no timing is
/// asserted — speed is read from `make bench`, never from a test).
final class BenchSmokeTests: XCTestCase {
  func testQuickRunPrintsOneJSONObjectPerMeasurement() throws {
    let result = try runBuiltExecutable(named: "metatx-bench", ["--quick", "--no-peer", "--json", "--threads", "1"])
    XCTAssertEqual(result.status, 0, result.standardError)
    let lines = result.outputText.split(separator: "\n")
    XCTAssertEqual(lines.count, 3, "tiny forward at batch 1 and 8, one training step")
    var kinds: [String] = []
    for line in lines {
      let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
      XCTAssertEqual(object["preset"] as? String, "tiny")
      XCTAssertEqual(object["rounds"] as? Int, 1)
      XCTAssertEqual(object["threads"] as? Int, 1)
      let rate = try XCTUnwrap(object["sequences_per_second"] as? Double)
      let limit = try XCTUnwrap(object["gemm_limit_gflops"] as? Double)
      XCTAssertTrue(rate.isFinite && rate > 0 && limit.isFinite && limit > 0, "\(object)")
      XCTAssertTrue(object["ratio_to_peer"] is NSNull, "no peer was asked for")
      kinds.append("\(object["kind"] ?? "")-\(object["batch"] ?? "")")
    }
    XCTAssertEqual(kinds, ["forward-1", "forward-8", "train_step-8"])
  }

  func testBadRoundsIsAUsageError() throws {
    let result = try runBuiltExecutable(named: "metatx-bench", ["--rounds", "0"])
    XCTAssertEqual(result.status, 2)
    XCTAssertTrue(result.standardError.contains("--rounds expects a positive integer"), result.standardError)
  }
}
