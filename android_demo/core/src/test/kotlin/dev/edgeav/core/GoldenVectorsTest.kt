package dev.edgeav.core

import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test

/** The Kotlin core reproduces the Python reference (tests/apps/reference.py) on the golden vectors. */
class GoldenVectorsTest {
    private fun assertClose(
        name: String,
        expected: FloatArray,
        actual: FloatArray,
    ) {
        assertEquals("$name: element count", expected.size, actual.size)
        var worst = 0f
        for (i in expected.indices) worst = maxOf(worst, Math.abs(expected[i] - actual[i]))
        assertTrue("$name: max abs difference $worst", worst <= 1e-6f)
    }

    private fun converter(case: Map<String, Any?>) =
        FrameConverter(Geometry(case.int("width"), case.int("height"), case.int("rotation"), case.int("out_width"), case.int("out_height")))

    @Test
    fun rgbaFramesMatchTheReference() {
        val cases = Golden.list("frames").filter { it["kind"] == "rgba" }
        assertEquals(4, cases.size)
        for (case in cases) {
            val conv = converter(case)
            val out = FloatArray(conv.size)
            conv.rgba(Golden.buffer(case.str("source")), case.int("width") * 4, 4, out)
            assertClose(case.str("name"), Golden.floats(case.str("expected")), out)
        }
    }

    @Test
    fun yuvFramesMatchTheReference() {
        val cases = Golden.list("frames").filter { it["kind"] == "yuv420" }
        assertEquals(3, cases.size)
        for (case in cases) {
            val conv = converter(case)
            val out = FloatArray(conv.size)
            conv.yuv420(
                Golden.buffer(case.str("y")),
                Golden.buffer(case.str("u")),
                Golden.buffer(case.str("v")),
                case.int("y_row_stride"),
                case.int("uv_row_stride"),
                case.int("uv_pixel_stride"),
                out,
            )
            assertClose(case.str("name"), Golden.floats(case.str("expected")), out)
        }
    }

    @Test
    fun overlaysMatchTheReferencePixelForPixel() {
        val cases = Golden.list("overlays")
        assertEquals(listOf("threshold", "argmax", "saliency"), cases.map { it["name"] })
        for (case in cases) {
            @Suppress("UNCHECKED_CAST")
            val rule = case["postprocess"] as Map<String, Any?>
            val shape = (case["shape"] as List<*>).map { (it as Double).toInt() }
            val postprocess =
                when (rule["kind"]) {
                    "threshold" -> {
                        Postprocess.Threshold(rule.str("output"), rule.int("channel"), (rule["value"] as Double).toFloat())
                    }

                    "argmax" -> {
                        Postprocess.Argmax(
                            rule.str("output"),
                            rule.int("background"),
                            (rule["labels"] as List<*>).map { it as String },
                        )
                    }

                    else -> {
                        Postprocess.Saliency(rule.str("output"), rule.int("channel"), rule["normalize"] == "min-max")
                    }
                }
            val argb = Overlay.render(postprocess, Golden.floats(case.str("output")), shape)
            assertArrayEquals(case.str("name"), Golden.ints(case.str("expected")), argb)
        }
    }

    @Test
    fun overlayColoursAreTheReferenceOnes() {
        @Suppress("UNCHECKED_CAST")
        val colours = Golden.cases["overlay_colours"] as Map<String, Any?>
        assertEquals(colours.int("alpha"), Overlay.CLASS_ALPHA)
        assertEquals((colours["mask"] as Double).toLong().toInt(), Overlay.MASK_ARGB)
        assertEquals(colours.int("saliency_max_alpha"), Overlay.SALIENCY_MAX_ALPHA)
    }

    @Test
    fun pcmRingGivesTheReferenceWindowAfterEveryChunk() {
        val case = Golden.list("pcm").single()
        val samples = case.int("samples")
        val pcm = Golden.shorts(case.str("chunks"))
        val expected = Golden.floats(case.str("windows"))
        val ring = PcmRing(samples)
        val window = FloatArray(samples)
        var offset = 0
        for ((k, size) in (case["chunk_sizes"] as List<*>).map { (it as Double).toInt() }.withIndex()) {
            ring.push(pcm, offset, size)
            offset += size
            ring.window(window)
            assertArrayEquals("window after chunk $k", expected.copyOfRange(k * samples, (k + 1) * samples), window, 0f)
        }
        assertEquals(offset.toLong(), ring.heard)
    }
}
