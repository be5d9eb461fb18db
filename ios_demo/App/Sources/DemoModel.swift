import AVFoundation
import CoreGraphics
import EdgeAVCore
import Foundation
import QuartzCore

/// The demo's state and pipeline: catalog → runner; each camera frame (+ the ring's audio window) → model →
/// overlay, timed per stage after warm-up. Frames arriving while one is processed are dropped (latest wins).
@MainActor
final class DemoModel: ObservableObject {
    @Published var entries: [CatalogEntry] = []
    @Published var selected: Int = -1 { didSet { load() } }
    @Published var status = ""
    @Published var overlay: CGImage?
    @Published var geometry: Geometry?
    @Published var cameraDenied = false

    let camera = CameraFeed()
    private let work = DispatchQueue(label: "edgeav.analysis")
    private let slot = PipelineSlot() // read on the camera queue, set on the analysis queue
    private var mic: MicFeed?
    private var modelLine = ""

    static var storage: URL {
        let docs = FileManager.default.urls(for: .documentDirectory, in: .userDomainMask)[0].appendingPathComponent("models")
        try? FileManager.default.createDirectory(at: docs, withIntermediateDirectories: true)
        return docs
    }

    func start() {
        refresh()
        AVCaptureDevice.requestAccess(for: .video) { granted in
            Task { @MainActor in
                self.cameraDenied = !granted
                guard granted else { return }
                if let problem = self.camera.configure() { self.status = problem; return }
                self.camera.onFrame = { [slot = self.slot] buffer in slot.current?.offer(buffer) }
                self.camera.start()
            }
        }
        AVCaptureDevice.requestAccess(for: .audio) { _ in Task { @MainActor in self.load() } }
    }

    /// Bundled models (Resources/Models) and the ones in Documents/models (Files app, or Import).
    func refresh() {
        let bundled = Bundle.main.resourceURL.map { ModelCatalog.load($0.appendingPathComponent("Models"), verifySha256: false) } ?? []
        entries = bundled + ModelCatalog.load(DemoModel.storage, verifySha256: true)
        if entries.isEmpty { status = "No models: `edgeav export … --target ios --app ios_demo`, or copy a model + its .json into Documents/models" }
        if selected < 0 || selected >= entries.count { selected = entries.firstIndex { $0.usable } ?? -1 }
    }

    func importFiles(_ urls: [URL]) {
        for url in urls {
            let access = url.startAccessingSecurityScopedResource()
            defer { if access { url.stopAccessingSecurityScopedResource() } }
            let dest = DemoModel.storage.appendingPathComponent(url.lastPathComponent)
            try? FileManager.default.removeItem(at: dest)
            do { try FileManager.default.copyItem(at: url, to: dest) } catch { status = "cannot import \(url.lastPathComponent): \(error.localizedDescription)" }
        }
        refresh()
    }

    private func load() {
        guard entries.indices.contains(selected) else { return }
        let entry = entries[selected]
        if let problem = entry.problem { status = problem; return }
        guard let manifest = entry.manifest, let url = entry.artifactURL else { return }
        mic?.stop()
        mic = nil
        overlay = nil
        let ring = manifest.audio.map { PcmRing(capacity: $0.samples) }
        var micNote: String?
        if let audio = manifest.audio, let ring {
            if AVCaptureDevice.authorizationStatus(for: .audio) == .authorized {
                let feed = MicFeed(ring: ring, sampleRate: audio.sampleRate)
                micNote = feed.start()
                mic = feed
            } else {
                micNote = "microphone denied: the model hears silence"
            }
        } else {
            micNote = "image only"
        }
        modelLine = [manifest.title, manifest.audio.map { "audio \($0.window.rawValue)" }, micNote, RuntimeKind.versionWarning(manifest)].compactMap { $0 }.joined(separator: " · ")
        status = "\(modelLine) · loading…"
        slot.current = nil
        work.async { [slot] in
            do {
                let runner = try Runners.open(manifest, at: url)
                let next = Pipeline(manifest: manifest, runner: runner, ring: ring, queue: self.work) { [weak self] result in
                    Task { @MainActor in self?.show(result) }
                }
                slot.current = next
                Task { @MainActor in self.status = "\(self.modelLine) · warming up…" }
            } catch {
                Task { @MainActor in self.status = "cannot load \(manifest.artifact): \(error)" }
            }
        }
    }

    private func show(_ result: Pipeline.Result) {
        switch result {
        case let .frame(image, geometry, timing):
            overlay = image
            self.geometry = geometry
            status = "\(modelLine) · \(timing.map(\.description) ?? "warming up…")"
        case let .failed(message):
            status = message
        }
    }
}

/// The current pipeline, shared between the camera queue and the analysis queue.
final class PipelineSlot: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Pipeline?
    var current: Pipeline? {
        get { lock.lock(); defer { lock.unlock() }; return value }
        set { lock.lock(); value = newValue; lock.unlock() }
    }
}

