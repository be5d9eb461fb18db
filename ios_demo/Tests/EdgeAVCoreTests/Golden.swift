import Foundation
import XCTest

/// The golden vectors (a byte-identical copy of tests/apps/golden, checked by tests/apps/test_golden.py).
enum Golden {
    static let dir: URL = Bundle.module.resourceURL!.appendingPathComponent("Golden")

    static let cases: [String: Any] = {
        let data = try! Data(contentsOf: dir.appendingPathComponent("cases.json"))
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }()

    static func list(_ key: String) -> [[String: Any]] { cases[key] as! [[String: Any]] }

    static func bytes(_ name: String) -> [UInt8] { [UInt8](try! Data(contentsOf: dir.appendingPathComponent(name))) }

    static func floats(_ name: String) -> [Float] { little(name, Float.self) { Float(bitPattern: $0) } }

    static func uints(_ name: String) -> [UInt32] { little(name, UInt32.self) { $0 } }

    static func shorts(_ name: String) -> [Int16] {
        let b = bytes(name)
        return stride(from: 0, to: b.count, by: 2).map { Int16(bitPattern: UInt16(b[$0]) | UInt16(b[$0 + 1]) << 8) }
    }

    private static func little<T>(_ name: String, _: T.Type, _ make: (UInt32) -> T) -> [T] {
        let b = bytes(name)
        return stride(from: 0, to: b.count, by: 4).map { i in
            make(UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24)
        }
    }

    static func manifestURL(_ name: String) -> URL { dir.appendingPathComponent("manifests/\(name)") }

    static func manifest(_ name: String) throws -> Manifest {
        try Manifest.parse(Data(contentsOf: manifestURL(name)), source: name)
    }
}

extension Dictionary where Key == String, Value == Any {
    func int(_ key: String) -> Int { (self[key] as! NSNumber).intValue }
    func str(_ key: String) -> String { self[key] as! String }
}
