import EdgeAVCore
import Foundation

/// One loaded artifact: inputs in the manifest's `io.inputs` order in, every output (`io.outputs` order) out.
protocol ModelRunner: AnyObject {
    func run(_ inputs: [[Float]]) throws -> [[Float]]
}

struct RunnerError: Error, CustomStringConvertible {
    let description: String
}

enum Runners {
    /// The runtime the manifest's target names (neither has a thread setting in its Swift API).
    static func open(_ manifest: Manifest, at url: URL) throws -> ModelRunner {
        switch try RuntimeKind.of(manifest) {
        case .coreml: return try CoreMLRunner(manifest, url: url)
        case .executorch: return try ExecuTorchRunner(manifest, url: url)
        }
    }
}
