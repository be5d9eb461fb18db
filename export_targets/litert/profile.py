"""LiteRT per-op times by op isolation: the best per-op source the Python wheel allows.

``ai_edge_litert`` binds no profiler (``libLiteRt.so`` has a C profiler API, but it is reachable only
through runtime options the Python wrapper does not expose), and ``benchmark_model`` is not in the wheel.
So each operator of the graph is cut out into a one-op ``.tflite`` (its constant inputs kept as
constants, its other inputs made graph inputs), fed the value that tensor really takes on the given
inputs (read from a run that preserves every intermediate), and timed with the same interpreter,
thread count and default XNNPACK delegate.

What the numbers mean: the cost of each kernel run alone, as LiteRT would run it, on real activations.
They leave out what only the whole graph has: XNNPACK fusing neighbours into one subgraph, layout
conversions between partitions, caches warmed by the previous op. Their sum is reported beside the
whole-graph time so the reader sees the gap.
"""
from __future__ import annotations

import copy
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgeav.errors import ExportError
from edgeav.files import one_line
from export_targets.litert.interpreter import interpreter_class, open_interpreter
from export_targets.runtime import OpProfile, OpRecord

METHOD = ("op isolation: each op cut into a one-op .tflite and timed alone on its real input values "
          "(same interpreter, threads and XNNPACK delegate); excludes cross-op fusion")
# Ops that call other subgraphs cannot be cut out alone.
_CONTROL_FLOW = {"WHILE", "IF", "CALL_ONCE", "CALL", "STABLEHLO_COMPOSITE"}


@dataclass(frozen=True)
class IsolatedOp:
    """One op of the graph cut out alone: its one-op model and the real values of its inputs."""

    index: int
    op_type: str
    name: str  # "<index>:<output tensor name>"
    content: bytes  # the one-op .tflite
    inputs: tuple[np.ndarray, ...]  # in the one-op model's input order


def isolated_ops(path: Path, feed: dict[str, np.ndarray]) -> tuple[list[IsolatedOp], list[str]]:
    """Every op of ``path``'s main subgraph as a one-op model with its inputs on ``feed``, and the op types
    left out (control flow calls other subgraphs and cannot be cut out alone)."""
    from ai_edge_litert.tools import flatbuffer_utils as fb

    model = fb.read_model(str(path))
    if len(model.subgraphs) != 1:
        raise ExportError(f"{Path(path).name} has {len(model.subgraphs)} subgraphs; op isolation handles one")
    values = _all_tensor_values(path, feed)
    ops, skipped = [], []
    for index, op in enumerate(model.subgraphs[0].operators):
        op_type = fb.opcode_to_name(model, op.opcodeIndex) or f"opcode_{op.opcodeIndex}"
        if op_type in _CONTROL_FLOW:
            skipped.append(op_type)
            continue
        out_name = _tensor_name(model.subgraphs[0].tensors[op.outputs[0]]) if op.outputs else f"op{index}"
        ops.append(IsolatedOp(index, op_type, f"{index}:{out_name}",
                              bytes(fb.convert_object_to_bytearray(single_op_model(model, index))),
                              tuple(_op_inputs(model, op, values))))
    return ops, skipped


def isolated_op_profile(
    path: Path, feed: dict[str, np.ndarray], runs: int = 10, warmup: int = 2, threads: int | None = None
) -> OpProfile:
    """Time every op of ``path``'s main subgraph alone; see the module docstring for what that means."""
    ops, skipped = isolated_ops(path, feed)
    records = []
    for op in ops:
        ms, delegated = _time_model(op.content, list(op.inputs), runs, warmup, threads)
        records.append(OpRecord(name=op.name, op_type=op.op_type, backend="XNNPACK" if delegated else "TFLite builtin",
                                delegated=delegated, ms=ms, calls=1))
    total = _whole_graph_ms(path, feed, runs, warmup, threads)
    notes = [f"sum of isolated ops vs whole graph: {sum(r.ms for r in records):.2f} ms vs {total:.2f} ms"]
    if skipped:
        notes.append(f"not timed (call other subgraphs): {', '.join(sorted(set(skipped)))}")
    return OpProfile(runtime="LiteRT", method=METHOD, records=tuple(records), runs=runs, total_ms=total,
                     notes=tuple(notes))


