/// Camera-to-model geometry, as tests/apps/reference.py defines it: the sensor image is rotated clockwise by
/// `rotation` degrees, centre-cropped to the model's aspect and resized with half-pixel-centre bilinear
/// sampling (edges clamped).
public struct Geometry: Equatable, Sendable {
    public struct Crop: Equatable, Sendable {
        public let x0, y0, width, height: Int
        public init(x0: Int, y0: Int, width: Int, height: Int) {
            self.x0 = x0
            self.y0 = y0
            self.width = width
            self.height = height
        }
    }

    public let width, height, rotation, outWidth, outHeight: Int
    public let crop: Crop

    public init(width: Int, height: Int, rotation: Int, outWidth: Int, outHeight: Int) throws {
        guard [0, 90, 180, 270].contains(rotation) else {
            throw ManifestError("rotation \(rotation) is not 0, 90, 180 or 270: pass the capture connection's rotation")
        }
        guard width > 0, height > 0, outWidth > 0, outHeight > 0 else {
            throw ManifestError("frame \(width)x\(height) and model \(outWidth)x\(outHeight) must be positive")
        }
        self.width = width
        self.height = height
        self.rotation = rotation
        self.outWidth = outWidth
        self.outHeight = outHeight
        let (rw, rh) = rotation == 90 || rotation == 270 ? (height, width) : (width, height)
        let (cw, ch) = rw * outHeight > rh * outWidth ? (rh * outWidth / outHeight, rh) : (rw, rw * outHeight / outWidth)
        crop = Crop(x0: (rw - cw) / 2, y0: (rh - ch) / 2, width: cw, height: ch)
    }

    public var uprightWidth: Int { rotation == 90 || rotation == 270 ? height : width }
    public var uprightHeight: Int { rotation == 90 || rotation == 270 ? width : height }

    /// Sensor pixel (u, v) of upright pixel (x, y).
    public func sensor(_ x: Int, _ y: Int) -> (u: Int, v: Int) {
        switch rotation {
        case 0: return (x, y)
        case 90: return (y, height - 1 - x)
        case 180: return (width - 1 - x, height - 1 - y)
        default: return (width - 1 - y, x)
        }
    }

    /// Per output position: the two source indices along the crop and the weight of the second.
    func axis(_ nOut: Int, _ nCrop: Int) -> [(Int, Int, Float)] {
        (0..<nOut).map { o in
            let s = min(max(((Float(o) + 0.5) * Float(nCrop)) / Float(nOut) - 0.5, 0), Float(nCrop - 1))
            let lo = Int(s.rounded(.down))
            return (lo, min(lo + 1, nCrop - 1), s - Float(lo))
        }
    }

    /// The model input's area inside a view showing the upright frame aspect-fit (x, y, width, height).
    public func overlayRect(viewWidth: Float, viewHeight: Float) -> (x: Float, y: Float, width: Float, height: Float) {
        let scale = min(viewWidth / Float(uprightWidth), viewHeight / Float(uprightHeight))
        let x = (viewWidth - Float(uprightWidth) * scale) / 2 + Float(crop.x0) * scale
        let y = (viewHeight - Float(uprightHeight) * scale) / 2 + Float(crop.y0) * scale
        return (x, y, Float(crop.width) * scale, Float(crop.height) * scale)
    }
}
