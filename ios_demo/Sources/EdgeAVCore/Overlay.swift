/// A model output → ARGB overlay pixels (0xAARRGGBB) at the output's height × width, following the manifest's
/// `postprocess`, as tests/apps/reference.py defines it.
public enum Overlay {
    public static let maskARGB: UInt32 = 0x8C00_E676
    public static let classAlpha: UInt32 = 0x8C
    public static let saliencyMaxAlpha: Int = 200

    /// `output` is the named tensor, NCHW [1, C, H, W].
    public static func render(_ rule: Postprocess, output: [Float], shape: [Int]) -> [UInt32] {
        precondition(shape.count == 4 && shape[0] == 1, "the overlay reads [1, C, H, W], got \(shape)")
        let plane = shape[2] * shape[3]
        precondition(output.count >= shape[1] * plane, "output holds \(output.count) floats, shape \(shape) needs more")
        switch rule {
        case let .threshold(_, channel, value):
            return (0..<plane).map { output[channel * plane + $0] > value ? maskARGB : 0 }
        case let .argmax(_, background, _):
            let lut = (0..<shape[1]).map { $0 == background ? 0 : classColour($0) }
            return (0..<plane).map { p in
                var best = 0
                for c in 1..<shape[1] where output[c * plane + p] > output[best * plane + p] { best = c }
                return lut[best]
            }
        case let .saliency(_, channel, minMax):
            let map = output[(channel * plane)..<(channel * plane + plane)]
            let lo = map.min() ?? 0, hi = map.max() ?? 0
            return map.map { s in
                let v = !minMax ? s : (hi > lo ? (s - lo) / (hi - lo) : 0)
                let q = Int((min(max(v, 0), 1) * 255 + 0.5).rounded(.down))
                return jet(min(max(q, 0), 255))
            }
        }
    }

    /// PASCAL VOC's bit palette.
    public static func classColour(_ k: Int) -> UInt32 {
        var (r, g, b, c) = (0, 0, 0, k)
        for j in 0..<8 {
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        }
        return classAlpha << 24 | UInt32(r) << 16 | UInt32(g) << 8 | UInt32(b)
    }

    public static func jet(_ q: Int) -> UInt32 {
        func chan(_ centre: Int) -> UInt32 { UInt32(min(max(383 - abs(4 * q - centre), 0), 255)) }
        return UInt32(q * saliencyMaxAlpha / 255) << 24 | chan(765) << 16 | chan(510) << 8 | chan(255)
    }
}
