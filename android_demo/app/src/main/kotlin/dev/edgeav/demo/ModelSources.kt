package dev.edgeav.demo

import android.content.Context
import android.content.res.AssetManager
import android.net.Uri
import android.provider.OpenableColumns
import dev.edgeav.core.CatalogEntry
import dev.edgeav.core.DirectoryStore
import dev.edgeav.core.ModelCatalog
import dev.edgeav.core.ModelStore
import java.io.File
import java.io.FileNotFoundException
import java.io.InputStream

/** The APK's `assets/models/` (filled by `edgeav export --app android_demo`). */
class AssetStore(
    private val assets: AssetManager,
    private val dir: String = "models",
) : ModelStore {
    override val description: String get() = "assets/$dir"

    override fun list(): List<String> = assets.list(dir)?.sorted() ?: emptyList()

    override fun open(name: String): InputStream? =
        try {
            assets.open("$dir/$name")
        } catch (e: FileNotFoundException) {
            null
        }

    override fun size(name: String): Long? =
        try {
            assets.openFd("$dir/$name").use { it.length }
        } catch (e: FileNotFoundException) {
            null // compressed or absent: the catalog then relies on the sha256 check
        }
}

/** Where a picked model comes from, and how a runtime gets a file path for it. */
sealed class ModelSource {
    abstract val entry: CatalogEntry

    data class Bundled(
        override val entry: CatalogEntry,
    ) : ModelSource()

    data class Stored(
        override val entry: CatalogEntry,
        val file: File,
    ) : ModelSource()
}

/** Bundled models, plus those in app storage (`files/models/`: `edgeav app push`, or Import). */
class ModelFiles(
    private val context: Context,
) {
    val storageDir: File get() = File(context.filesDir, "models").apply { mkdirs() }

    fun catalog(): List<ModelSource> {
        // Bundled assets were checked by the exporter; storage copies get the full sha256 check.
        val bundled = ModelCatalog.load(AssetStore(context.assets), verifySha256 = false).entries.map { ModelSource.Bundled(it) }
        val stored =
            ModelCatalog.load(DirectoryStore(storageDir), verifySha256 = true).entries.map {
                ModelSource.Stored(it, File(storageDir, it.manifest?.artifact ?: it.manifestName))
            }
        return bundled + stored
    }

    /**
     * A file path for the runtime. ExecuTorch's Module.load needs a real file, so a bundled artifact is copied
     * out of the APK once (pytorch/executorch#16271); the copy is reused while its size matches.
     */
    fun pathFor(source: ModelSource): String =
        when (source) {
            is ModelSource.Stored -> {
                source.file.absolutePath
            }

            is ModelSource.Bundled -> {
                val manifest = source.entry.manifest!!
                val dest = File(File(context.filesDir, "asset-cache").apply { mkdirs() }, manifest.artifact)
                if (!dest.isFile || dest.length() != manifest.sizeBytes) {
                    val tmp = File(dest.path + ".part")
                    context.assets.open("models/${manifest.artifact}").use { input -> tmp.outputStream().use { input.copyTo(it) } }
                    check(tmp.renameTo(dest)) { "cannot move ${tmp.name} into place; free some storage" }
                }
                dest.absolutePath
            }
        }

    /** Copy documents picked with the system file picker (an artifact and its .json) into app storage. */
    fun import(uris: List<Uri>): List<String> =
        uris.map { uri ->
            val name = displayName(uri)
            require(name.matches(Regex("[A-Za-z0-9._@+-]+"))) { "'$name' is not a plain file name; rename it (letters, digits, ._@+-)" }
            val dest = File(storageDir, name)
            context.contentResolver.openInputStream(uri)!!.use { input -> dest.outputStream().use { input.copyTo(it) } }
            name
        }

    private fun displayName(uri: Uri): String =
        context.contentResolver.query(uri, arrayOf(OpenableColumns.DISPLAY_NAME), null, null, null)?.use { c ->
            if (c.moveToFirst()) c.getString(0) else null
        } ?: uri.lastPathSegment!!.substringAfterLast('/')
}
