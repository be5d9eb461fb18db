package dev.edgeav.demo

import android.content.Context
import android.graphics.Bitmap
import android.graphics.Canvas
import android.graphics.Paint
import android.graphics.RectF
import android.util.AttributeSet
import android.view.View
import dev.edgeav.core.Geometry

/** Draws the latest overlay bitmap over the model's crop of the (fit-centred) preview. */
class OverlayView(
    context: Context,
    attrs: AttributeSet?,
) : View(context, attrs) {
    private val paint = Paint(Paint.FILTER_BITMAP_FLAG)
    private var bitmap: Bitmap? = null
    private var geometry: Geometry? = null

    /** Called on the UI thread with a bitmap the analyzer will not touch again. */
    fun show(
        overlay: Bitmap,
        frameGeometry: Geometry,
    ) {
        bitmap = overlay
        geometry = frameGeometry
        invalidate()
    }

    fun clear() {
        bitmap = null
        invalidate()
    }

    override fun onDraw(canvas: Canvas) {
        super.onDraw(canvas)
        val b = bitmap ?: return
        val g = geometry ?: return
        val r = g.overlayRect(width, height)
        canvas.drawBitmap(b, null, RectF(r.left, r.top, r.right, r.bottom), paint)
    }
}
