import AVFoundation
import EdgeAVCore

/// The microphone through AVAudioEngine, converted to the model's rate (16 kHz) mono float, into the ring.
final class MicFeed {
    private let engine = AVAudioEngine()
    private let ring: PcmRing
    private let sampleRate: Double

    init(ring: PcmRing, sampleRate: Int) {
        self.ring = ring
        self.sampleRate = Double(sampleRate)
    }

    /// Starts the engine; returns why it cannot, else nil.
    func start() -> String? {
        do {
            let audioSession = AVAudioSession.sharedInstance()
            try audioSession.setCategory(.playAndRecord, mode: .measurement, options: [.mixWithOthers])
            try audioSession.setActive(true)
        } catch {
            return "the audio session is unavailable (\(error.localizedDescription))"
        }
        let input = engine.inputNode
        let native = input.outputFormat(forBus: 0)
        guard let target = AVAudioFormat(commonFormat: .pcmFormatFloat32, sampleRate: sampleRate, channels: 1, interleaved: false),
              let converter = AVAudioConverter(from: native, to: target) else {
            return "cannot convert the microphone's \(native.sampleRate) Hz to \(sampleRate) Hz mono"
        }
        input.installTap(onBus: 0, bufferSize: 1024, format: native) { [ring] buffer, _ in
            let capacity = AVAudioFrameCount(Double(buffer.frameLength) * target.sampleRate / native.sampleRate) + 16
            guard let out = AVAudioPCMBuffer(pcmFormat: target, frameCapacity: capacity) else { return }
            var fed = false
            converter.convert(to: out, error: nil) { _, status in
                if fed { status.pointee = .noDataNow; return nil }
                fed = true
                status.pointee = .haveData
                return buffer
            }
            if let samples = out.floatChannelData?[0] {
                ring.push(UnsafeBufferPointer(start: samples, count: Int(out.frameLength)))
            }
        }
        do {
            try engine.start()
        } catch {
            input.removeTap(onBus: 0)
            return "the microphone did not start (\(error.localizedDescription))"
        }
        return nil
    }

    func stop() {
        engine.inputNode.removeTap(onBus: 0)
        engine.stop()
    }
}
