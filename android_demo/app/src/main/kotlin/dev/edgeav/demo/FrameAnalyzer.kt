package dev.edgeav.demo

import android.graphics.Bitmap
import android.graphics.PixelFormat
import androidx.camera.core.ImageAnalysis
import androidx.camera.core.ImageProxy
import dev.edgeav.core.DelayLine
import dev.edgeav.core.FrameConverter
import dev.edgeav.core.Geometry
import dev.edgeav.core.Manifest
import dev.edgeav.core.Overlay
import dev.edgeav.core.PcmRing
import dev.edgeav.core.StageTimer

/** What one analysed frame produced, for the UI thread. */
class FrameResult(
    val overlay: Bitmap,
    val geometry: Geometry,
    val timing: StageTimer.Summary?,
)

/**
 * One camera frame (+ the audio window the ring holds, + the model's recurrent state) → the model → an ARGB
 * overlay. Runs on the analysis
 * executor, which ImageAnalysis feeds with keep-only-latest: a slow model skips frames instead of queueing them.
 * Stages timed: pre (frame conversion + audio window), infer, post (overlay + bitmap).
 */
class FrameAnalyzer(
    private val manifest: Manifest,
    private val runner: ModelRunner,
    private val ring: PcmRing?, // null: an image-only model
    private val timer: StageTimer,
    private val onResult: (FrameResult) -> Unit,
    private val onError: (String) -> Unit,
) : ImageAnalysis.Analyzer {
    private val audio = FloatArray(manifest.audio?.samples ?: 0)
    private val delay = DelayLine<Pair<FloatArray, Geometry>>(manifest.audio?.videoDelaySamples ?: 0)
    private val outShape = manifest.output(manifest.postprocess.output).shape
    private val overlayIndex = manifest.outputs.indexOfFirst { it.name == manifest.postprocess.output }

    // Recurrent inputs: zeros for the first frame, then the output named by the manifest.
    private val state = manifest.state.associate { s -> s.input to FloatArray(manifest.inputs.first { it.name == s.input }.elements) }
    private val stateSources = manifest.state.map { s -> s.input to manifest.outputs.indexOfFirst { it.name == s.fromOutput } }
    private var converter: FrameConverter? = null

    @Volatile var stopped = false

    override fun analyze(image: ImageProxy) {
        if (stopped) return image.close()
        try {
            val start = System.nanoTime()
            val frame = image.use { convert(it) }
            val heard = ring?.heard ?: 0L
            delay.add(frame, heard)
            // A centred model heard half its window after the frame: run the frame once that audio is in.
            val (tensor, geometry) = delay.poll(heard) ?: return
            ring?.window(audio)
            val inputs = manifest.inputs.map { if (it.name == manifest.image.input) tensor else state[it.name] ?: audio }
            val pre = System.nanoTime()
            val outputs = runner.run(inputs)
            val inferred = System.nanoTime()
            for ((input, source) in stateSources) outputs[source].copyInto(state.getValue(input))
            val argb = Overlay.render(manifest.postprocess, outputs[overlayIndex], outShape)
            val bitmap = Bitmap.createBitmap(argb, outShape[3], outShape[2], Bitmap.Config.ARGB_8888)
            val end = System.nanoTime()
            timer.record(pre - start, inferred - pre, end - inferred, end)
            onResult(FrameResult(bitmap, geometry, timer.summary()))
        } catch (e: RuntimeException) {
            stopped = true
            onError("${manifest.artifact}: ${e.message ?: e.javaClass.simpleName}")
        }
    }

    private fun convert(image: ImageProxy): Pair<FloatArray, Geometry> {
        val geometry = Geometry(image.width, image.height, image.imageInfo.rotationDegrees, manifest.image.width, manifest.image.height)
        val conv = converter?.takeIf { it.geometry == geometry } ?: FrameConverter(geometry).also { converter = it }
        val out = FloatArray(conv.size)
        val planes = image.planes
        if (image.format == PixelFormat.RGBA_8888) {
            conv.rgba(planes[0].buffer, planes[0].rowStride, planes[0].pixelStride, out)
        } else {
            conv.yuv420(
                planes[0].buffer,
                planes[1].buffer,
                planes[2].buffer,
                planes[0].rowStride,
                planes[1].rowStride,
                planes[1].pixelStride,
                out,
            )
        }
        return out to geometry
    }
}
