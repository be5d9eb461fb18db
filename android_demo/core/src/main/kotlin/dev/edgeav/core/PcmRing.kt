package dev.edgeav.core

/**
 * The last [capacity] samples of mono PCM heard, for the model's audio window: the recorder thread pushes
 * chunks, the analysis thread copies the window out (oldest sample first; silence until the ring is full).
 * int16 is scaled by 1/32768, as `AudioFormat.ENCODING_PCM_16BIT` → [-1, 1).
 */
class PcmRing(
    val capacity: Int,
) {
    init {
        require(
            capacity > 0,
        ) { "the audio window must hold at least one sample (got $capacity): check the manifest's preprocess.audio.samples" }
    }

    private val ring = FloatArray(capacity)
    private var head = 0 // where the next sample goes

    /** Samples pushed since the start: the audio clock that frames are delayed against. */
    var heard: Long = 0
        private set

    @Synchronized
    fun push(
        chunk: FloatArray,
        offset: Int = 0,
        length: Int = chunk.size - offset,
    ) {
        for (i in offset until offset + length) put(chunk[i])
    }

    @Synchronized
    fun push(
        chunk: ShortArray,
        offset: Int = 0,
        length: Int = chunk.size - offset,
    ) {
        for (i in offset until offset + length) put(chunk[i] / 32768f)
    }

    private fun put(sample: Float) {
        ring[head] = sample
        head = (head + 1) % capacity
        heard++
    }

    /** The window into [out] (at least [capacity] floats), oldest sample first. */
    @Synchronized
    fun window(out: FloatArray) {
        require(out.size >= capacity) { "output holds ${out.size} floats, the window is $capacity" }
        if (heard < capacity) {
            val filled = heard.toInt()
            out.fill(0f, 0, capacity - filled)
            System.arraycopy(ring, 0, out, capacity - filled, filled)
            return
        }
        System.arraycopy(ring, head, out, 0, capacity - head)
        System.arraycopy(ring, 0, out, capacity - head, head)
    }
}
