import SwiftUI

@main
struct EdgeAVDemoApp: App {
    var body: some Scene {
        WindowGroup { ContentView() }
    }
}
