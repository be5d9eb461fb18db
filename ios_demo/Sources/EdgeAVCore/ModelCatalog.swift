import Foundation
#if canImport(CryptoKit)
import CryptoKit
#endif

/// One model the picker offers, or why it cannot run here (`problem` names the fix).
public struct CatalogEntry: Sendable {
    public let manifestURL: URL
    public let manifest: Manifest?
    public let runtime: RuntimeKind?
    public let problem: String?
    public var usable: Bool { problem == nil }
    public var artifactURL: URL? { manifest.map { manifestURL.deletingLastPathComponent().appendingPathComponent($0.artifact) } }
}

/// The models in a folder (the app bundle's Models/, or Documents/models/): every `*.json` manifest beside
/// its artifact (`index.json` from `edgeav export --app` lists them when present).
public enum ModelCatalog {
    public static func load(_ folder: URL, verifySha256: Bool) -> [CatalogEntry] {
        let fm = FileManager.default
        let names: [String]
        if let data = try? Data(contentsOf: folder.appendingPathComponent("index.json")),
           let index = try? JSONDecoder().decode(Index.self, from: data) {
            names = index.models.map(\.manifest)
        } else {
            names = ((try? fm.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasSuffix(".json") && $0 != "index.json" }.sorted()
        }
        return names.map { entry(folder.appendingPathComponent($0), verifySha256: verifySha256) }
    }

    private struct Index: Decodable { struct Model: Decodable { let manifest: String }; let models: [Model] }

    static func entry(_ url: URL, verifySha256: Bool) -> CatalogEntry {
        do {
            let m = try Manifest.parse(try Data(contentsOf: url), source: url.lastPathComponent)
            let runtime = try RuntimeKind.of(m)
            let artifact = url.deletingLastPathComponent().appendingPathComponent(m.artifact)
            var problem: String?
            if !FileManager.default.fileExists(atPath: artifact.path) {
                problem = "\(m.artifact) is missing beside \(url.lastPathComponent); copy both with `edgeav export --app ios_demo`"
            } else if !m.otherInputs.isEmpty {
                problem = "\(m.artifact) also takes \(m.otherInputs), which this app does not feed; pick a frame (+ audio, + state) model"
            } else if verifySha256, let sha = treeSha256(artifact), sha != m.sha256 {
                problem = "\(m.artifact) does not match its manifest's sha256: the copy is corrupt or stale; copy it again"
            }
            return CatalogEntry(manifestURL: url, manifest: m, runtime: runtime, problem: problem)
        } catch {
            return CatalogEntry(manifestURL: url, manifest: nil, runtime: nil, problem: "\(error)")
        }
    }

    /// sha256 of a file, or of a directory (.mlpackage) as edgeav digests trees: sorted 'path\0sha256\n' lines.
    /// nil where no SHA-256 implementation is available (non-Apple platforms): the check is skipped there.
    public static func treeSha256(_ url: URL) -> String? {
        #if canImport(CryptoKit)
        func hex(_ d: SHA256.Digest) -> String { d.map { String(format: "%02x", $0) }.joined() }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) else { return nil }
        if !isDir.boolValue { return (try? Data(contentsOf: url, options: .mappedIfSafe)).map { hex(SHA256.hash(data: $0)) } }
        // Relative paths straight from the enumerator (no prefix arithmetic on possibly re-rooted URLs).
        let files = ((FileManager.default.enumerator(atPath: url.path)?.allObjects as? [String]) ?? [])
            .filter { var d: ObjCBool = false; return FileManager.default.fileExists(atPath: url.appendingPathComponent($0).path, isDirectory: &d) && !d.boolValue }
            .sorted { $0.split(separator: "/").lexicographicallyPrecedes($1.split(separator: "/")) } // as Python sorts paths
            .map { ($0, url.appendingPathComponent($0)) }
        var tree = SHA256()
        for (relative, file) in files {
            guard let data = try? Data(contentsOf: file, options: .mappedIfSafe) else { return nil }
            tree.update(data: Data("\(relative)\u{0}\(hex(SHA256.hash(data: data)))\n".utf8))
        }
        return hex(tree.finalize())
        #else
        return nil
        #endif
    }
}
