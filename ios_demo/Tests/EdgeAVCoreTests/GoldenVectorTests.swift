import EdgeAVCore
import XCTest

/// The Swift core reproduces the Python reference on the same golden vectors as android_demo/core.
final class GoldenVectorTests: XCTestCase {
    private func assertClose(_ name: String, _ expected: [Float], _ actual: [Float], tolerance: Float = 1e-5) {
        XCTAssertEqual(expected.count, actual.count, name)
        let worst = zip(expected, actual).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, tolerance, "\(name): max abs difference \(worst)")
    }

    private func rgbaCases() -> [[String: Any]] { Golden.list("frames").filter { $0["kind"] as? String == "rgba" } }

    private func run(_ c: [String: Any], order: FrameConverter.Order, bytes: [UInt8]) throws -> [Float] {
        let g = try Geometry(width: c.int("width"), height: c.int("height"), rotation: c.int("rotation"),
                             outWidth: c.int("out_width"), outHeight: c.int("out_height"))
        let conv = FrameConverter(g)
        var out = [Float](repeating: 0, count: conv.count)
        bytes.withUnsafeBytes { conv.convert($0, bytesPerRow: c.int("width") * 4, order: order, into: &out) }
        return out
    }

    func testRgbaFramesMatchTheReference() throws {
        XCTAssertEqual(rgbaCases().count, 4)
        for c in rgbaCases() {
            assertClose(c.str("name"), Golden.floats(c.str("expected")), try run(c, order: .rgba, bytes: Golden.bytes(c.str("source"))))
        }
    }

    func testBgraFramesGiveTheSameTensor() throws {
        for c in rgbaCases() {
            var bgra = Golden.bytes(c.str("source"))
            for i in stride(from: 0, to: bgra.count, by: 4) { bgra.swapAt(i, i + 2) }
            assertClose(c.str("name"), Golden.floats(c.str("expected")), try run(c, order: .bgra, bytes: bgra))
        }
    }

    func testOverlaysMatchPixelForPixel() throws {
        let cases = Golden.list("overlays")
        XCTAssertEqual(cases.map { $0.str("name") }, ["threshold", "argmax", "saliency"])
        for c in cases {
            let rule = c["postprocess"] as! [String: Any]
            let post: Postprocess
            switch rule.str("kind") {
            case "threshold": post = .threshold(output: rule.str("output"), channel: rule.int("channel"), value: (rule["value"] as! NSNumber).floatValue)
            case "argmax": post = .argmax(output: rule.str("output"), background: rule.int("background"), labels: rule["labels"] as! [String])
            default: post = .saliency(output: rule.str("output"), channel: rule.int("channel"), minMax: rule.str("normalize") == "min-max")
            }
            let shape = (c["shape"] as! [NSNumber]).map(\.intValue)
            XCTAssertEqual(Overlay.render(post, output: Golden.floats(c.str("output")), shape: shape), Golden.uints(c.str("expected")), c.str("name"))
        }
    }

    func testPcmRingGivesTheReferenceWindowAfterEveryChunk() {
        let c = Golden.list("pcm")[0]
        let samples = c.int("samples")
        let pcm = Golden.shorts(c.str("chunks"))
        let expected = Golden.floats(c.str("windows"))
        let ring = PcmRing(capacity: samples)
        var offset = 0
        for (k, size) in (c["chunk_sizes"] as! [NSNumber]).map(\.intValue).enumerated() {
            ring.push(Array(pcm[offset..<offset + size]))
            offset += size
            XCTAssertEqual(ring.window(), Array(expected[(k * samples)..<((k + 1) * samples)]), "window after chunk \(k)")
        }
        XCTAssertEqual(ring.heard, Int64(offset))
    }
}
