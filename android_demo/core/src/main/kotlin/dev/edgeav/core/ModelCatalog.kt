package dev.edgeav.core

import java.io.File
import java.io.InputStream
import java.security.MessageDigest

/** Where models live: the app's bundled assets, or a folder on the device's storage. */
interface ModelStore {
    val description: String

    /** File names directly in the store. */
    fun list(): List<String>

    /** The file, or null when it is absent. */
    fun open(name: String): InputStream?

    /** The file's size, or null when unknown (assets that are compressed report none). */
    fun size(name: String): Long?
}

class DirectoryStore(
    private val dir: File,
) : ModelStore {
    override val description: String get() = dir.path

    override fun list(): List<String> =
        dir
            .listFiles()
            ?.filter { it.isFile }
            ?.map { it.name }
            ?.sorted() ?: emptyList()

    override fun open(name: String): InputStream? = File(dir, name).takeIf { it.isFile }?.inputStream()

    override fun size(name: String): Long? = File(dir, name).takeIf { it.isFile }?.length()
}

/** One model the picker offers, or the reason it cannot run here ([problem] names the fix). */
data class CatalogEntry(
    val manifestName: String,
    val manifest: Manifest?,
    val runtime: RuntimeKind?,
    val problem: String?,
) {
    val usable: Boolean get() = problem == null
}

/**
 * The models in a [ModelStore]: every `*.json` manifest beside its artifact (`index.json`, written by
 * `edgeav export --app`, is the list when present). Each is parsed, its runtime chosen, and its artifact checked
 * against the manifest's size and, when [verifySha256], its sha256.
 */
class ModelCatalog(
    val entries: List<CatalogEntry>,
) {
    val usable: List<CatalogEntry> get() = entries.filter { it.usable }

    companion object {
        const val INDEX = "index.json"
        private const val FRAME_AUDIO = "pick a model whose inputs are a frame (+ audio, + recurrent state)"
        private const val RERUN = "re-run `edgeav export --app`"

        fun load(
            store: ModelStore,
            verifySha256: Boolean,
        ): ModelCatalog = ModelCatalog(manifestNames(store).map { entry(store, it, verifySha256) })

        private fun manifestNames(store: ModelStore): List<String> {
            val index = store.open(INDEX)?.use { String(it.readBytes()) }
            if (index == null) return store.list().filter { it.endsWith(".json") && it != INDEX }
            val models =
                (Json.parse(index) as? Map<*, *>)?.get("models") as? List<*>
                    ?: throw ManifestException("${store.description}/$INDEX has no 'models' list; $RERUN")
            return models.map {
                ((it as? Map<*, *>)?.get("manifest") as? String)
                    ?: throw ManifestException("${store.description}/$INDEX: an entry has no 'manifest'; $RERUN")
            }
        }

        private fun entry(
            store: ModelStore,
            name: String,
            verifySha256: Boolean,
        ): CatalogEntry {
            val text =
                store.open(name)?.use { String(it.readBytes()) }
                    ?: return CatalogEntry(name, null, null, "$name is listed but absent; $RERUN")
            return try {
                val manifest = Manifest.parse(text, name)
                val runtime = RuntimeKind.of(manifest)
                CatalogEntry(name, manifest, runtime, artifactProblem(store, manifest, verifySha256) ?: inputProblem(manifest))
            } catch (e: ManifestException) {
                CatalogEntry(name, null, null, e.message)
            }
        }

        private fun inputProblem(m: Manifest): String? =
            if (m.otherInputs.isEmpty()) null else "${m.artifact} also takes ${m.otherInputs}, which this app does not feed; $FRAME_AUDIO"

        private fun artifactProblem(
            store: ModelStore,
            m: Manifest,
            verifySha256: Boolean,
        ): String? {
            val size = store.size(m.artifact)
            if (size == null && store.list().none { it == m.artifact } && store.open(m.artifact) == null) {
                return "${m.artifact} is missing beside ${m.source}; copy both with `edgeav export --app` or `edgeav app push`"
            }
            if (size != null && size != m.sizeBytes) {
                return "${m.artifact} has $size bytes, its manifest says ${m.sizeBytes}: the copy is partial or stale; copy it again"
            }
            if (verifySha256) {
                val sha = store.open(m.artifact)!!.use { sha256(it) }
                if (sha !=
                    m.sha256
                ) {
                    return "${m.artifact} sha256 $sha does not match its manifest: the copy is corrupt or stale; copy it again"
                }
            }
            return null
        }

        fun sha256(input: InputStream): String {
            val digest = MessageDigest.getInstance("SHA-256")
            val buffer = ByteArray(1 shl 16)
            while (true) {
                val n = input.read(buffer)
                if (n < 0) break
                digest.update(buffer, 0, n)
            }
            return digest.digest().joinToString("") { "%02x".format(it) }
        }
    }
}
