package dev.edgeav.core

/**
 * A model output → ARGB overlay pixels at the output's height × width (draw them into
 * [Geometry.overlayRect]), following the manifest's [Postprocess] rule as tests/apps/reference.py defines it.
 */
object Overlay {
    const val MASK_ARGB: Int = 0x8C00E676.toInt()
    const val CLASS_ALPHA: Int = 0x8C
    const val SALIENCY_MAX_ALPHA: Int = 200

    /** [output] is the named output tensor, NCHW [1, C, H, W], as the runtime returns it. */
    fun render(
        rule: Postprocess,
        output: FloatArray,
        shape: List<Int>,
        out: IntArray = IntArray(shape[2] * shape[3]),
    ): IntArray {
        require(shape.size == 4 && shape[0] == 1) { "output '${rule.output}' has shape $shape; the overlay reads [1, C, H, W]" }
        val plane = shape[2] * shape[3]
        require(
            output.size >= shape[1] * plane,
        ) { "output '${rule.output}' holds ${output.size} floats, shape $shape needs ${shape[1] * plane}" }
        when (rule) {
            is Postprocess.Threshold -> for (p in 0 until plane) {
                out[p] =
                    if (output[rule.channel * plane + p] > rule.value) MASK_ARGB else 0
            }

            is Postprocess.Argmax -> argmax(output, shape[1], plane, rule.background, out)

            is Postprocess.Saliency -> saliency(output, rule.channel * plane, plane, rule.minMax, out)
        }
        return out
    }

    /** The class colour (PASCAL VOC's bit palette), background transparent. */
    fun classColour(k: Int): Int {
        var r = 0
        var g = 0
        var b = 0
        var c = k
        for (j in 0 until 8) {
            r = r or (((c shr 0) and 1) shl (7 - j))
            g = g or (((c shr 1) and 1) shl (7 - j))
            b = b or (((c shr 2) and 1) shl (7 - j))
            c = c shr 3
        }
        return (CLASS_ALPHA shl 24) or (r shl 16) or (g shl 8) or b
    }

    /** Jet colour of a level q in 0..255, more opaque where more salient. */
    fun jet(q: Int): Int {
        fun chan(centre: Int) = (383 - Math.abs(4 * q - centre)).coerceIn(0, 255)
        val alpha = q * SALIENCY_MAX_ALPHA / 255
        return (alpha shl 24) or (chan(765) shl 16) or (chan(510) shl 8) or chan(255)
    }

    private fun argmax(
        x: FloatArray,
        channels: Int,
        plane: Int,
        background: Int,
        out: IntArray,
    ) {
        val lut = IntArray(channels) { if (it == background) 0 else classColour(it) }
        for (p in 0 until plane) {
            var best = 0
            for (c in 1 until channels) if (x[c * plane + p] > x[best * plane + p]) best = c
            out[p] = lut[best]
        }
    }

    private fun saliency(
        x: FloatArray,
        start: Int,
        plane: Int,
        minMax: Boolean,
        out: IntArray,
    ) {
        var lo = Float.POSITIVE_INFINITY
        var hi = Float.NEGATIVE_INFINITY
        for (p in 0 until plane) {
            lo = minOf(lo, x[start + p])
            hi = maxOf(hi, x[start + p])
        }
        for (p in 0 until plane) {
            val s = x[start + p]
            val v =
                if (!minMax) {
                    s
                } else if (hi > lo) {
                    (s - lo) / (hi - lo)
                } else {
                    0f
                }
            val q = Math.floor((v.coerceIn(0f, 1f) * 255f + 0.5f).toDouble()).toInt().coerceIn(0, 255)
            out[p] = jet(q)
        }
    }
}
