// swift-tools-version:5.9
// EdgeAVCore: the iOS demo's platform-free core (manifest, frame conversion, PCM ring, overlays, timings).
// No outside dependency, so `swift test` runs on any machine with a Swift toolchain (macOS, Linux).
import PackageDescription

let package = Package(
    name: "EdgeAVCore",
    platforms: [.iOS(.v16), .macOS(.v13)],
    products: [.library(name: "EdgeAVCore", targets: ["EdgeAVCore"])],
    targets: [
        .target(name: "EdgeAVCore"),
        // Golden/ is a byte-identical copy of tests/apps/golden (python -m tests.apps.golden writes both).
        .testTarget(name: "EdgeAVCoreTests", dependencies: ["EdgeAVCore"], resources: [.copy("Golden")]),
    ]
)
