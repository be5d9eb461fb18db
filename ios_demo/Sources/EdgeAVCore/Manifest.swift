import Foundation

/// A manifest the app cannot use; the message names the file, the field and the fix.
public struct ManifestError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

public enum AudioWindow: String, Codable, Sendable { case centred, trailing }

public struct TensorSpec: Codable, Equatable, Sendable {
    public let name: String
    public let shape: [Int]
    public let dtype: String
    public var elements: Int { shape.reduce(1, *) }
}

public struct ImageInput: Codable, Equatable, Sendable {
    public let input: String
    public let layout: String
    public let channels: String
    public let height: Int
    public let width: Int
}

/// The microphone's tensor; a centred model heard half its window after the frame (`videoDelaySamples`).
public struct AudioInput: Codable, Equatable, Sendable {
    public let input: String
    public let sampleRate: Int
    public let samples: Int
    public let window: AudioWindow
    public let videoDelaySamples: Int
}

/// Recurrent state: zeros for the first frame, then the last call's `fromOutput` (e.g. DTFSal-S's features).
public struct StateInput: Codable, Equatable, Sendable {
    public let input: String
    public let fromOutput: String
    public init(input: String, fromOutput: String) {
        self.input = input
        self.fromOutput = fromOutput
    }
}

/// How the app reads the model's output (the manifest's `postprocess`).
public enum Postprocess: Equatable, Sendable {
    case threshold(output: String, channel: Int, value: Float)
    case argmax(output: String, background: Int, labels: [String])
    case saliency(output: String, channel: Int, minMax: Bool)

    public var output: String {
        switch self {
        case let .threshold(output, _, _), let .argmax(output, _, _), let .saliency(output, _, _): return output
        }
    }
}

/// The fields of an edgeav manifest (`<artifact>.json`, schema 2) the app reads; every other key is ignored.
public struct Manifest: Equatable, Sendable {
    public static let schemaVersion = 2

    public let source: String
    public let model: String
    public let configName: String
    public let task: String
    public let target: String
    public let artifact: String
    public let sha256: String
    public let sizeBytes: Int
    public let precision: String
    public let inputs: [TensorSpec]
    public let outputs: [TensorSpec]
    /// The artifact's own input/output names in `inputs`/`outputs` order (nil: positional only).
    public let artifactInputs: [String?]
    public let artifactOutputs: [String?]
    public let image: ImageInput
    public let audio: AudioInput?
    public let state: [StateInput]
    public let otherInputs: [String]
    public let postprocess: Postprocess
    public let runtimeVersion: String?

    public var title: String { "\(model) [\(configName)] \(precision) · \(target)" }

    public func output(_ name: String) -> TensorSpec? { outputs.first { $0.name == name } }

    public static func parse(_ data: Data, source: String) throws -> Manifest {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let raw: Raw
        do {
            let version = try decoder.decode(Version.self, from: data).schemaVersion
            guard version == schemaVersion else {
                throw ManifestError(version < schemaVersion
                    ? "\(source): schema_version \(version) is older than this app's \(schemaVersion): re-export with the current `edgeav export`"
                    : "\(source): schema_version \(version) is newer than this app's \(schemaVersion): update the app (ios_demo)")
            }
            raw = try decoder.decode(Raw.self, from: data)
        } catch let error as DecodingError {
            throw ManifestError("\(source): \(describe(error)); re-export it with the current `edgeav export`")
        }
        return try raw.manifest(source: source)
    }

    private struct Version: Decodable { let schemaVersion: Int }

    private struct Raw: Decodable {
        struct IO: Decodable { let inputs: [TensorSpec]; let outputs: [TensorSpec] }
        struct Pre: Decodable { let image: ImageInput?; let audio: AudioInput?; let state: [StateInput]?; let otherInputs: [String]? }
        struct Post: Decodable {
            let kind: String; let output: String; let channel: Int?; let value: Float?
            let background: Int?; let labels: [String]?; let normalize: String?
        }
        struct RuntimeInfo: Decodable { let version: String? }
        struct ArtifactIO: Decodable { let inputs: [String?]; let outputs: [String?] }
        let model: String; let configName: String; let task: String; let target: String; let artifact: String
        let sha256: String; let sizeBytes: Int; let precision: String
        let io: IO; let artifactIo: ArtifactIO; let preprocess: Pre; let postprocess: Post; let runtime: RuntimeInfo

