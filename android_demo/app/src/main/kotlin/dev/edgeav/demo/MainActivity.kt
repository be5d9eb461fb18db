package dev.edgeav.demo

import android.Manifest.permission.CAMERA
import android.Manifest.permission.RECORD_AUDIO
import android.content.Intent
import android.content.pm.PackageManager
import android.net.Uri
import android.os.Bundle
import android.provider.Settings
import android.view.View
import android.widget.AdapterView
import android.widget.ArrayAdapter
import android.widget.Button
import android.widget.Spinner
import android.widget.TextView
import androidx.activity.result.contract.ActivityResultContracts
import androidx.appcompat.app.AppCompatActivity
import androidx.camera.core.CameraSelector
import androidx.camera.core.ImageAnalysis
import androidx.camera.core.Preview
import androidx.camera.core.resolutionselector.AspectRatioStrategy
import androidx.camera.core.resolutionselector.ResolutionSelector
import androidx.camera.lifecycle.ProcessCameraProvider
import androidx.camera.view.PreviewView
import androidx.core.content.ContextCompat
import dev.edgeav.core.PcmRing
import dev.edgeav.core.RuntimeKind
import dev.edgeav.core.StageTimer
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors

/**
 * The demo: camera preview with the model's overlay, a model picker (bundled + storage), a thread setting and
 * per-stage timings. Camera denial shows a panel with a way to grant; microphone denial runs on silence.
 */
class MainActivity : AppCompatActivity() {
    private lateinit var preview: PreviewView
    private lateinit var overlay: OverlayView
    private lateinit var status: TextView
    private lateinit var models: Spinner
    private lateinit var threads: Spinner
    private lateinit var permissionPanel: View

    private lateinit var files: ModelFiles
    private val analysisExecutor: ExecutorService = Executors.newSingleThreadExecutor()
    private val analysis: ImageAnalysis by lazy {
        ImageAnalysis
            .Builder()
            .setResolutionSelector(FOUR_THREE)
            .setBackpressureStrategy(ImageAnalysis.STRATEGY_KEEP_ONLY_LATEST)
            .build()
    }
    private var sources: List<ModelSource> = emptyList()
    private var runner: ModelRunner? = null // touched only on analysisExecutor
    private var analyzer: FrameAnalyzer? = null
    private var mic: MicFeed? = null
    private var cameraStarted = false
    private var modelLine = ""

