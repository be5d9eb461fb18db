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
 * One camera frame (+ the audio window the ring holds) → the model → an ARGB overlay. Runs on the analysis
 * executor, which ImageAnalysis feeds with keep-only-latest: a slow model skips frames instead of queueing them.
 * Stages timed: pre (frame conversion + audio window), infer, post (overlay + bitmap).
 */
class FrameAnalyzer(
    private val manifest: Manifest,
    private val runner: ModelRunner,
    private val ring: PcmRing,
    private val timer: StageTimer,
    private val onResult: (FrameResult) -> Unit,
    private val onError: (String) -> Unit,
) : ImageAnalysis.Analyzer {
    private val audioSpec = manifest.audio!!
    private val audio = FloatArray(audioSpec.samples)
    private val delay = DelayLine<Pair<FloatArray, Geometry>>(audioSpec.videoDelaySamples)
    private val outShape = manifest.output(manifest.postprocess.output).shape
    private var converter: FrameConverter? = null

    @Volatile var stopped = false

    override fun analyze(image: ImageProxy) {
        if (stopped) return image.close()
        try {
            val start = System.nanoTime()
            val frame = image.use { convert(it) }
            delay.add(frame, ring.heard)
            // A centred model heard half its window after the frame: run the frame once that audio is in.
            val (tensor, geometry) = delay.poll(ring.heard) ?: return
            ring.window(audio)
            val inputs = manifest.inputs.map { if (it.name == manifest.image.input) tensor else audio }
            val pre = System.nanoTime()
            val output = runner.run(inputs)
            val inferred = System.nanoTime()
            val argb = Overlay.render(manifest.postprocess, output, outShape)
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
