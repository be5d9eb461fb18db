import EdgeAVCore
import XCTest

/// Manifests written by edgeav's real build_manifest parse; broken ones fail naming the field and the fix.
final class ManifestTests: XCTestCase {
    private let segmentation = "lightavseg_small_fp32.pte.json"

    private func failure(_ text: String) -> String {
        do {
            _ = try Manifest.parse(Data(text.utf8), source: "m.json")
            XCTFail("expected a ManifestError")
            return ""
        } catch { return "\(error)" }
    }

    private func text(_ name: String) throws -> String { try String(contentsOf: Golden.manifestURL(name), encoding: .utf8) }

    func testEveryGoldenManifestParses() throws {
        let names = Golden.cases["manifests"] as! [String]
        XCTAssertEqual(names.count, 12)
        for name in names {
            let m = try Manifest.parse(Data(contentsOf: Golden.dir.appendingPathComponent(name)), source: name)
            XCTAssertEqual(m.artifact + ".json", (name as NSString).lastPathComponent)
            XCTAssertEqual(m.sha256.count, 64)
        }
    }

    func testBinarySegmentationIsAThresholdWithATrailingWindow() throws {
        let m = try Golden.manifest(segmentation)
        XCTAssertEqual(m.postprocess, .threshold(output: "mask", channel: 0, value: 0.5))
        XCTAssertEqual(m.audio?.window, .trailing)
        XCTAssertEqual(m.audio?.videoDelaySamples, 0)
        XCTAssertEqual(try RuntimeKind.of(m), .executorch)
        XCTAssertNil(RuntimeKind.versionWarning(m))
    }

    func testCoreMLAndSemanticAndSaliency() throws {
        let coreml = try Golden.manifest("lightavseg_small_fp16.mlpackage.json")
        XCTAssertEqual(try RuntimeKind.of(coreml), .coreml)
        guard case let .argmax(_, background, labels) = try Golden.manifest("lightavseg_small-avss_fp32.pte.json").postprocess else {
            return XCTFail("semantic heads are argmax")
        }
        XCTAssertEqual(background, 0)
        XCTAssertEqual(labels.count, 71)
        XCTAssertEqual(try Golden.manifest("saliency-student_golden_fp32.pte.json").postprocess, .saliency(output: "saliency", channel: 0, minMax: true))
    }

    func testStreamingAndImageOnlyStudents() throws {
        let streaming = try Golden.manifest("saliency-student_golden_fp32.pte.json")
        XCTAssertEqual(streaming.state, [StateInput(input: "state", fromOutput: "next_state")])
        XCTAssertEqual(streaming.audio?.window, .trailing)
        let image = try Golden.manifest("saliency-image_golden_fp16.mlpackage.json")
        XCTAssertNil(image.audio)
        XCTAssertEqual(image.image.input, "image")
    }

    func testLiteRTIsSentToTheAndroidApp() throws {
        XCTAssertThrowsError(try RuntimeKind.of(Golden.manifest("lightavseg_small_fp32.tflite.json"))) { error in
            XCTAssertTrue("\(error)".contains("android_demo"))
        }
    }

    func testAMissingFieldIsNamedWithItsPath() throws {
        let message = failure(try text(segmentation).replacingOccurrences(of: "\"height\": 64,", with: ""))
        XCTAssertTrue(message.contains("'preprocess.image.height' is missing") && message.contains("edgeav export"), message)
    }

    func testSchemaVersionsOutsideTheAppsAreRefused() throws {
        let t = try text(segmentation)
        XCTAssertTrue(failure(t.replacingOccurrences(of: "\"schema_version\": 2", with: "\"schema_version\": 3")).contains("update the app"))
        XCTAssertTrue(failure(t.replacingOccurrences(of: "\"schema_version\": 2", with: "\"schema_version\": 1")).contains("re-export"))
    }

    func testGeometryAndTimers() throws {
        let g = try Geometry(width: 640, height: 480, rotation: 90, outWidth: 64, outHeight: 64)
        XCTAssertEqual(g.crop, Geometry.Crop(x0: 0, y0: 80, width: 480, height: 480))
        let r = g.overlayRect(viewWidth: 1080, viewHeight: 1920)
        XCTAssertEqual([r.x, r.y, r.width, r.height], [0, 420, 1080, 1080])
        XCTAssertThrowsError(try Geometry(width: 4, height: 4, rotation: 45, outWidth: 2, outHeight: 2))
        let timer = StageTimer(warmup: 1, window: 10)
        timer.record(pre: 1, infer: 1, post: 1, end: 0)
        XCTAssertNil(timer.summary())
        for k in 0..<5 { timer.record(pre: 0.001, infer: 0.02, post: 0.002, end: 1 + Double(k) * 0.05) }
        XCTAssertEqual(timer.summary()!.fps, 20, accuracy: 1e-9)
        let line = DelayLine<String>(delaySamples: 8000)
        line.add("a", heardAt: 0)
        line.add("b", heardAt: 4000)
        XCTAssertNil(line.poll(heardNow: 7999))
        XCTAssertEqual(line.poll(heardNow: 12000), "b")
    }

    func testTheCatalogChecksTheArtifactBeside() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let name = segmentation
        try FileManager.default.copyItem(at: Golden.manifestURL(name), to: dir.appendingPathComponent(name))
        XCTAssertTrue(ModelCatalog.load(dir, verifySha256: true)[0].problem!.contains("is missing"))
        let artifact = String(name.dropLast(5))
        try Data("edgeav golden placeholder for \(artifact)\n".utf8).write(to: dir.appendingPathComponent(artifact))
        XCTAssertTrue(ModelCatalog.load(dir, verifySha256: true)[0].usable)
        try Data("tampered\n".utf8).write(to: dir.appendingPathComponent(artifact))
        #if canImport(CryptoKit)
        XCTAssertTrue(ModelCatalog.load(dir, verifySha256: true)[0].problem!.contains("sha256"))
        #endif
    }
}
