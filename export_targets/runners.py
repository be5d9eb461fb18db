"""One runner per runtime, shared by export verification (``load()``) and the benchmark harness.

Every runner loads an artifact, takes the inputs in IOSpec order, runs with a chosen thread count, and
can report per-operator times in one shape (:class:`OpRecord`), each runtime through its own profiler:

| runtime | per-op source | what one record is |
|---|---|---|
| ExecuTorch | ETDump + ``executorch.devtools.Inspector`` | an XNNPACK-internal op or a portable kernel call |
| ONNX Runtime | the session profiler (Chrome trace) | one graph node's kernel |
| PyTorch eager | ``torch.profiler`` | one ATen op kind (self time, nested ops not counted twice) |
| LiteRT | :mod:`export_targets.litert_ops` | one graph op timed alone in a one-op model (see there) |

Timing (``invoke``) excludes input conversion: ``prepare`` turns inputs into the runtime's own objects
once, so the harness times only the inference.
"""
from __future__ import annotations

import dataclasses
import json
import statistics
import tempfile
import time
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from edgeav.errors import ExportError, MissingDependencyError
from edgeav.specs import IOSpec
from export_targets._quiet import captured_output
from edgeav.files import one_line
from export_targets.base import to_numpy, to_tensor


@dataclass(frozen=True)
class OpRecord:
    """One operator as a runtime reports it, per inference (median over the profiled runs)."""

    name: str  # the runtime's name for this op instance (node name, XNNPACK label, ATen op)
    op_type: str  # its kind: Conv, CONV_2D, aten::convolution, "Convolution (NHWC, F32) IGEMM", ...
    backend: str  # what executed it: XNNPACK, portable, CPUExecutionProvider, TFLite builtin, ATen
    delegated: bool  # inside an accelerator delegate (XNNPACK) rather than the runtime's own kernels
    ms: float  # time per inference, summed over its calls in one inference
    calls: int = 1  # calls per inference

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class OpProfile:
    """Per-op records of one runtime on one artifact, and what the numbers mean."""

    runtime: str
    method: str  # how the times were obtained, for the report (e.g. "ETDump via Inspector")
    records: tuple[OpRecord, ...]
    runs: int  # inferences profiled
    total_ms: float | None = None  # whole-inference median in the same session (None: not measured)
    notes: tuple[str, ...] = ()

    @property
    def op_ms(self) -> float:
        return float(sum(r.ms for r in self.records))

    def top(self, n: int) -> list[OpRecord]:
        return sorted(self.records, key=lambda r: -r.ms)[:n]

    def by_type(self) -> dict[str, float]:
        """Milliseconds per op type, largest first."""
        out: dict[str, float] = defaultdict(float)
        for r in self.records:
            out[r.op_type] += r.ms
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))

    def to_dict(self) -> dict[str, Any]:
        return {
            "runtime": self.runtime,
            "method": self.method,
            "runs": self.runs,
            "total_ms": self.total_ms,
            "op_ms": self.op_ms,
            "notes": list(self.notes),
            "records": [r.to_dict() for r in self.records],
        }


class ArtifactRunner(ABC):
    """A loaded artifact (or the eager model) ready to run with a fixed thread count.

    ``threads`` None leaves the runtime's default. Subclasses set ``runtime`` and implement
    ``prepare``/``invoke``/``outputs``; ``profile`` is optional (``per_op_method`` says how).
    """

    runtime: ClassVar[str]
    per_op_method: ClassVar[str] = ""

    def __init__(self, path: Path | None, io_spec: IOSpec | None = None, threads: int | None = None) -> None:
        if threads is not None and threads < 1:
            raise ExportError(f"thread count must be at least 1 (got {threads})")
        self.path = Path(path) if path is not None else None
        self.io_spec = io_spec
        self.threads = threads

    @property
    def label(self) -> str:
        return self.path.name if self.path else self.runtime

    @abstractmethod
    def prepare(self, inputs: Sequence[torch.Tensor | np.ndarray]) -> Any:
        """The inputs as this runtime takes them (done once, outside the timed region)."""

    @abstractmethod
    def invoke(self, feed: Any) -> Any:
        """One inference on a prepared feed; returns the runtime's raw outputs."""

    @abstractmethod
    def outputs(self, raw: Any) -> list[np.ndarray]:
        """Raw outputs as numpy arrays, in IOSpec order."""

    def run(self, inputs: Sequence[torch.Tensor | np.ndarray]) -> list[np.ndarray]:
        """Inputs in IOSpec order → outputs in IOSpec order (what parity checks call)."""
        return self.outputs(self.invoke(self.prepare(inputs)))

    def profile(self, inputs: Sequence[torch.Tensor | np.ndarray], runs: int = 10, warmup: int = 2) -> OpProfile:
        """Per-op records over ``runs`` inferences; ExportError when the runtime has no per-op source."""
        raise ExportError(f"{self.runtime} has no per-operator profiler in edgeav; run without --per-op")


