package dev.edgeav.core

/** Per-stage latency (pre, infer, post) and frame rate, counted only after [warmup] frames. */
class StageTimer(
    private val warmup: Int = 10,
    private val window: Int = 30,
) {
    private val pre = ArrayDeque<Long>()
    private val infer = ArrayDeque<Long>()
    private val post = ArrayDeque<Long>()
    private val ends = ArrayDeque<Long>()
    private var frames = 0

    val warmedUp: Boolean get() = frames > warmup

    /** One frame's stage durations and the time it finished, all in nanoseconds. */
    @Synchronized
    fun record(
        preNanos: Long,
        inferNanos: Long,
        postNanos: Long,
        endNanos: Long,
    ) {
        frames++
        if (frames <= warmup) return
        for ((q, v) in listOf(pre to preNanos, infer to inferNanos, post to postNanos, ends to endNanos)) {
            q.addLast(v)
            if (q.size > window) q.removeFirst()
        }
    }

    data class Summary(
        val preMs: Double,
        val inferMs: Double,
        val postMs: Double,
        val fps: Double,
    ) {
        override fun toString() = "pre %.1f ms · infer %.1f ms · post %.1f ms · %.1f FPS".format(preMs, inferMs, postMs, fps)
    }

    /** Means over the last frames, or null during warm-up. */
    @Synchronized
    fun summary(): Summary? {
        if (pre.isEmpty()) return null
        val fps = if (ends.size < 2) 0.0 else (ends.size - 1) * 1e9 / (ends.last() - ends.first())
        return Summary(pre.average() / 1e6, infer.average() / 1e6, post.average() / 1e6, fps)
    }

    @Synchronized
    fun reset() {
        frames = 0
        listOf(pre, infer, post, ends).forEach { it.clear() }
    }
}

/**
 * Holds frames back by the audio window's delay (a centred model heard half a second after its frame): a
 * frame seen at audio clock `t` is released once [PcmRing.heard] has reached `t + delaySamples`; only the newest
 * ready frame is returned (older ones are dropped, like ImageAnalysis's keep-only-latest).
 */
class DelayLine<T>(
    private val delaySamples: Int,
    private val capacity: Int = 64,
) {
    private val pending = ArrayDeque<Pair<Long, T>>()

    @Synchronized
    fun add(
        item: T,
        heardAt: Long,
    ) {
        pending.addLast(heardAt to item)
        if (pending.size > capacity) pending.removeFirst()
    }

    @Synchronized
    fun poll(heardNow: Long): T? {
        var ready: T? = null
        while (pending.isNotEmpty() && pending.first().first + delaySamples <= heardNow) ready = pending.removeFirst().second
        return ready
    }
}
