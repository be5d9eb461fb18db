import AVFoundation

/// The back camera as upright 32BGRA frames; late frames are dropped (the analysis keeps only the latest).
final class CameraFeed: NSObject, AVCaptureVideoDataOutputSampleBufferDelegate {
    let session = AVCaptureSession()
    private let queue = DispatchQueue(label: "edgeav.camera")
    var onFrame: ((CVPixelBuffer) -> Void)?

    /// Configures the session; returns why it cannot (no camera on the simulator, or access denied), else nil.
    func configure() -> String? {
        guard let device = AVCaptureDevice.default(.builtInWideAngleCamera, for: .video, position: .back),
              let input = try? AVCaptureDeviceInput(device: device) else {
            return "no camera here (the simulator has none): run on a device"
        }
        session.beginConfiguration()
        session.sessionPreset = .vga640x480 // 4:3, small: the model input is far smaller anyway
        if session.canAddInput(input) { session.addInput(input) }
        let output = AVCaptureVideoDataOutput()
        output.videoSettings = [kCVPixelBufferPixelFormatTypeKey as String: kCVPixelFormatType_32BGRA]
        output.alwaysDiscardsLateVideoFrames = true
        output.setSampleBufferDelegate(self, queue: queue)
        if session.canAddOutput(output) { session.addOutput(output) }
        if let connection = output.connection(with: .video), connection.isVideoOrientationSupported {
            connection.videoOrientation = .portrait // frames arrive upright: rotation 0 for the core's Geometry
        }
        session.commitConfiguration()
        return nil
    }

    func start() { queue.async { self.session.startRunning() } }

    func stop() { queue.async { self.session.stopRunning() } }

    func captureOutput(_ output: AVCaptureOutput, didOutput sampleBuffer: CMSampleBuffer, from connection: AVCaptureConnection) {
        if let buffer = CMSampleBufferGetImageBuffer(sampleBuffer) { onFrame?(buffer) }
    }
}