def single_op_model(model: Any, index: int) -> Any:
    """A ModelT holding only operator ``index`` of subgraph 0: constants kept, other inputs as graph inputs."""
    from ai_edge_litert import schema_py_generated as schema

    sub = model.subgraphs[0]
    op = copy.copy(sub.operators[index])
    used = [t for t in [*op.inputs, *op.outputs, *(op.intermediates or [])] if t >= 0]
    remap = {old: new for new, old in enumerate(dict.fromkeys(used))}
    buffers = [schema.BufferT()]
    tensors = []
    for old in remap:
        tensor = copy.copy(sub.tensors[old])
        if _is_constant(model, tensor):
            buffers.append(model.buffers[tensor.buffer])
            tensor.buffer = len(buffers) - 1
        else:
            tensor.buffer = 0
        tensors.append(tensor)
    op.inputs = [remap[t] if t >= 0 else -1 for t in op.inputs]
    op.outputs = [remap[t] for t in op.outputs]
    op.intermediates = [remap[t] for t in op.intermediates] if op.intermediates else op.intermediates
    op.opcodeIndex = 0
    new_sub = schema.SubGraphT()
    new_sub.tensors = tensors
    new_sub.operators = [op]
    new_sub.inputs = [i for i in dict.fromkeys(op.inputs) if i >= 0 and tensors[i].buffer == 0]
    new_sub.outputs = list(op.outputs)
    new_sub.name = "isolated"
    out = schema.ModelT()
    out.version = model.version
    out.description = "edgeav isolated op"
    out.operatorCodes = [model.operatorCodes[sub.operators[index].opcodeIndex]]
    out.subgraphs = [new_sub]
    out.buffers = buffers
    return out


def _is_constant(model: Any, tensor: Any) -> bool:
    buffer = model.buffers[tensor.buffer] if tensor.buffer < len(model.buffers) else None
    return buffer is not None and buffer.data is not None and len(buffer.data) > 0


def _tensor_name(tensor: Any) -> str:
    name = tensor.name
    return name.decode() if isinstance(name, bytes) else str(name)


def _op_inputs(model: Any, op: Any, values: dict[int, np.ndarray]) -> list[np.ndarray]:
    """The real values of ``op``'s non-constant inputs, in the isolated model's input order."""
    tensors = model.subgraphs[0].tensors
    return [values[t] for t in dict.fromkeys(op.inputs) if t >= 0 and not _is_constant(model, tensors[t])]


def _all_tensor_values(path: Path, feed: dict[str, np.ndarray]) -> dict[int, np.ndarray]:
    """Every tensor's value on ``feed`` (builtin kernels, all intermediates preserved)."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interpreter = Interpreter(
        model_path=str(path),
        experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
        experimental_preserve_all_tensors=True,
    )
    interpreter.allocate_tensors()
    interpreter.get_signature_runner()(**feed)
    values = {}
    for detail in interpreter.get_tensor_details():
        try:
            values[detail["index"]] = np.array(interpreter.get_tensor(detail["index"]))
        except ValueError:  # tensors without data (e.g. optional placeholders)
            continue
    return values


def _time_model(content: bytes, inputs: list[np.ndarray], runs: int, warmup: int,
                threads: int | None) -> tuple[float, bool]:
    """Median ms of ``invoke`` on a one-op model, and whether XNNPACK took the op."""
    cls, _ = interpreter_class()
    try:
        interpreter = cls(model_content=content, num_threads=threads)
        interpreter.allocate_tensors()
        for detail, value in zip(interpreter.get_input_details(), inputs):
            interpreter.set_tensor(detail["index"], value.astype(detail["dtype"], copy=False).reshape(detail["shape"]))
        delegated = any(d["op_name"] == "DELEGATE" for d in interpreter._get_ops_details())
        times = []
        for i in range(warmup + runs):
            start = time.perf_counter_ns()
            interpreter.invoke()
            if i >= warmup:
                times.append((time.perf_counter_ns() - start) / 1e6)
    except (RuntimeError, ValueError) as exc:
        raise ExportError(f"LiteRT could not run an isolated op ({one_line(exc)})") from exc
    return float(statistics.median(times)), delegated


def _whole_graph_ms(path: Path, feed: dict[str, np.ndarray], runs: int, warmup: int, threads: int | None) -> float:
    runner = open_interpreter(path, threads).get_signature_runner()
    times = []
    for i in range(warmup + runs):
        start = time.perf_counter_ns()
        runner(**feed)
        if i >= warmup:
            times.append((time.perf_counter_ns() - start) / 1e6)
    return float(statistics.median(times))
