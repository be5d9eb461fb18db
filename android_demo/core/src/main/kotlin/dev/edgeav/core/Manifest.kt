package dev.edgeav.core

/** A manifest the app cannot use; the message names the file, the field and the fix. */
class ManifestException(
    message: String,
) : IllegalArgumentException(message)

enum class AudioWindow(
    val json: String,
) {
    CENTRED("centred"),
    TRAILING("trailing"),
}

data class TensorSpec(
    val name: String,
    val shape: List<Int>,
    val dtype: String,
) {
    val elements: Int get() = shape.fold(1) { a, b -> a * b }
}

/** The camera frame's tensor: NCHW RGB in [0, 1], centre-cropped and bilinearly resized to height × width. */
data class ImageInput(
    val input: String,
    val height: Int,
    val width: Int,
)

/**
 * The microphone's tensor: [samples] mono PCM at [sampleRate]. A [AudioWindow.CENTRED] model heard half its
 * window after the frame, so the app shows (and runs) each frame [videoDelaySamples] late.
 */
data class AudioInput(
    val input: String,
    val sampleRate: Int,
    val samples: Int,
    val window: AudioWindow,
    val videoDelaySamples: Int,
)

/** Recurrent state: zeros for the first frame, then the last call's [fromOutput] (e.g. DTFSal-S's features). */
data class StateInput(
    val input: String,
    val fromOutput: String,
)

/** How the app reads the model's output (the manifest's `postprocess`). */
sealed class Postprocess {
    abstract val output: String

    data class Threshold(
        override val output: String,
        val channel: Int,
        val value: Float,
    ) : Postprocess()

    data class Argmax(
        override val output: String,
        val background: Int,
        val labels: List<String>,
    ) : Postprocess()

    data class Saliency(
        override val output: String,
        val channel: Int,
        val minMax: Boolean,
    ) : Postprocess()
}

