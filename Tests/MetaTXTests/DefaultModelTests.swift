import MetaTX
import XCTest

final class DefaultModelTests: XCTestCase {
  func testCandidatesFollowTheEnvironmentTheInstallAndTheSourceTree() {
    let candidates = DefaultModel.candidates(
      executable: "/opt/metatx/bin/metatx", environment: ["METATX_MODEL": "/models/mine.safetensors"])
    XCTAssertEqual(candidates[0], "/models/mine.safetensors")
    XCTAssertEqual(candidates[1], "/opt/metatx/share/metatx/default.safetensors")
    XCTAssertTrue(candidates.contains("/opt/Models/default.safetensors"))
    let built = DefaultModel.candidates(executable: "/src/metatx/.build/x86_64-unknown-linux-gnu/release/metatx", environment: [:])
    XCTAssertTrue(built.contains("/src/metatx/Models/default.safetensors"), "\(built)")
    XCTAssertFalse(built.contains { $0.isEmpty })
  }
}
