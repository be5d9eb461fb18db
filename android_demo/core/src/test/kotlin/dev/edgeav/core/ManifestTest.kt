package dev.edgeav.core

import org.junit.Assert.assertEquals
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test

/** Manifests written by edgeav's real build_manifest (the golden set) parse; broken ones fail naming the fix. */
class ManifestTest {
    private fun failure(text: String): String =
        try {
            Manifest.parse(text, "m.json")
            fail("expected a ManifestException")
            ""
        } catch (e: ManifestException) {
            e.message!!
        }

    private val segmentation = "lightavseg_small_fp32.pte.json"

    @Test
    fun everyGoldenManifestParses() {
        val files = Golden.manifestFiles()
        assertEquals(12, files.size)
        for (f in files) {
            val m = Manifest.parse(f.readText(), f.name)
            assertEquals(f.name, m.artifact + ".json")
            assertEquals(64, m.sha256.length)
            assertEquals(m.image.input, m.inputs.first { it.shape.size == 4 }.name)
        }
    }

    @Test
    fun binarySegmentationIsAThresholdWithATrailingWindow() {
        val m = Golden.manifest(segmentation)
        assertEquals(Postprocess.Threshold("mask", 0, 0.5f), m.postprocess)
        assertEquals(ImageInput("frames", 64, 64), m.image)
        assertEquals(AudioInput("audio", 16000, 16000, AudioWindow.TRAILING, 0), m.audio)
        assertEquals(RuntimeKind.EXECUTORCH, RuntimeKind.of(m))
        assertEquals(listOf("frames", "audio"), m.artifactInputs)
    }

    @Test
    fun semanticHeadsCarryOneLabelPerClass() {
        val m = Golden.manifest("lightavseg_small-avss_fp32.tflite.json")
        val rule = m.postprocess as Postprocess.Argmax
        assertEquals(71, rule.labels.size)
        assertEquals("background", rule.labels[0])
        assertEquals(AudioWindow.CENTRED, m.audio!!.window)
        assertEquals(8000, m.audio!!.videoDelaySamples)
        assertEquals(RuntimeKind.LITERT, RuntimeKind.of(m))
    }

    @Test
    fun saliencyIsAColourMap() {
        val m = Golden.manifest("saliency-student_golden_fp32.pte.json")
        assertEquals(Postprocess.Saliency("saliency", 0, true), m.postprocess)
        assertEquals(ImageInput("frames", 96, 160), m.image)
    }

    @Test
    fun aStreamingStudentDeclaresItsRecurrentState() {
        val m = Golden.manifest("saliency-student_golden_fp32.tflite.json")
        assertEquals(listOf(StateInput("state", "next_state")), m.state)
        assertEquals(listOf("frames", "audio", "state"), m.inputs.map { it.name })
        assertEquals(AudioWindow.TRAILING, m.audio!!.window)
        assertTrue(Golden.manifest(segmentation).state.isEmpty())
    }

    @Test
    fun anImageOnlyModelHasNoAudioInput() {
        val m = Golden.manifest("saliency-image_golden_fp32.pte.json")
        assertNull(m.audio)
        assertEquals(ImageInput("image", 96, 160), m.image)
    }

    @Test
    fun stateFromAnUnknownOutputIsRefused() {
        val text = Golden.dir.resolve("manifests/saliency-student_golden_fp32.pte.json").readText()
        val message = failure(text.replace("\"from_output\": \"next_state\"", "\"from_output\": \"later\""))
        assertTrue(message, message.contains("'preprocess.state[0]' reads output 'later'"))
    }

    @Test
    fun coreMlArtifactsAreSentToTheIosApp() {
        val m = Golden.manifest("lightavseg_small_fp16.mlpackage.json")
        try {
            RuntimeKind.of(m)
            fail("Core ML must be refused")
        } catch (e: ManifestException) {
            assertTrue(e.message, e.message!!.contains("ios_demo") && e.message!!.contains("--target android"))
        }
    }

    @Test
    fun runtimeVersionsMatchThePinnedOnes() {
        for (name in listOf(segmentation, "lightavseg_small_fp32.tflite.json")) {
            assertNull(RuntimeKind.versionWarning(Golden.manifest(name)))
        }
        val other = Golden.manifest(segmentation).copy(runtimeVersion = "0.9.0")
        assertTrue(RuntimeKind.versionWarning(other)!!.contains("re-export"))
    }

    @Test
    fun aMissingFieldIsNamedWithItsPath() {
        val text =
            Golden.dir
                .resolve("manifests/$segmentation")
                .readText()
                .replace("\"height\": 64,", "")
        val message = failure(text)
        assertTrue(message, message.contains("'preprocess.image.height' is missing") && message.contains("edgeav export"))
    }

    @Test
    fun schemaVersionsOutsideTheAppsAreRefusedWithTheFix() {
        val text = Golden.dir.resolve("manifests/$segmentation").readText()
        assertTrue(failure(text.replace("\"schema_version\": 2", "\"schema_version\": 3")).contains("update the app"))
        assertTrue(failure(text.replace("\"schema_version\": 2", "\"schema_version\": 1")).contains("re-export"))
    }

    @Test
    fun labelsThatDoNotMatchTheClassesAreRefused() {
        val text =
            Golden.dir
                .resolve("manifests/lightavseg_small-avss_fp32.pte.json")
                .readText()
                .replaceFirst("\"background\",", "")
        assertTrue(failure(text).contains("labels for output shape"))
    }

    @Test
    fun brokenJsonSaysReExport() {
        val message = failure("{\"schema_version\": 2,")
        assertTrue(message, message.startsWith("m.json: invalid JSON") && message.contains("re-export"))
    }

    @Test
    fun jsonReaderHandlesEscapesNumbersAndNesting() {
        val v = Json.parse("""{"a": [1, -2.5e1, true, null], "b": "x\"\u00e9\n", "c": {}}""") as Map<*, *>
        assertEquals(listOf(1.0, -25.0, true, null), v["a"])
        assertEquals("x\"é\n", v["b"])
        assertEquals(emptyMap<String, Any>(), v["c"])
    }
}
