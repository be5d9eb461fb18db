/// 32-bit camera frames (AVCaptureVideoDataOutput's kCVPixelFormatType_32BGRA, or RGBA bytes) → the model's
/// `frames` tensor, float NCHW RGB in [0, 1]. Make one per frame size and rotation (the taps are computed once).
public final class FrameConverter {
    public enum Order: Sendable { case rgba, bgra }

    public let geometry: Geometry
    private let taps: [(Int, Int, Int, Int)] // sensor pixel indices a, b, c, d per output pixel
    private let fx: [Float], fy: [Float]

    public var count: Int { 3 * geometry.outWidth * geometry.outHeight }

    public init(_ geometry: Geometry) {
        self.geometry = geometry
        let xs = geometry.axis(geometry.outWidth, geometry.crop.width)
        let ys = geometry.axis(geometry.outHeight, geometry.crop.height)
        func index(_ x: Int, _ y: Int) -> Int {
            let (u, v) = geometry.sensor(geometry.crop.x0 + x, geometry.crop.y0 + y)
            return v * geometry.width + u
        }
        var taps: [(Int, Int, Int, Int)] = []
        taps.reserveCapacity(xs.count * ys.count)
        for (ya, yb, _) in ys {
            for (xa, xb, _) in xs {
                taps.append((index(xa, ya), index(xb, ya), index(xa, yb), index(xb, yb)))
            }
        }
        self.taps = taps
        fx = xs.map { $0.2 }
        fy = ys.map { $0.2 }
    }

    /// `bytes` holds `bytesPerRow` bytes per row, 4 per pixel, in `order`.
    public func convert(_ bytes: UnsafeRawBufferPointer, bytesPerRow: Int, order: Order, into out: inout [Float]) {
        precondition(out.count >= count, "output holds \(out.count) floats, the model input needs \(count)")
        let w = geometry.width, ow = geometry.outWidth, plane = geometry.outWidth * geometry.outHeight
        let offsets = order == .rgba ? [0, 1, 2] : [2, 1, 0]
        func value(_ index: Int, _ c: Int) -> Float {
            Float(bytes[(index / w) * bytesPerRow + (index % w) * 4 + offsets[c]]) / 255
        }
        for p in 0..<plane {
            let (ia, ib, ic, id) = taps[p]
            let wx = fx[p % ow], wy = fy[p / ow]
            for c in 0..<3 {
                let a = value(ia, c), b = value(ib, c), cc = value(ic, c), d = value(id, c)
                let top = a + (b - a) * wx
                let bottom = cc + (d - cc) * wx
                out[c * plane + p] = top + (bottom - top) * wy
            }
        }
    }
}
