import MetaTX
import TestSupport
import XCTest

final class TokenizerSettingsTests: XCTestCase {
  func testSettingsChangeTheDefaultConfigurationAndBadOnesAreReported() throws {
    let settings = try TokenizerSettings(parsing: ["image.imageSize=28", "image.patchSize=4", "text.lowercase=false"])
    let image = try settings.apply(to: ImageTokenizer.defaultConfiguration(fittingTo: []), modality: .image)
    XCTAssertEqual(image.imageSize, 28)
    XCTAssertEqual(image.patchSize, 4)
    let text = try settings.apply(to: TextTokenizer.defaultConfiguration(fittingTo: []), modality: .text)
    XCTAssertFalse(text.lowercase)
    XCTAssertThrowsError(try TokenizerSettings(parsing: ["imageSize=28"])) {
      XCTAssertTrue("\($0)".contains("MODALITY.FIELD=VALUE"), "\($0)")
    }
    let unknown = try TokenizerSettings(parsing: ["image.imageSise=28"])
    XCTAssertThrowsError(try unknown.apply(to: ImageTokenizer.defaultConfiguration(fittingTo: []), modality: .image)) {
      XCTAssertTrue("\($0)".contains("image.imageSise: no such setting"), "\($0)")
    }
    let wrongType = try TokenizerSettings(parsing: ["image.imageSize=large"])
    XCTAssertThrowsError(try wrongType.apply(to: ImageTokenizer.defaultConfiguration(fittingTo: []), modality: .image))
  }
}