/// Frame → tensor → model → overlay, on one serial queue.
final class Pipeline: @unchecked Sendable {
    enum Result { case frame(CGImage, Geometry, StageTimer.Summary?), failed(String) }

    private let manifest: Manifest
    private let runner: ModelRunner
    private let ring: PcmRing? // nil: an image-only model
    private let queue: DispatchQueue
    private let deliver: (Result) -> Void
    private let timer = StageTimer()
    private let delay: DelayLine<([Float], Geometry)>
    private var converter: FrameConverter?
    private var state: [String: [Float]] = [:] // recurrent inputs: zeros first, then the named output
    private var busy = false
    private let lock = NSLock()

    init(manifest: Manifest, runner: ModelRunner, ring: PcmRing?, queue: DispatchQueue, deliver: @escaping (Result) -> Void) {
        self.manifest = manifest
        self.runner = runner
        self.ring = ring
        self.queue = queue
        self.deliver = deliver
        delay = DelayLine(delaySamples: manifest.audio?.videoDelaySamples ?? 0)
        for s in manifest.state {
            state[s.input] = [Float](repeating: 0, count: manifest.inputs.first { $0.name == s.input }?.elements ?? 0)
        }
    }

    /// Called on the camera queue; drops the frame when the previous one is still running.
    func offer(_ buffer: CVPixelBuffer) {
        lock.lock()
        if busy { lock.unlock(); return }
        busy = true
        lock.unlock()
        let start = CACurrentMediaTime()
        let frame = convert(buffer)
        queue.async {
            defer { self.lock.lock(); self.busy = false; self.lock.unlock() }
            guard let frame else { return }
            self.process(frame, start: start)
        }
    }

    private func convert(_ buffer: CVPixelBuffer) -> ([Float], Geometry)? {
        CVPixelBufferLockBaseAddress(buffer, .readOnly)
        defer { CVPixelBufferUnlockBaseAddress(buffer, .readOnly) }
        guard let base = CVPixelBufferGetBaseAddress(buffer),
              let g = try? Geometry(width: CVPixelBufferGetWidth(buffer), height: CVPixelBufferGetHeight(buffer), rotation: 0,
                                    outWidth: manifest.image.width, outHeight: manifest.image.height) else { return nil }
        let conv = converter?.geometry == g ? converter! : FrameConverter(g)
        converter = conv
        var out = [Float](repeating: 0, count: conv.count)
        let rowBytes = CVPixelBufferGetBytesPerRow(buffer)
        conv.convert(UnsafeRawBufferPointer(start: base, count: rowBytes * g.height), bytesPerRow: rowBytes, order: .bgra, into: &out)
        return (out, g)
    }

    private func process(_ frame: ([Float], Geometry), start: CFTimeInterval) {
        let heard = ring?.heard ?? 0
        delay.add(frame, heardAt: heard)
        guard let ready = delay.poll(heardNow: heard) else { return }
        let (tensor, geometry) = ready
        let audio = ring?.window() ?? []
        let inputs = manifest.inputs.map { $0.name == manifest.image.input ? tensor : (state[$0.name] ?? audio) }
        let pre = CACurrentMediaTime()
        do {
            let outputs = try runner.run(inputs)
            let inferred = CACurrentMediaTime()
            for s in manifest.state {
                if let k = manifest.outputs.firstIndex(where: { $0.name == s.fromOutput }) { state[s.input] = outputs[k] }
            }
            guard let k = manifest.outputs.firstIndex(where: { $0.name == manifest.postprocess.output }),
                  let image = Pipeline.image(Overlay.render(manifest.postprocess, output: outputs[k], shape: manifest.outputs[k].shape),
                                             width: manifest.outputs[k].shape[3], height: manifest.outputs[k].shape[2]) else { return }
            let end = CACurrentMediaTime()
            timer.record(pre: pre - start, infer: inferred - pre, post: end - inferred, end: end)
            deliver(.frame(image, geometry, timer.summary()))
        } catch {
            deliver(.failed("\(manifest.artifact): \(error)"))
        }
    }

    /// 0xAARRGGBB pixels (non-premultiplied) as a CGImage.
    static func image(_ argb: [UInt32], width: Int, height: Int) -> CGImage? {
        let data = argb.withUnsafeBufferPointer { Data(buffer: $0) } // little-endian UInt32: B, G, R, A bytes
        guard let provider = CGDataProvider(data: data as CFData) else { return nil }
        let info = CGBitmapInfo(rawValue: CGImageAlphaInfo.first.rawValue | CGBitmapInfo.byteOrder32Little.rawValue)
        return CGImage(width: width, height: height, bitsPerComponent: 8, bitsPerPixel: 32, bytesPerRow: width * 4,
                       space: CGColorSpaceCreateDeviceRGB(), bitmapInfo: info, provider: provider, decode: nil,
                       shouldInterpolate: true, intent: .defaultIntent)
    }
}