# ----------------------------------------------------------------------------------------- ExecuTorch
# ETDump events that are the runtime's own bookkeeping, not operators.
_ET_FRAMEWORK_EVENTS = {"Method::init", "Program::load_method", "Method::execute", "OPERATOR_CALL", "DELEGATE_CALL"}


class ExecuTorchRunner(ArtifactRunner):
    """A ``.pte`` through ``executorch.runtime`` (XNNPACK kernels are registered in the wheel).

    The XNNPACK threadpool is process-wide: setting ``threads`` resets it for every program in the process.
    """

    runtime = "ExecuTorch"
    per_op_method = "ETDump via executorch.devtools.Inspector (XNNPACK-internal ops + portable kernels)"

    def __init__(self, path: Path, io_spec: IOSpec | None = None, threads: int | None = None) -> None:
        super().__init__(path, io_spec, threads)
        if threads is not None:
            from executorch.extension.pybindings import portable_lib

            portable_lib._unsafe_reset_threadpool(threads)
        self._method = load_program(self.path).load_method("forward")

    def prepare(self, inputs: Sequence[torch.Tensor | np.ndarray]) -> list[torch.Tensor]:
        return [to_tensor(x) for x in inputs]

    def invoke(self, feed: list[torch.Tensor]) -> Any:
        return self._execute(self._method, feed)

    def outputs(self, raw: Any) -> list[np.ndarray]:
        return [to_numpy(o) for o in raw]

    def _execute(self, method: Any, feed: list[torch.Tensor]) -> Any:
        try:
            return method.execute(feed)
        except RuntimeError as exc:
            raise ExportError(f"ExecuTorch could not run {self.label} ({one_line(exc)})") from exc

    def profile(self, inputs: Sequence[torch.Tensor | np.ndarray], runs: int = 10, warmup: int = 2) -> OpProfile:
        program = load_program(self.path, enable_etdump=True)
        method = program.load_method("forward")
        feed = self.prepare(inputs)
        for _ in range(warmup + runs):
            self._execute(method, feed)
        with tempfile.TemporaryDirectory(prefix="edgeav-etdump-") as tmp:
            etdump = Path(tmp) / "run.etdump"
            program.write_etdump_result_to_file(str(etdump), str(Path(tmp) / "debug.bin"))
            return etdump_profile(etdump, skip=warmup)


def etdump_profile(etdump: Path, skip: int = 0, runtime: str = "ExecuTorch") -> OpProfile:
    """Per-op records from an ETDump file (from the pybindings or the C++ runner), dropping ``skip`` warm-ups."""
    from executorch.devtools import Inspector

    with captured_output():  # the Inspector prints tables and warnings
        inspector = Inspector(etdump_path=str(etdump))
    return records_from_events(
        [(e.name, list(e.perf_data.raw) if e.perf_data else [], e.op_types)
         for block in inspector.event_blocks if block.name == "Execute" for e in block.events],
        skip=skip, runtime=runtime,
    )


