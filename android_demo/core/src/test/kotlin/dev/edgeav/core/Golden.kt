package dev.edgeav.core

import java.io.File
import java.nio.ByteBuffer
import java.nio.ByteOrder

/** The golden vectors tests/apps/golden.py writes (folder from -Dedgeav.golden, as host-test.sh and Gradle set it). */
object Golden {
    val dir: File by lazy {
        val path =
            System.getProperty("edgeav.golden") ?: error("set -Dedgeav.golden to tests/apps/golden (android_demo/tools/host-test.sh does)")
        File(path).also { check(File(it, "cases.json").isFile) { "$it has no cases.json: run `python -m tests.apps.golden`" } }
    }

    @Suppress("UNCHECKED_CAST")
    val cases: Map<String, Any?> by lazy { Json.parse(File(dir, "cases.json").readText()) as Map<String, Any?> }

    @Suppress("UNCHECKED_CAST")
    fun list(key: String): List<Map<String, Any?>> = cases[key] as List<Map<String, Any?>>

    fun bytes(name: String): ByteArray = File(dir, name).readBytes()

    fun buffer(name: String): ByteBuffer = ByteBuffer.wrap(bytes(name))

    fun floats(name: String): FloatArray {
        val b = ByteBuffer.wrap(bytes(name)).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer()
        return FloatArray(b.remaining()).also { b.get(it) }
    }

    fun ints(name: String): IntArray {
        val b = ByteBuffer.wrap(bytes(name)).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer()
        return IntArray(b.remaining()).also { b.get(it) }
    }

    fun shorts(name: String): ShortArray {
        val b = ByteBuffer.wrap(bytes(name)).order(ByteOrder.LITTLE_ENDIAN).asShortBuffer()
        return ShortArray(b.remaining()).also { b.get(it) }
    }

    fun manifestFiles(): List<File> = (cases["manifests"] as List<*>).map { File(dir, it as String) }

    fun manifest(name: String): Manifest = File(dir, "manifests/$name").let { Manifest.parse(it.readText(), it.name) }
}

fun Map<String, Any?>.int(key: String): Int = (this[key] as Double).toInt()

fun Map<String, Any?>.str(key: String): String = this[key] as String
