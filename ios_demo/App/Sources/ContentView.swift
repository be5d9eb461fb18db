import AVFoundation
import EdgeAVCore
import SwiftUI
import UIKit
import UniformTypeIdentifiers

struct ContentView: View {
    @StateObject private var demo = DemoModel()
    @State private var importing = false

    var body: some View {
        VStack(spacing: 0) {
            GeometryReader { box in
                ZStack {
                    CameraPreview(session: demo.camera.session)
                    if let image = demo.overlay, let g = demo.geometry {
                        let r = g.overlayRect(viewWidth: Float(box.size.width), viewHeight: Float(box.size.height))
                        Image(decorative: image, scale: 1)
                            .resizable()
                            .frame(width: CGFloat(r.width), height: CGFloat(r.height))
                            .position(x: CGFloat(r.x + r.width / 2), y: CGFloat(r.y + r.height / 2))
                    }
                    if demo.cameraDenied {
                        VStack(spacing: 12) {
                            Text("Camera access is off: the demo needs the camera to run the model.")
                                .foregroundColor(.white)
                            Button("Open Settings") {
                                if let url = URL(string: UIApplication.openSettingsURLString) { UIApplication.shared.open(url) }
                            }
                        }
                        .padding()
                    }
                }
            }
            .background(Color.black)
            Text(demo.status).font(.footnote).frame(maxWidth: .infinity, alignment: .leading).padding(8)
            HStack {
                Picker("Model", selection: $demo.selected) {
                    ForEach(Array(demo.entries.enumerated()), id: \.offset) { i, entry in
                        Text(entry.manifest?.title ?? entry.manifestURL.lastPathComponent).tag(i)
                    }
                }
                Spacer()
                Button("Import…") { importing = true }
            }
            .padding(.horizontal)
        }
        .fileImporter(isPresented: $importing, allowedContentTypes: [.item, .folder], allowsMultipleSelection: true) { result in
            if case let .success(urls) = result { demo.importFiles(urls) }
        }
        .onAppear { demo.start() }
    }
}

/// AVCaptureVideoPreviewLayer, aspect-fit so that Geometry.overlayRect places the overlay.
struct CameraPreview: UIViewRepresentable {
    let session: AVCaptureSession

    final class PreviewView: UIView {
        override class var layerClass: AnyClass { AVCaptureVideoPreviewLayer.self }
        var preview: AVCaptureVideoPreviewLayer { layer as! AVCaptureVideoPreviewLayer }
    }

    func makeUIView(context: Context) -> PreviewView {
        let view = PreviewView()
        view.preview.session = session
        view.preview.videoGravity = .resizeAspect
        return view
    }

    func updateUIView(_ view: PreviewView, context: Context) {}
}