def records_from_events(
    events: Sequence[tuple[str, list[float], Sequence[str]]], skip: int = 0, runtime: str = "ExecuTorch"
) -> OpProfile:
    """ETDump events (name, ms per execution, op types), in log order, as an OpProfile.

    XNNPACK logs its internal ops after the fact, just before the ``DELEGATE_CALL`` that ran them, and
    numbers them per delegate ("Transpose (ND, X32) #1" exists in every delegate): the delegate index
    makes names unique. ``native_call_<op>.out`` events are portable (or optimized) kernel calls.
    """
    delegate = 0
    per_name: dict[str, list[float]] = {}
    kinds: dict[str, tuple[str, str, bool]] = {}
    counts: dict[str, int] = defaultdict(int)
    total: list[float] = []
    for name, raw, op_types in events:
        times = list(raw)[skip:]
        if name == "DELEGATE_CALL":
            delegate += 1
            continue
        if name == "Method::execute":
            total = times
            continue
        if name in _ET_FRAMEWORK_EVENTS or not times:
            continue
        if name.startswith("native_call_"):
            op = name.removeprefix("native_call_").removesuffix(".out")
            key, kind = name, (op_types[0] if op_types else f"aten.{op}", "portable", False)
        else:
            key = f"{name} @d{delegate}"
            kind = (name.split(" #")[0], "XNNPACK", True)
        counts[key] += 1
        if key in per_name:  # a portable op called again in the same execution: sum per execution
            per_name[key] = [a + b for a, b in zip(per_name[key], times)]
        else:
            per_name[key] = times
            kinds[key] = kind
    records = tuple(
        OpRecord(name=k, op_type=kinds[k][0], backend=kinds[k][1], delegated=kinds[k][2],
                 ms=float(statistics.median(v)), calls=counts[k])
        for k, v in per_name.items()
    )
    runs = len(total) if total else max((len(v) for v in per_name.values()), default=0)
    return OpProfile(
        runtime=runtime,
        method=ExecuTorchRunner.per_op_method,
        records=records,
        runs=runs,
        total_ms=float(statistics.median(total)) if total else None,
        notes=("XNNPACK op times are logged by the delegate itself; the gap to the total is dispatch, "
               "layout transposes between delegates and the runtime's own work",),
    )


def load_program(path: Path, enable_etdump: bool = False) -> Any:
    """An ``executorch.runtime`` Program, or a one-line ExportError naming the fix."""
    from executorch.runtime import Runtime

    try:
        return Runtime.get().load_program(Path(path), enable_etdump=enable_etdump, debug_buffer_size=0)
    except (RuntimeError, ValueError) as exc:
        raise ExportError(f"ExecuTorch cannot load {Path(path).name} ({one_line(exc)}); re-export it") from exc


# --------------------------------------------------------------------------------------- ONNX Runtime
class ONNXRunner(ArtifactRunner):
    """ONNX Runtime on the CPU execution provider, sequential, ``threads`` intra-op threads."""

    runtime = "ONNX Runtime"
    per_op_method = "ONNX Runtime session profiler (per graph node kernel time)"

    def __init__(self, path: Path, io_spec: IOSpec | None = None, threads: int | None = None) -> None:
        super().__init__(path, io_spec, threads)
        self._session = self._session_with()
        graph_inputs = [i.name for i in self._session.get_inputs()]
        named = [t.name for t in io_spec.inputs] if io_spec else []
        self._inputs = named if set(named) == set(graph_inputs) else graph_inputs  # bind by name when possible

    def _session_with(self, profile_prefix: str | None = None) -> Any:
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise MissingDependencyError("no ONNX Runtime; install it with: pip install 'edgeav[onnx]'") from exc
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads or 0
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        if profile_prefix:
            options.enable_profiling = True
            options.profile_file_prefix = profile_prefix
        return ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])

    def prepare(self, inputs: Sequence[torch.Tensor | np.ndarray]) -> dict[str, np.ndarray]:
        return {name: to_numpy(x) for name, x in zip(self._inputs, inputs)}

    def invoke(self, feed: dict[str, np.ndarray]) -> Any:
        return self._session.run(None, feed)

    def outputs(self, raw: Any) -> list[np.ndarray]:
        return list(raw)

    def profile(self, inputs: Sequence[torch.Tensor | np.ndarray], runs: int = 10, warmup: int = 2) -> OpProfile:
        with tempfile.TemporaryDirectory(prefix="edgeav-ort-") as tmp:
            session = self._session_with(str(Path(tmp) / "ort"))
            feed = self.prepare(inputs)
            for _ in range(warmup + runs):
                session.run(None, feed)
            trace = json.loads(Path(session.end_profiling()).read_text())
        return ort_profile(trace, skip=warmup)


