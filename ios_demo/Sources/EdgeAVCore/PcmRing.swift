import Foundation

/// The last `capacity` samples of mono PCM heard (oldest first, silence until full), for the model's audio
/// window: the audio thread pushes, the analysis thread copies the window out. int16 is scaled by 1/32768.
public final class PcmRing: @unchecked Sendable {
    public let capacity: Int
    private var ring: [Float]
    private var head = 0
    private let lock = NSLock()
    public private(set) var heard: Int64 = 0

    public init(capacity: Int) {
        precondition(capacity > 0, "the audio window must hold at least one sample: check preprocess.audio.samples")
        self.capacity = capacity
        ring = [Float](repeating: 0, count: capacity)
    }

    public func push(_ chunk: UnsafeBufferPointer<Float>) {
        lock.lock(); defer { lock.unlock() }
        for s in chunk { put(s) }
    }

    public func push(_ chunk: [Float]) { chunk.withUnsafeBufferPointer { push($0) } }

    public func push(_ chunk: [Int16]) {
        lock.lock(); defer { lock.unlock() }
        for s in chunk { put(Float(s) / 32768) }
    }

    private func put(_ s: Float) {
        ring[head] = s
        head = (head + 1) % capacity
        heard += 1
    }

    public func window() -> [Float] {
        lock.lock(); defer { lock.unlock() }
        if heard < Int64(capacity) {
            let filled = Int(heard)
            return [Float](repeating: 0, count: capacity - filled) + ring[0..<filled]
        }
        return Array(ring[head...] + ring[..<head])
    }
}