/** The fields of an edgeav manifest (`<artifact>.json`, schema [SCHEMA_VERSION]) the apps read; others are ignored. */
data class Manifest(
    val source: String,
    val model: String,
    val configName: String,
    val task: String,
    val target: String,
    val artifact: String,
    val sha256: String,
    val sizeBytes: Long,
    val precision: String,
    val inputs: List<TensorSpec>,
    val outputs: List<TensorSpec>,
    val artifactInputs: List<String?>,
    val artifactOutputs: List<String?>,
    val image: ImageInput,
    val audio: AudioInput?,
    val state: List<StateInput>,
    val otherInputs: List<String>,
    val postprocess: Postprocess,
    val runtimeVersion: String?,
) {
    val title: String get() = "$model [$configName] $precision · $target"

    fun output(name: String): TensorSpec = outputs.first { it.name == name }

    companion object {
        const val SCHEMA_VERSION = 2

        /** Parse [text] (the manifest named [source], for messages). */
        fun parse(
            text: String,
            source: String,
        ): Manifest {
            val root =
                try {
                    Json.parse(text)
                } catch (e: IllegalArgumentException) {
                    throw ManifestException("$source: ${e.message}; re-export it with `edgeav export`")
                }
            return Fields(source, root, "").let { read(it) }
        }

        private fun read(m: Fields): Manifest {
            val version = m.int("schema_version")
            if (version < SCHEMA_VERSION) {
                m.fail("schema_version $version is older than this app's $SCHEMA_VERSION: re-export with the current `edgeav export`")
            }
            if (version > SCHEMA_VERSION) {
                m.fail(
                    "schema_version $version is newer than this app's $SCHEMA_VERSION: " +
                        "update the app (android_demo) to the edgeav release that wrote it",
                )
            }
            val io = m.obj("io")
            val outputs = io.list("outputs").map { tensor(it) }
            val pre = m.obj("preprocess")
            return Manifest(
                source = m.source,
                model = m.str("model"),
                configName = m.str("config_name"),
                task = m.str("task"),
                target = m.str("target"),
                artifact = m.str("artifact"),
                sha256 = m.str("sha256"),
                sizeBytes = m.long("size_bytes"),
                precision = m.str("precision"),
                inputs = io.list("inputs").map { tensor(it) },
                outputs = outputs,
                artifactInputs = m.obj("artifact_io").names("inputs"),
                artifactOutputs = m.obj("artifact_io").names("outputs"),
                image = image(pre),
                audio = if (pre.has("audio")) audio(pre.obj("audio")) else null,
                state = if (pre.has("state")) pre.list("state").map { state(it, outputs) } else emptyList(),
                otherInputs = if (pre.has("other_inputs")) pre.list("other_inputs").map { it.asString() } else emptyList(),
                postprocess = postprocess(m.obj("postprocess"), outputs),
                runtimeVersion = m.obj("runtime").strOrNull("version"),
            )
        }

        private fun state(
            s: Fields,
            outputs: List<TensorSpec>,
        ): StateInput {
            val from = s.str("from_output")
            if (outputs.none { it.name == from }) s.fail("reads output '$from', which is none of ${outputs.map { it.name }}: re-export it")
            return StateInput(s.str("input"), from)
        }

        private fun tensor(t: Fields) = TensorSpec(t.str("name"), t.list("shape").map { it.asInt() }, t.str("dtype"))

        private fun image(pre: Fields): ImageInput {
            if (!pre.has("image")) pre.fail("has no 'image' input: this app feeds camera frames; pick an audio-visual model")
            val img = pre.obj("image")
            if (img.str("layout") != "NCHW" || img.str("channels") != "RGB") {
                img.fail("is ${img.str("layout")} ${img.str("channels")}; this app feeds NCHW RGB: re-export with the current edgeav")
            }
            return ImageInput(img.str("input"), img.int("height"), img.int("width"))
        }

        private fun audio(a: Fields): AudioInput {
            val window = a.str("window")
            return AudioInput(
                input = a.str("input"),
                sampleRate = a.int("sample_rate"),
                samples = a.int("samples"),
                window = AudioWindow.values().firstOrNull { it.json == window } ?: a.fail("window '$window' is not centred or trailing"),
                videoDelaySamples = a.int("video_delay_samples"),
            )
        }

        private fun postprocess(
            p: Fields,
            outputs: List<TensorSpec>,
        ): Postprocess {
            val output = p.str("output")
            val spec =
                outputs.firstOrNull { it.name == output } ?: p.fail("names output '$output', which is none of ${outputs.map { it.name }}")
            return when (val kind = p.str("kind")) {
                "threshold" -> {
                    Postprocess.Threshold(output, p.int("channel"), p.double("value").toFloat())
                }

                "argmax" -> {
                    val labels = p.list("labels").map { it.asString() }
                    if (spec.shape.size != 4 || labels.size != spec.shape[1]) {
                        p.fail("has ${labels.size} labels for output shape ${spec.shape}: re-export (labels must match the classes)")
                    }
                    Postprocess.Argmax(output, p.int("background"), labels)
                }

                "saliency" -> {
                    Postprocess.Saliency(output, p.int("channel"), p.str("normalize") == "min-max")
                }

                else -> {
                    p.fail("kind '$kind' is unknown to this app (threshold, argmax, saliency): update the app")
                }
            }
        }
    }
}

/** A JSON value with its path, for messages such as `x.json: 'preprocess.image.height' is missing`. */
internal class Fields(
    val source: String,
    private val value: Any?,
    private val path: String,
) {
    private fun at(key: String) = if (path.isEmpty()) key else "$path.$key"

    fun fail(problem: String): Nothing = throw ManifestException("$source: '${path.ifEmpty { "manifest" }}' $problem")

    private fun map(): Map<*, *> = value as? Map<*, *> ?: fail("is not an object")

    fun has(key: String) = map().containsKey(key)

    private fun get(key: String): Fields {
        val m = map()
        if (!m.containsKey(key)) Fields(source, null, at(key)).fail("is missing; re-export with the current `edgeav export`")
        return Fields(source, m[key], at(key))
    }

    fun obj(key: String) = get(key).also { it.map() }

    fun str(key: String) = get(key).asString()

    fun strOrNull(key: String): String? = if (has(key)) map()[key] as? String else null

    fun int(key: String) = get(key).asInt()

    fun long(key: String) = get(key).asNumber().toLong()

    fun double(key: String) = get(key).asNumber()

    fun list(key: String): List<Fields> {
        val f = get(key)
        val items = f.value as? List<*> ?: f.fail("is not a list")
        return items.mapIndexed { i, v -> Fields(source, v, "${f.path}[$i]") }
    }

    fun names(key: String): List<String?> = list(key).map { it.value as? String }

    fun asString(): String = value as? String ?: fail("is not a string")

    fun asNumber(): Double = value as? Double ?: fail("is not a number")

    fun asInt(): Int {
        val d = asNumber()
        if (d != Math.floor(d)) fail("is not an integer")
        return d.toInt()
    }
}