def ort_profile(trace: list[dict[str, Any]], skip: int = 0) -> OpProfile:
    """Per-node records from an ONNX Runtime profile (Chrome-trace events), dropping ``skip`` warm-up runs."""
    runs = [e for e in trace if e.get("cat") == "Session" and e.get("name") == "model_run"]
    starts = sorted(int(e["ts"]) for e in runs)
    kept_from = starts[skip] if len(starts) > skip else 0
    times: dict[str, list[float]] = defaultdict(list)
    meta: dict[str, tuple[str, str]] = {}
    for e in trace:
        name = str(e.get("name", ""))
        if e.get("cat") != "Node" or not name.endswith("_kernel_time") or int(e.get("ts", 0)) < kept_from:
            continue
        node = name.removesuffix("_kernel_time")
        times[node].append(float(e["dur"]) / 1000.0)
        args = e.get("args", {})
        meta[node] = (str(args.get("op_name", "?")), str(args.get("provider", "CPUExecutionProvider")))
    n_runs = max(len(starts) - skip, 1)
    records = tuple(
        OpRecord(name=node, op_type=meta[node][0], backend=meta[node][1], delegated=False,
                 # one call per run: the median resists a descheduled run; several: their mean per run
                 ms=statistics.median(v) if len(v) == n_runs else sum(v) / n_runs, calls=max(len(v) // n_runs, 1))
        for node, v in times.items()
    )
    kept = sorted((e for e in runs if int(e["ts"]) >= kept_from), key=lambda e: int(e["ts"]))
    total = statistics.median(float(e["dur"]) / 1000.0 for e in kept) if kept else None
    return OpProfile(runtime="ONNX Runtime", method=ONNXRunner.per_op_method, records=records,
                     runs=n_runs, total_ms=total,
                     notes=("node times are medians over the profiled runs; fused nodes (e.g. Conv+Clip) count once",))


# -------------------------------------------------------------------------------------------- LiteRT
class LiteRTRunner(ArtifactRunner):
    """A ``.tflite`` through its default signature (the interpreter applies XNNPACK by default)."""

    runtime = "LiteRT"
    per_op_method = "op isolation: each graph op timed alone in a one-op .tflite (export_targets.litert_ops)"

    def __init__(self, path: Path, io_spec: IOSpec | None = None, threads: int | None = None) -> None:
        super().__init__(path, io_spec, threads)
        from export_targets.litert import (  # litert imports this module
            _interpreter,
            signature_order,
        )

        self._interpreter = _interpreter(self.path, threads)
        self._runner = self._interpreter.get_signature_runner()
        names_in = [t.name for t in io_spec.inputs] if io_spec else None
        names_out = [t.name for t in io_spec.outputs] if io_spec else None
        self._inputs = signature_order(self._runner.get_input_details(), names_in)
        self._outputs = signature_order(self._runner.get_output_details(), names_out)

    def prepare(self, inputs: Sequence[torch.Tensor | np.ndarray]) -> dict[str, np.ndarray]:
        return {name: to_numpy(x) for name, x in zip(self._inputs, inputs)}

    def invoke(self, feed: dict[str, np.ndarray]) -> Any:
        try:
            return self._runner(**feed)
        except (RuntimeError, ValueError) as exc:
            raise ExportError(f"LiteRT could not run {self.label} ({one_line(exc)})") from exc

    def outputs(self, raw: Any) -> list[np.ndarray]:
        return [np.asarray(raw[name]) for name in self._outputs]

    def profile(self, inputs: Sequence[torch.Tensor | np.ndarray], runs: int = 10, warmup: int = 2) -> OpProfile:
        from export_targets.litert_ops import isolated_op_profile

        return isolated_op_profile(self.path, self.prepare(inputs), runs=runs, warmup=warmup, threads=self.threads)


# ------------------------------------------------------------------------------------- PyTorch eager
class EagerRunner(ArtifactRunner):
    """The PyTorch module itself (the reference), under ``inference_mode`` with ``threads`` intra-op threads.

    ``torch.set_num_threads`` is process-wide: it is set when the runner is made.
    """

    runtime = "PyTorch eager"
    per_op_method = "torch.profiler (self CPU time per ATen op kind)"

    def __init__(self, model: nn.Module, io_spec: IOSpec | None = None, threads: int | None = None,
                 name: str = "eager") -> None:
        super().__init__(None, io_spec, threads)
        if threads is not None:
            torch.set_num_threads(threads)
        self.model = model.eval()
        self.name = name

    @property
    def label(self) -> str:
        return self.name

    def prepare(self, inputs: Sequence[torch.Tensor | np.ndarray]) -> tuple[torch.Tensor, ...]:
        return tuple(to_tensor(x) for x in inputs)

    def invoke(self, feed: tuple[torch.Tensor, ...]) -> Any:
        with torch.inference_mode():
            return self.model(*feed)

    def outputs(self, raw: Any) -> list[np.ndarray]:
        outs = [raw] if isinstance(raw, torch.Tensor) else list(raw)
        return [to_numpy(o) for o in outs]

    def profile(self, inputs: Sequence[torch.Tensor | np.ndarray], runs: int = 10, warmup: int = 2) -> OpProfile:
        from torch.profiler import ProfilerActivity, profile

        feed = self.prepare(inputs)
        for _ in range(warmup):
            self.invoke(feed)
        walls = []
        with captured_output(), profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(runs):
                start = time.perf_counter_ns()
                self.invoke(feed)
                walls.append((time.perf_counter_ns() - start) / 1e6)
        events = [(e.key, e.self_cpu_time_total / 1000.0, e.count) for e in prof.key_averages()]
        return dataclasses.replace(eager_profile(events, runs), total_ms=float(statistics.median(walls)))


def eager_profile(events: Sequence[tuple[str, float, int]], runs: int) -> OpProfile:
    """Records from torch.profiler key averages (op name, self ms summed over runs, count over runs)."""
    records = tuple(
        OpRecord(name=key, op_type=key, backend="ATen", delegated=False, ms=self_ms / runs,
                 calls=max(count // runs, 1))
        for key, self_ms, count in events
        if key.startswith("aten::") and self_ms > 0
    )
    return OpProfile(runtime="PyTorch eager", method=EagerRunner.per_op_method, records=records, runs=runs,
                     notes=("self time: an op's own kernel time, excluding the ATen ops it calls; the total is "
                            "wall time under the profiler, which adds overhead per op",))


# ----------------------------------------------------------------------------------------- registry
RUNNERS: dict[str, type[ArtifactRunner]] = {
    "executorch": ExecuTorchRunner,
    "onnx": ONNXRunner,
    "litert": LiteRTRunner,
}


def open_runner(path: Path | str, io_spec: IOSpec | None = None, threads: int | None = None) -> ArtifactRunner:
    """The runner for a saved artifact of any runnable format, with ``threads`` threads."""
    from export_targets.formats import format_of

    info = format_of(path)
    if info.name not in RUNNERS:
        skip = info.run_skip_reason()
        raise ExportError(f"{info.title} artifacts cannot be benchmarked here ({skip or 'no runner'})")
    return RUNNERS[info.name](Path(path), io_spec, threads)


__all__ = [
    "RUNNERS",
    "ArtifactRunner",
    "EagerRunner",
    "ExecuTorchRunner",
    "LiteRTRunner",
    "ONNXRunner",
    "OpProfile",
    "OpRecord",
    "eager_profile",
    "etdump_profile",
    "load_program",
    "open_runner",
    "ort_profile",
    "records_from_events",
]
