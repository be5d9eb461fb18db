import CoreML
import EdgeAVCore
import Foundation

/// Core ML: the .mlpackage is compiled on first use (cached in Application Support), inputs by feature name.
final class CoreMLRunner: ModelRunner {
    private let model: MLModel
    private let manifest: Manifest
    private let inputNames: [String]
    private let outputNames: [String]

    init(_ manifest: Manifest, url: URL) throws {
        self.manifest = manifest
        let config = MLModelConfiguration()
        config.computeUnits = .all // Core ML picks ANE / GPU / CPU; threads are not a Core ML setting
        model = try MLModel(contentsOf: try CoreMLRunner.compiled(url, sha256: manifest.sha256), configuration: config)
        inputNames = manifest.inputs.enumerated().map { i, spec in manifest.artifactInputs[safe: i].flatMap { $0 } ?? spec.name }
        outputNames = manifest.outputs.enumerated().map { i, spec in manifest.artifactOutputs[safe: i].flatMap { $0 } ?? spec.name }
    }

    /// `MLModel.compileModel(at:)` once per artifact version (keyed by its sha256).
    private static func compiled(_ url: URL, sha256: String) throws -> URL {
        let cache = try FileManager.default.url(for: .applicationSupportDirectory, in: .userDomainMask, appropriateFor: nil, create: true)
            .appendingPathComponent("compiled-\(sha256.prefix(16)).mlmodelc")
        if FileManager.default.fileExists(atPath: cache.path) { return cache }
        let temporary = try MLModel.compileModel(at: url)
        try FileManager.default.moveItem(at: temporary, to: cache)
        return cache
    }

    func run(_ inputs: [[Float]]) throws -> [[Float]] {
        var features: [String: MLFeatureValue] = [:]
        for (i, data) in inputs.enumerated() {
            let array = try MLMultiArray(shape: manifest.inputs[i].shape.map { NSNumber(value: $0) }, dataType: .float32)
            data.withUnsafeBufferPointer { src in
                array.withUnsafeMutableBytes { dst, _ in dst.copyMemory(from: UnsafeRawBufferPointer(src)) }
            }
            features[inputNames[i]] = MLFeatureValue(multiArray: array)
        }
        let result = try model.prediction(from: try MLDictionaryFeatureProvider(dictionary: features))
        return try outputNames.map { name in
            guard let out = result.featureValue(for: name)?.multiArrayValue else {
                throw RunnerError(description: "\(manifest.artifact) has no output '\(name)': re-export it")
            }
            return CoreMLRunner.floats(out)
        }
    }

    private static func floats(_ out: MLMultiArray) -> [Float] {
        // fp16 models return Float16 arrays (read directly on arm64; elsewhere through NSNumber).
        let n = out.count
        switch out.dataType {
        case .float32:
            return out.withUnsafeBufferPointer(ofType: Float.self) { Array($0.prefix(n)) }
        #if arch(arm64)
        case .float16:
            return out.withUnsafeBufferPointer(ofType: Float16.self) { $0.prefix(n).map(Float.init) }
        #endif
        default:
            return (0..<n).map { out[$0].floatValue }
        }
    }
}

extension Array {
    subscript(safe i: Int) -> Element? { indices.contains(i) ? self[i] : nil }
}