    private val askPermissions =
        registerForActivityResult(ActivityResultContracts.RequestMultiplePermissions()) { onPermissions() }
    private val importModels =
        registerForActivityResult(ActivityResultContracts.OpenMultipleDocuments()) { uris -> importPicked(uris) }

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        setContentView(R.layout.activity_main)
        preview = findViewById<PreviewView>(R.id.preview).apply { scaleType = PreviewView.ScaleType.FIT_CENTER }
        overlay = findViewById(R.id.overlay)
        status = findViewById(R.id.status)
        models = findViewById(R.id.models)
        threads = findViewById(R.id.threads)
        permissionPanel = findViewById(R.id.permission_panel)
        files = ModelFiles(this)
        threads.adapter =
            ArrayAdapter(this, android.R.layout.simple_spinner_dropdown_item, THREAD_CHOICES.map { if (it == 0) "auto" else "$it" })
        threads.setSelection(THREAD_CHOICES.indexOf(DEFAULT_THREADS))
        findViewById<Button>(R.id.import_model).setOnClickListener { importModels.launch(arrayOf("*/*")) }
        findViewById<Button>(R.id.grant).setOnClickListener { grantCamera() }
        val reload = selectionListener { loadSelected() }
        models.onItemSelectedListener = reload
        threads.onItemSelectedListener = reload
        refreshCatalog()
        askPermissions.launch(arrayOf(CAMERA, RECORD_AUDIO))
    }

    override fun onResume() {
        super.onResume()
        if (granted(CAMERA) && !cameraStarted) onPermissions() // granted in Settings meanwhile
    }

    override fun onDestroy() {
        super.onDestroy()
        mic?.stop()
        analysisExecutor.execute { runner?.close() }
        analysisExecutor.shutdown()
    }

    private fun granted(permission: String) = ContextCompat.checkSelfPermission(this, permission) == PackageManager.PERMISSION_GRANTED

    private fun onPermissions() {
        permissionPanel.visibility = if (granted(CAMERA)) View.GONE else View.VISIBLE
        if (granted(CAMERA)) startCamera()
        loadSelected() // restarts the microphone if it was granted now
    }

    private fun grantCamera() {
        if (shouldShowRequestPermissionRationale(CAMERA)) {
            askPermissions.launch(arrayOf(CAMERA, RECORD_AUDIO))
        } else {
            // "Don't ask again": only Settings can grant it now.
            startActivity(Intent(Settings.ACTION_APPLICATION_DETAILS_SETTINGS, Uri.fromParts("package", packageName, null)))
        }
    }

    private fun startCamera() {
        val future = ProcessCameraProvider.getInstance(this)
        future.addListener({
            val provider = future.get()
            val previewCase =
                Preview.Builder().setResolutionSelector(FOUR_THREE).build().also {
                    it.setSurfaceProvider(preview.surfaceProvider)
                }
            provider.unbindAll()
            provider.bindToLifecycle(this, CameraSelector.DEFAULT_BACK_CAMERA, previewCase, analysis)
            cameraStarted = true
        }, ContextCompat.getMainExecutor(this))
    }

    private fun refreshCatalog() {
        sources = files.catalog()
        val labels =
            sources.map { s ->
                s.entry.manifest
                    ?.title
                    ?.let { if (s is ModelSource.Stored) "$it (storage)" else it }
                    ?: s.entry.manifestName
            }
        models.adapter = ArrayAdapter(this, android.R.layout.simple_spinner_dropdown_item, labels.ifEmpty { listOf("—") })
        if (sources.isEmpty()) status.text = getString(R.string.no_models)
        sources.indexOfFirst { it.entry.usable }.takeIf { it >= 0 }?.let { models.setSelection(it) }
    }

    private fun importPicked(uris: List<Uri>) {
        if (uris.isEmpty()) return
        try {
            val names = files.import(uris)
            refreshCatalog()
            status.text = "imported ${names.joinToString()}"
        } catch (e: IllegalArgumentException) {
            status.text = e.message
        }
    }

    /** (Re)load the picked model with the picked thread count, on the analysis thread. */
    private fun loadSelected() {
        val source = sources.getOrNull(models.selectedItemPosition) ?: return
        val problem = source.entry.problem
        if (problem != null) {
            status.text = problem
            return
        }
        val manifest = source.entry.manifest!!
        val threadCount = THREAD_CHOICES[threads.selectedItemPosition.coerceAtLeast(0)]
        analyzer?.stopped = true
        overlay.clear()
        mic?.stop()
        val audio = manifest.audio
        val ring = audio?.let { PcmRing(it.samples) }
        val micNote =
            when {
                audio == null || ring == null -> "image only"
                granted(RECORD_AUDIO) -> MicFeed(ring, audio.sampleRate).also { mic = it }.start()
                else -> getString(R.string.mic_denied)
            }
        modelLine =
            listOfNotNull(
                manifest.title,
                audio?.let { "audio ${it.window.json}" },
                micNote,
                RuntimeKind.versionWarning(manifest),
            ).joinToString(" · ")
        status.text = "$modelLine · loading…"
        analysisExecutor.execute {
            runner?.close()
            runner = null
            try {
                val opened = ModelRunner.open(manifest, files.pathFor(source), threadCount)
                runner = opened
                val next = FrameAnalyzer(manifest, opened, ring, StageTimer(), ::onResult, ::onFailure)
                analyzer = next
                analysis.setAnalyzer(analysisExecutor, next)
                runOnUiThread { status.text = "$modelLine · ${getString(R.string.warming_up)}" }
            } catch (e: Exception) {
                onFailure("cannot load ${manifest.artifact}: ${e.message}")
            }
        }
    }

    private fun onResult(result: FrameResult) =
        runOnUiThread {
            overlay.show(result.overlay, result.geometry)
            status.text = "$modelLine · ${result.timing ?: getString(R.string.warming_up)}"
        }

    private fun onFailure(message: String) = runOnUiThread { status.text = message }

    private fun selectionListener(action: () -> Unit) =
        object : AdapterView.OnItemSelectedListener {
            override fun onItemSelected(
                parent: AdapterView<*>?,
                view: View?,
                position: Int,
                id: Long,
            ) = action()

            override fun onNothingSelected(parent: AdapterView<*>?) = Unit
        }

    companion object {
        val THREAD_CHOICES = listOf(0, 1, 2, 4)
        const val DEFAULT_THREADS = 4 // big cores on a typical 1+3+4 phone; 0 lets the runtime pick
        val FOUR_THREE: ResolutionSelector =
            ResolutionSelector.Builder().setAspectRatioStrategy(AspectRatioStrategy.RATIO_4_3_FALLBACK_AUTO_STRATEGY).build()
    }
}
