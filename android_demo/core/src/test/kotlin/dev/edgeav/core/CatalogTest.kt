package dev.edgeav.core

import org.junit.Assert.assertEquals
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Rule
import org.junit.Test
import org.junit.rules.TemporaryFolder
import java.io.File

/** The model picker's catalog: manifests beside their artifacts, checked by size and sha256. */
class CatalogTest {
    @get:Rule val tmp = TemporaryFolder()

    /** A models folder holding golden manifests and the placeholder artifacts they describe (tests/apps/golden.py). */
    private fun folder(vararg names: String): File {
        val dir = tmp.newFolder("models")
        for (name in names) {
            Golden.dir.resolve("manifests/$name").copyTo(File(dir, name))
            val artifact = name.removeSuffix(".json")
            File(dir, artifact).writeText("edgeav golden placeholder for $artifact\n")
        }
        return dir
    }

    @Test
    fun bundledModelsAreListedWithTheirRuntime() {
        val dir = folder("lightavseg_small_fp32.pte.json", "lightavseg_small_fp32.tflite.json")
        val catalog = ModelCatalog.load(DirectoryStore(dir), verifySha256 = true)
        assertEquals(listOf(RuntimeKind.EXECUTORCH, RuntimeKind.LITERT), catalog.usable.map { it.runtime })
        assertTrue(catalog.entries.all { it.problem == null })
    }

    @Test
    fun streamingAndImageOnlyStudentsAreUsable() {
        val dir = folder("saliency-student_golden_fp32.pte.json", "saliency-image_golden_fp32.tflite.json")
        assertEquals(2, ModelCatalog.load(DirectoryStore(dir), verifySha256 = true).usable.size)
    }

    @Test
    fun aCorruptCopyIsCaughtBySha256() {
        val dir = folder("lightavseg_small_fp32.pte.json")
        File(dir, "lightavseg_small_fp32.pte").writeText("edgeav golden placeholder for lightavseg_small_fp32.ptX\n")
        val entry = ModelCatalog.load(DirectoryStore(dir), verifySha256 = true).entries.single()
        assertTrue(entry.problem!!, entry.problem!!.contains("sha256") && entry.problem!!.contains("copy it again"))
        assertNull(
            ModelCatalog
                .load(DirectoryStore(dir), verifySha256 = false)
                .entries
                .single()
                .problem,
        )
    }

    @Test
    fun aPartialCopyAndAMissingArtifactAreNamed() {
        val dir = folder("lightavseg_small_fp32.pte.json", "lightavseg_small_fp32.tflite.json")
        File(dir, "lightavseg_small_fp32.pte").writeText("short")
        File(dir, "lightavseg_small_fp32.tflite").delete()
        val problems = ModelCatalog.load(DirectoryStore(dir), verifySha256 = false).entries.map { it.problem!! }
        assertTrue(problems[0], problems[0].contains("partial or stale"))
        assertTrue(problems[1], problems[1].contains("is missing") && problems[1].contains("edgeav app push"))
    }

    @Test
    fun coreMlAndBrokenManifestsStayInTheListWithTheirReason() {
        val dir = folder("lightavseg_small_fp16.mlpackage.json")
        File(dir, "broken.json").writeText("{")
        val entries = ModelCatalog.load(DirectoryStore(dir), verifySha256 = false).entries
        assertEquals(2, entries.size)
        assertTrue(entries.none { it.usable })
        assertTrue(entries.any { it.problem!!.contains("ios_demo") } && entries.any { it.problem!!.contains("invalid JSON") })
    }

    @Test
    fun theIndexWrittenByTheExporterIsTheList() {
        val dir = folder("lightavseg_small_fp32.pte.json", "lightavseg_small_fp32.tflite.json")
        File(
            dir,
            "index.json",
        ).writeText("""{"models": [{"artifact": "lightavseg_small_fp32.tflite", "manifest": "lightavseg_small_fp32.tflite.json"}]}""")
        val catalog = ModelCatalog.load(DirectoryStore(dir), verifySha256 = true)
        assertEquals(listOf("lightavseg_small_fp32.tflite.json"), catalog.entries.map { it.manifestName })
    }
}
