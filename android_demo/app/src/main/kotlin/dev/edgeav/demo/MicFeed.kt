package dev.edgeav.demo

import android.annotation.SuppressLint
import android.media.AudioFormat
import android.media.AudioRecord
import android.media.MediaRecorder
import dev.edgeav.core.PcmRing

/**
 * The microphone at the model's rate, mono float PCM, into [ring] on its own thread. Without the RECORD_AUDIO
 * permission the app never starts it, and the ring stays silent.
 */
class MicFeed(
    private val ring: PcmRing,
    private val sampleRate: Int,
) {
    @Volatile private var running = false
    private var thread: Thread? = null

    /** Starts recording; returns a reason when the device cannot record at [sampleRate], else null. */
    @SuppressLint("MissingPermission") // the activity calls start() only once RECORD_AUDIO is granted
    fun start(): String? {
        val minBuffer = AudioRecord.getMinBufferSize(sampleRate, AudioFormat.CHANNEL_IN_MONO, AudioFormat.ENCODING_PCM_FLOAT)
        if (minBuffer <= 0) return "this device cannot record mono float PCM at $sampleRate Hz"
        val record =
            AudioRecord(
                MediaRecorder.AudioSource.MIC,
                sampleRate,
                AudioFormat.CHANNEL_IN_MONO,
                AudioFormat.ENCODING_PCM_FLOAT,
                maxOf(minBuffer, sampleRate / 5 * 4), // 200 ms of floats
            )
        if (record.state != AudioRecord.STATE_INITIALIZED) {
            record.release()
            return "the microphone is busy or unavailable"
        }
        running = true
        thread =
            Thread({
                val chunk = FloatArray(sampleRate / 50) // 20 ms
                record.startRecording()
                while (running) {
                    val n = record.read(chunk, 0, chunk.size, AudioRecord.READ_BLOCKING)
                    if (n > 0) ring.push(chunk, 0, n)
                }
                record.stop()
                record.release()
            }, "edgeav-mic").apply { start() }
        return null
    }

    fun stop() {
        running = false
        thread?.join(500)
        thread = null
    }
}
