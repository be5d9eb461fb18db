package dev.edgeav.demo

import com.google.ai.edge.litert.Accelerator
import com.google.ai.edge.litert.CompiledModel
import com.google.ai.edge.litert.TensorBuffer
import dev.edgeav.core.Manifest
import dev.edgeav.core.RuntimeKind
import org.pytorch.executorch.EValue
import org.pytorch.executorch.Module
import org.pytorch.executorch.Tensor

/** One loaded artifact: the input tensors in, every output out. */
interface ModelRunner : AutoCloseable {
    /** [inputs] and the result in the manifest's `io.inputs` / `io.outputs` order (the artifact's, checked by the exporter). */
    fun run(inputs: List<FloatArray>): List<FloatArray>

    companion object {
        /** The runtime the manifest's target names; [threads] 0 = the runtime's default. */
        fun open(
            manifest: Manifest,
            path: String,
            threads: Int,
        ): ModelRunner =
            when (RuntimeKind.of(manifest)) {
                RuntimeKind.EXECUTORCH -> ExecuTorchRunner(manifest, path, threads)
                RuntimeKind.LITERT -> LiteRtRunner(manifest, path, threads)
            }
    }
}

/** ExecuTorch (XNNPACK delegate inside the .pte); the model is memory-mapped from a file. */
class ExecuTorchRunner(
    private val manifest: Manifest,
    path: String,
    threads: Int,
) : ModelRunner {
    private val module = Module.load(path, Module.LOAD_MODE_MMAP, threads)
    private val shapes = manifest.inputs.map { spec -> spec.shape.map { it.toLong() }.toLongArray() }

    override fun run(inputs: List<FloatArray>): List<FloatArray> {
        val values = inputs.mapIndexed { i, data -> EValue.from(Tensor.fromBlob(data, shapes[i])) }
        val outputs = module.forward(*values.toTypedArray())
        check(outputs.size == manifest.outputs.size) {
            "${manifest.artifact} returned ${outputs.size} outputs, its manifest lists ${manifest.outputs.size}: re-export it"
        }
        return outputs.map { it.toTensor().dataAsFloatArray }
    }

    override fun close() = module.destroy()
}

/** LiteRT CompiledModel on the CPU (XNNPACK), with the thread count set. */
class LiteRtRunner(
    private val manifest: Manifest,
    path: String,
    threads: Int,
) : ModelRunner {
    private val model: CompiledModel =
        CompiledModel.create(
            path,
            CompiledModel.Options(Accelerator.CPU).apply {
                if (threads > 0) cpuOptions = CompiledModel.CpuOptions(numThreads = threads)
            },
        )
    private val inputBuffers: List<TensorBuffer> = model.createInputBuffers()
    private val outputBuffers: List<TensorBuffer> = model.createOutputBuffers()

    init {
        check(inputBuffers.size == manifest.inputs.size) {
            "${manifest.artifact} takes ${inputBuffers.size} inputs, its manifest lists ${manifest.inputs.size}: re-export it"
        }
    }

    override fun run(inputs: List<FloatArray>): List<FloatArray> {
        inputs.forEachIndexed { i, data -> inputBuffers[i].writeFloat(data) }
        model.run(inputBuffers, outputBuffers)
        return outputBuffers.map { it.readFloat() }
    }

    override fun close() {
        (inputBuffers + outputBuffers).forEach { it.close() }
        model.close()
    }
}
