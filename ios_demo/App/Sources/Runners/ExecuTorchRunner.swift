import EdgeAVCore
import ExecuTorch
import Foundation

/// ExecuTorch (the Swift package's prebuilt runtime with XNNPACK and Core ML backends).
final class ExecuTorchRunner: ModelRunner {
    private let module: Module
    private let manifest: Manifest

    /// The Swift API has no thread setting: ExecuTorch sizes its threadpool to the performance cores.
    init(_ manifest: Manifest, url: URL) throws {
        self.manifest = manifest
        module = Module(filePath: url.path)
        try module.load("forward")
    }

    func run(_ inputs: [[Float]]) throws -> [[Float]] {
        let tensors = inputs.enumerated().map { i, data in Tensor<Float>(data, shape: manifest.inputs[i].shape) }
        let outputs = try module.forward(tensors)
        guard outputs.count == manifest.outputs.count else {
            throw RunnerError(description: "\(manifest.artifact) returned \(outputs.count) outputs, its manifest lists \(manifest.outputs.count): re-export it")
        }
        return try outputs.map { value in
            guard let t: Tensor<Float> = value.tensor() else {
                throw RunnerError(description: "\(manifest.artifact) returned a non-float output: re-export it")
            }
            return t.scalars()
        }
    }
}
