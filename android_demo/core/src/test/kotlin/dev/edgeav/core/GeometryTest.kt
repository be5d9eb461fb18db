package dev.edgeav.core

import org.junit.Assert.assertEquals
import org.junit.Test

class GeometryTest {
    @Test
    fun theCropIsTheLargestCentredOneOfTheModelsAspect() {
        assertEquals(CropBox(80, 0, 480, 480), Geometry(640, 480, 0, 224, 224).crop)
        assertEquals(CropBox(0, 80, 480, 480), Geometry(640, 480, 90, 224, 224).crop)
        assertEquals(CropBox(0, 60, 640, 360), Geometry(640, 480, 0, 160, 90).crop)
    }

    @Test
    fun rotationMapsTheUprightCornerToTheRightSensorPixel() {
        // Upright top-left after a clockwise turn is the sensor's bottom-left (90) / bottom-right (180) / top-right (270).
        val w = 4
        val h = 3
        assertEquals(0, Geometry(w, h, 0, 2, 2).sensorIndex(0, 0))
        assertEquals((h - 1) * w, Geometry(w, h, 90, 2, 2).sensorIndex(0, 0))
        assertEquals(h * w - 1, Geometry(w, h, 180, 2, 2).sensorIndex(0, 0))
        assertEquals(w - 1, Geometry(w, h, 270, 2, 2).sensorIndex(0, 0))
    }

    @Test
    fun theOverlayCoversTheCropInsideAFittedPreview() {
        // 640x480 sensor turned upright (480x640) into a 1080x1920 view: scale 2.25, centred, square crop at y 80 → 180 px.
        val rect = Geometry(640, 480, 90, 64, 64).overlayRect(1080, 1920)
        assertEquals(ViewRect(0f, 420f, 1080f, 1500f), rect)
    }

    @Test(expected = IllegalArgumentException::class)
    fun anOddRotationIsRefused() {
        Geometry(640, 480, 45, 64, 64)
    }
}
