package dev.edgeav.core

import java.nio.ByteBuffer

/**
 * Camera frames → the model's `frames` tensor (float NCHW RGB in [0, 1]) for one [Geometry]; make one per
 * frame size and rotation and reuse it (the bilinear taps are computed once).
 */
class FrameConverter(
    val geometry: Geometry,
) {
    private val taps = geometry.taps()
    private val plane = geometry.outWidth * geometry.outHeight

    /** Elements of the output tensor: 3 × height × width. */
    val size: Int get() = 3 * plane

    /**
     * RGBA_8888 (CameraX `OUTPUT_IMAGE_FORMAT_RGBA_8888`, or a decoded bitmap's bytes): [rowStride] bytes per
     * row, [pixelStride] bytes per pixel (4), R first.
     */
    fun rgba(
        buffer: ByteBuffer,
        rowStride: Int,
        pixelStride: Int,
        out: FloatArray,
    ) {
        val w = geometry.width
        resample(out) { index, rgb, at ->
            val base = (index / w) * rowStride + (index % w) * pixelStride
            for (c in 0 until 3) rgb[at + c] = (buffer.get(base + c).toInt() and 0xFF).toFloat() / 255f
        }
    }

    /**
     * YUV_420_888 (CameraX's default analysis format): the three planes of `android.media.Image` with their
     * strides; chroma is subsampled 2×2 and may be interleaved ([uvPixelStride] 2) or planar (1).
     * Colour: BT.601 full range, each bilinear tap converted then clamped to [0, 255].
     */
    fun yuv420(
        y: ByteBuffer,
        u: ByteBuffer,
        v: ByteBuffer,
        yRowStride: Int,
        uvRowStride: Int,
        uvPixelStride: Int,
        out: FloatArray,
    ) {
        val w = geometry.width
        resample(out) { index, rgb, at ->
            val row = index / w
            val col = index % w
            val yy = (y.get(row * yRowStride + col).toInt() and 0xFF).toFloat()
            val ci = (row / 2) * uvRowStride + (col / 2) * uvPixelStride
            val uu = (u.get(ci).toInt() and 0xFF).toFloat()
            val vv = (v.get(ci).toInt() and 0xFF).toFloat()
            rgb[at] = (yy + 1.402f * (vv - 128f)).coerceIn(0f, 255f) / 255f
            rgb[at + 1] = (yy - 0.344136f * (uu - 128f) - 0.714136f * (vv - 128f)).coerceIn(0f, 255f) / 255f
            rgb[at + 2] = (yy + 1.772f * (uu - 128f)).coerceIn(0f, 255f) / 255f
        }
    }

    /** [pixel] writes sensor pixel `index`'s RGB in [0, 1] into `rgb[at..at+2]`. */
    private inline fun resample(
        out: FloatArray,
        pixel: (index: Int, rgb: FloatArray, at: Int) -> Unit,
    ) {
        require(out.size >= size) { "output holds ${out.size} floats, the model input needs $size" }
        val ow = geometry.outWidth
        val idx = taps.index
        val t = FloatArray(12) // the four taps' RGB: a, b, c, d
        for (p in 0 until plane) {
            for (k in 0 until 4) pixel(idx[4 * p + k], t, 3 * k)
            val fx = taps.fx[p % ow]
            val fy = taps.fy[p / ow]
            for (c in 0 until 3) {
                val top = t[c] + (t[3 + c] - t[c]) * fx
                val bottom = t[6 + c] + (t[9 + c] - t[6 + c]) * fx
                out[c * plane + p] = top + (bottom - top) * fy
            }
        }
    }
}