        func manifest(source: String) throws -> Manifest {
            guard let image = preprocess.image else {
                throw ManifestError("\(source): 'preprocess.image' is missing: this app feeds camera frames; pick an audio-visual model")
            }
            guard image.layout == "NCHW", image.channels == "RGB" else {
                throw ManifestError("\(source): 'preprocess.image' is \(image.layout) \(image.channels); the app feeds NCHW RGB: re-export")
            }
            for s in preprocess.state ?? [] where !io.outputs.contains(where: { $0.name == s.fromOutput }) {
                throw ManifestError("\(source): 'preprocess.state' reads output '\(s.fromOutput)', none of \(io.outputs.map(\.name)): re-export it")
            }
            return Manifest(source: source, model: model, configName: configName, task: task, target: target,
                            artifact: artifact, sha256: sha256, sizeBytes: sizeBytes, precision: precision,
                            inputs: io.inputs, outputs: io.outputs, artifactInputs: artifactIo.inputs,
                            artifactOutputs: artifactIo.outputs, image: image, audio: preprocess.audio,
                            state: preprocess.state ?? [], otherInputs: preprocess.otherInputs ?? [], postprocess: try rule(source),
                            runtimeVersion: runtime.version)
        }

        private func rule(_ source: String) throws -> Postprocess {
            let p = postprocess
            guard let spec = io.outputs.first(where: { $0.name == p.output }) else {
                throw ManifestError("\(source): 'postprocess.output' names '\(p.output)', none of \(io.outputs.map(\.name))")
            }
            func need<T>(_ value: T?, _ key: String) throws -> T {
                guard let value else { throw ManifestError("\(source): 'postprocess.\(key)' is missing; re-export it") }
                return value
            }
            switch p.kind {
            case "threshold":
                return .threshold(output: p.output, channel: try need(p.channel, "channel"), value: try need(p.value, "value"))
            case "argmax":
                let labels = try need(p.labels, "labels")
                guard spec.shape.count == 4, labels.count == spec.shape[1] else {
                    throw ManifestError("\(source): 'postprocess' has \(labels.count) labels for output shape \(spec.shape): re-export")
                }
                return .argmax(output: p.output, background: try need(p.background, "background"), labels: labels)
            case "saliency":
                return .saliency(output: p.output, channel: try need(p.channel, "channel"), minMax: p.normalize == "min-max")
            default:
                throw ManifestError("\(source): 'postprocess' kind '\(p.kind)' is unknown to this app (threshold, argmax, saliency): update the app")
            }
        }
    }
}

/// `'preprocess.image.height' is missing` from a DecodingError's coding path (snake_case, as in the file).
func describe(_ error: DecodingError) -> String {
    func path(_ keys: [CodingKey], _ last: CodingKey? = nil) -> String {
        (keys + (last.map { [$0] } ?? [])).map { key in
            key.intValue.map { "[\($0)]" } ?? snake(key.stringValue)
        }.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
    }
    switch error {
    case let .keyNotFound(key, context): return "'\(path(context.codingPath, key))' is missing"
    case let .typeMismatch(_, context), let .valueNotFound(_, context): return "'\(path(context.codingPath))' has the wrong type"
    case let .dataCorrupted(context):
        return context.codingPath.isEmpty ? "invalid JSON" : "'\(path(context.codingPath))' is invalid (\(context.debugDescription))"
    @unknown default: return "cannot be read"
    }
}

private func snake(_ camel: String) -> String {
    camel.reduce(into: "") { out, c in
        if c.isUppercase { out += "_" + c.lowercased() } else { out.append(c) }
    }
}

/// The runtime an artifact needs, chosen by the manifest's `target`; `pinnedVersion` is what project.yml links.
public enum RuntimeKind: String, Sendable, CaseIterable {
    case coreml, executorch

    public var pinnedVersion: String { self == .executorch ? "1.5.1" : "9.0" }

    public static func of(_ m: Manifest) throws -> RuntimeKind {
        guard let kind = RuntimeKind(rawValue: m.target) else {
            throw ManifestError(m.target == "litert"
                ? "\(m.artifact) is a LiteRT artifact, which runs in android_demo; export with --target ios for this app"
                : "\(m.artifact) targets \(m.target), which this app does not run; export with --target ios (.mlpackage / .pte)")
        }
        return kind
    }

    /// A warning when the artifact was exported by another version than the app links (ExecuTorch only:
    /// Core ML is the OS's, and coremltools' version is the converter's).
    public static func versionWarning(_ m: Manifest) -> String? {
        guard (try? of(m)) == .executorch, let v = m.runtimeVersion, v != RuntimeKind.executorch.pinnedVersion else { return nil }
        return "\(m.artifact) was exported with ExecuTorch \(v) but the app links \(RuntimeKind.executorch.pinnedVersion): re-export, or change project.yml"
    }
}
