package dev.edgeav.core

/**
 * The runtime that runs an artifact, chosen by the manifest's `target`; [pinnedVersion] is what the app links
 * (gradle/libs.versions.toml), which must equal the version that exported the artifact.
 */
enum class RuntimeKind(
    val target: String,
    val library: String,
    val pinnedVersion: String,
) {
    EXECUTORCH("executorch", "org.pytorch:executorch-android", "1.5.1"),
    LITERT("litert", "com.google.ai.edge.litert:litert", "2.3.0"),
    ;

    companion object {
        private const val ANDROID_EXPORT = "export with --target android for this app"

        fun of(manifest: Manifest): RuntimeKind =
            values().firstOrNull { it.target == manifest.target } ?: throw ManifestException(
                when (manifest.target) {
                    "coreml" -> "${manifest.artifact} is a Core ML artifact, which runs in ios_demo; $ANDROID_EXPORT"
                    else -> "${manifest.artifact} targets ${manifest.target}, which this app does not run; $ANDROID_EXPORT (.pte / .tflite)"
                },
            )

        /** A warning when the artifact was exported by another runtime version than the one linked, else null. */
        fun versionWarning(manifest: Manifest): String? {
            val kind = of(manifest)
            val exported = manifest.runtimeVersion ?: return null
            return if (exported == kind.pinnedVersion) {
                null
            } else {
                "${manifest.artifact} was exported with ${kind.target} $exported but the app links ${kind.pinnedVersion}: " +
                    "re-export with edgeav's pinned ${kind.target}, or change gradle/libs.versions.toml"
            }
        }
    }
}
