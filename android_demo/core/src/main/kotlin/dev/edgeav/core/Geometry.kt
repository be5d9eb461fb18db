package dev.edgeav.core

/** The centred crop, in the upright (rotated) frame, that is resized to the model input. */
data class CropBox(
    val x0: Int,
    val y0: Int,
    val width: Int,
    val height: Int,
)

/** Where a rectangle lands in a view, in view pixels. */
data class ViewRect(
    val left: Float,
    val top: Float,
    val right: Float,
    val bottom: Float,
)

/**
 * Camera-to-model geometry shared by every frame format: the sensor image (width × height) is rotated
 * clockwise by [rotation] degrees (CameraX's `rotationDegrees`), centre-cropped to the model's aspect and
 * resized with half-pixel-centre bilinear sampling (edges clamped), as tests/apps/reference.py defines it.
 */
data class Geometry(
    val width: Int,
    val height: Int,
    val rotation: Int,
    val outWidth: Int,
    val outHeight: Int,
) {
    init {
        require(rotation in ROTATIONS) { "rotation $rotation is not 0, 90, 180 or 270: pass ImageInfo.rotationDegrees" }
        require(width > 0 && height > 0 && outWidth > 0 && outHeight > 0) {
            "frame ${width}x$height and model ${outWidth}x$outHeight must be positive"
        }
    }

    val uprightWidth: Int get() = if (rotation == 90 || rotation == 270) height else width
    val uprightHeight: Int get() = if (rotation == 90 || rotation == 270) width else height

    val crop: CropBox =
        run {
            val rw = uprightWidth
            val rh = uprightHeight
            val (cw, ch) =
                if (rw.toLong() * outHeight >
                    rh.toLong() * outWidth
                ) {
                    Pair(rh * outWidth / outHeight, rh)
                } else {
                    Pair(rw, rw * outHeight / outWidth)
                }
            CropBox((rw - cw) / 2, (rh - ch) / 2, cw, ch)
        }

    /** Sensor index (v * width + u) of upright pixel (x, y). */
    fun sensorIndex(
        x: Int,
        y: Int,
    ): Int =
        when (rotation) {
            0 -> y * width + x
            90 -> (height - 1 - x) * width + y
            180 -> (height - 1 - y) * width + (width - 1 - x)
            else -> x * width + (width - 1 - y)
        }

    /**
     * The bilinear taps per output pixel p: sensor indices taps[4p..4p+3] (a, b, c, d = top-left, top-right,
     * bottom-left, bottom-right) and the weights fx[p % outWidth], fy[p / outWidth].
     */
    class Taps(
        val index: IntArray,
        val fx: FloatArray,
        val fy: FloatArray,
    )

    fun taps(): Taps {
        val (xa, xb, fx) = axis(outWidth, crop.width)
        val (ya, yb, fy) = axis(outHeight, crop.height)
        val index = IntArray(outWidth * outHeight * 4)
        for (oy in 0 until outHeight) {
            for (ox in 0 until outWidth) {
                val p = 4 * (oy * outWidth + ox)
                index[p] = sensorIndex(crop.x0 + xa[ox], crop.y0 + ya[oy])
                index[p + 1] = sensorIndex(crop.x0 + xb[ox], crop.y0 + ya[oy])
                index[p + 2] = sensorIndex(crop.x0 + xa[ox], crop.y0 + yb[oy])
                index[p + 3] = sensorIndex(crop.x0 + xb[ox], crop.y0 + yb[oy])
            }
        }
        return Taps(index, fx, fy)
    }

    /** The model input's area inside a view showing the upright frame scaled to fit (centred, aspect kept). */
    fun overlayRect(
        viewWidth: Int,
        viewHeight: Int,
    ): ViewRect {
        val scale = minOf(viewWidth.toFloat() / uprightWidth, viewHeight.toFloat() / uprightHeight)
        val left = (viewWidth - uprightWidth * scale) / 2f + crop.x0 * scale
        val top = (viewHeight - uprightHeight * scale) / 2f + crop.y0 * scale
        return ViewRect(left, top, left + crop.width * scale, top + crop.height * scale)
    }

    private fun axis(
        nOut: Int,
        nCrop: Int,
    ): Triple<IntArray, IntArray, FloatArray> {
        val i0 = IntArray(nOut)
        val i1 = IntArray(nOut)
        val f = FloatArray(nOut)
        for (o in 0 until nOut) {
            val s = (((o.toFloat() + 0.5f) * nCrop.toFloat()) / nOut.toFloat() - 0.5f).coerceIn(0f, (nCrop - 1).toFloat())
            val lo = Math.floor(s.toDouble()).toInt()
            i0[o] = lo
            i1[o] = minOf(lo + 1, nCrop - 1)
            f[o] = s - lo.toFloat()
        }
        return Triple(i0, i1, f)
    }

    companion object {
        val ROTATIONS = setOf(0, 90, 180, 270)
    }
}
