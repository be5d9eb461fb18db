package dev.edgeav.core

import org.junit.Assert.assertEquals
import org.junit.Assert.assertNull
import org.junit.Test

class TimingTest {
    @Test
    fun warmUpFramesAreNotCounted() {
        val timer = StageTimer(warmup = 2, window = 10)
        timer.record(100_000_000, 100_000_000, 100_000_000, 0) // slow first frames: JIT, allocation, delegate init
        timer.record(100_000_000, 100_000_000, 100_000_000, 1)
        assertNull(timer.summary())
        for (k in 0 until 5) timer.record(1_000_000, 20_000_000, 2_000_000, 1_000_000_000L + k * 50_000_000L)
        val s = timer.summary()!!
        assertEquals(1.0, s.preMs, 1e-9)
        assertEquals(20.0, s.inferMs, 1e-9)
        assertEquals(2.0, s.postMs, 1e-9)
        assertEquals(20.0, s.fps, 1e-9)
    }

    @Test
    fun theDelayLineReleasesTheNewestFrameOnceItsAudioIsHeard() {
        val line = DelayLine<String>(delaySamples = 8000)
        line.add("a", heardAt = 0)
        line.add("b", heardAt = 4000)
        line.add("c", heardAt = 9000)
        assertNull(line.poll(7999))
        assertEquals("b", line.poll(12_000)) // a and b are due: the newest wins, a is dropped
        assertNull(line.poll(16_999))
        assertEquals("c", line.poll(17_000))
    }

    @Test
    fun aTrailingModelNeedsNoDelay() {
        val line = DelayLine<Int>(delaySamples = 0)
        line.add(7, heardAt = 100)
        assertEquals(7, line.poll(100))
    }
}
