import Foundation

/// Per-stage latency (pre, infer, post) and frame rate, counted only after `warmup` frames.
public final class StageTimer: @unchecked Sendable {
    public struct Summary: CustomStringConvertible, Equatable {
        public let preMs, inferMs, postMs, fps: Double
        public var description: String {
            String(format: "pre %.1f ms · infer %.1f ms · post %.1f ms · %.1f FPS", preMs, inferMs, postMs, fps)
        }
    }

    private let warmup: Int, window: Int
    private var frames = 0
    private var rows: [(pre: Double, infer: Double, post: Double, end: Double)] = []
    private let lock = NSLock()

    public init(warmup: Int = 10, window: Int = 30) {
        self.warmup = warmup
        self.window = window
    }

    /// Durations and the end time, in seconds.
    public func record(pre: Double, infer: Double, post: Double, end: Double) {
        lock.lock(); defer { lock.unlock() }
        frames += 1
        guard frames > warmup else { return }
        rows.append((pre, infer, post, end))
        if rows.count > window { rows.removeFirst() }
    }

    public func summary() -> Summary? {
        lock.lock(); defer { lock.unlock() }
        guard !rows.isEmpty else { return nil }
        let n = Double(rows.count)
        let span = rows.last!.end - rows.first!.end
        func mean(_ f: ((pre: Double, infer: Double, post: Double, end: Double)) -> Double) -> Double { rows.map(f).reduce(0, +) / n * 1000 }
        return Summary(preMs: mean { $0.pre }, inferMs: mean { $0.infer }, postMs: mean { $0.post }, fps: rows.count < 2 || span <= 0 ? 0 : (n - 1) / span)
    }
}

/// Holds frames back by the audio window's delay (centred models); the newest ready frame wins.
public final class DelayLine<T>: @unchecked Sendable {
    private let delaySamples: Int64
    private var pending: [(Int64, T)] = []
    private let lock = NSLock()

    public init(delaySamples: Int) { self.delaySamples = Int64(delaySamples) }

    public func add(_ item: T, heardAt: Int64) {
        lock.lock(); defer { lock.unlock() }
        pending.append((heardAt, item))
        if pending.count > 64 { pending.removeFirst() }
    }

    public func poll(heardNow: Int64) -> T? {
        lock.lock(); defer { lock.unlock() }
        var ready: T?
        while let first = pending.first, first.0 + delaySamples <= heardNow {
            ready = first.1
            pending.removeFirst()
        }
        return ready
    }
}
