"""ARM parity: a device's outputs against the host's outputs of the same artifact and against PyTorch eager.

Same realistic sample (the target's registry input, seed 0), same metrics as export parity (max abs, SQNR).
The pass criterion is against the host, where only the kernels differ (NEON vs AVX): an fp32 artifact must
agree to 1e-5 max abs, an int8 artifact to one quantization step of its output (requantization may round
the other way on the other ISA). Against eager the numbers are reported; for fp32 the export's SQNR floor
applies, an int8 artifact is not expected to match fp32 eager closely (its accuracy gate says how close).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.targets import BenchTarget, eager_twin
from edgeav.errors import DeviceError
from export_targets.parity import MIN_SQNR_DB, sqnr_db

FP32_MAX_ABS = 1e-5


@dataclass(frozen=True)
class DeviceParity:
    against: str  # "host" or "eager"
    max_abs: float
    sqnr_db: float
    limit: str  # what passing means, e.g. "max abs <= 1e-05"
    passed: bool | None  # None: reported only

    def summary(self) -> str:
        sqnr = "inf" if math.isinf(self.sqnr_db) else f"{self.sqnr_db:.1f}"
        verdict = "" if self.passed is None else (" ✓" if self.passed else " ✗")
        return f"{self.max_abs:.1e} / {sqnr} dB{verdict}"

    def to_dict(self) -> dict[str, Any]:
        return {"against": self.against, "max_abs": self.max_abs,
                "sqnr_db": "inf" if math.isinf(self.sqnr_db) else self.sqnr_db,
                "limit": self.limit, "passed": self.passed}


def compare(reference: Sequence[np.ndarray], actual: Sequence[np.ndarray], label: str) -> tuple[float, float]:
    """(max abs, SQNR dB) over every output element; DeviceError when shapes or counts differ."""
    if len(reference) != len(actual):
        raise DeviceError(f"{label}: the device returned {len(actual)} outputs, the host {len(reference)}; "
                          "the guest program read the wrong outputs: rerun `edgeav device setup arm`")
    refs, acts = [], []
    for i, (r, a) in enumerate(zip(reference, actual)):
        if np.asarray(r).size != np.asarray(a).size:
            raise DeviceError(f"{label}: output {i} has {np.asarray(a).size} values on the device, "
                              f"{np.asarray(r).size} on the host; the output layout differs")
        refs.append(np.asarray(r, dtype=np.float64).reshape(-1))
        acts.append(np.asarray(a, dtype=np.float64).reshape(-1))
    ref, act = np.concatenate(refs), np.concatenate(acts)
    return float(np.max(np.abs(ref - act))) if ref.size else 0.0, sqnr_db(ref, act)


def device_parity(target: BenchTarget, outputs: Sequence[np.ndarray]) -> tuple[DeviceParity, ...]:
    """The device's ``outputs`` on ``target.inputs()`` against the host runtime's and eager's."""
    inputs = target.inputs()
    host = target.open(1).run(inputs)
    max_abs, sqnr = compare(host, outputs, target.label)
    if target.precision == "int8":
        step = output_step(target, host)
        limit = f"max abs <= 1 quantization step ({step:.3g})" if step else "no output step found: reported only"
        vs_host = DeviceParity("host", max_abs, sqnr, limit, max_abs <= step * (1 + 1e-6) if step else None)
    else:
        vs_host = DeviceParity("host", max_abs, sqnr, f"max abs <= {FP32_MAX_ABS:g}", max_abs <= FP32_MAX_ABS)
    eager = eager_twin(target).open(1).run(inputs)
    e_abs, e_sqnr = compare(eager, outputs, target.label)
    if target.precision == "int8":
        vs_eager = DeviceParity("eager", e_abs, e_sqnr, "int8 vs fp32 eager: reported only", None)
    else:
        floor = MIN_SQNR_DB["fp32"]
        vs_eager = DeviceParity("eager", e_abs, e_sqnr, f"SQNR >= {floor:g} dB (export floor)", e_sqnr >= floor)
    return vs_host, vs_eager


def output_step(target: BenchTarget, host_outputs: Sequence[np.ndarray]) -> float | None:
    """The quantization step of an int8 artifact's output: the artifact's own scale where it can be read
    (a .tflite's output or the DEQUANTIZE feeding it; a .pte's last int8 tensor before a non-expanding
    float tail, bench/devices/pte_quant.py), else the grid the host's output values sit on."""
    readers = {"litert": tflite_output_scale, "executorch": pte_output_step}
    if target.path is not None and target.format in readers:
        step = readers[target.format](Path(target.path))
        if step:
            return step
    return grid_step(np.concatenate([np.asarray(o, dtype=np.float64).reshape(-1) for o in host_outputs]))


def grid_step(values: np.ndarray) -> float | None:
    """The spacing of the grid ``values`` lie on (a dequantized int8 tensor), or None if they lie on none."""
    levels = np.unique(values)
    if levels.size < 3 or levels.size > 256:
        return None
    gaps = np.diff(levels)
    step = float(gaps.min())
    multiples = gaps / step
    return step if np.allclose(multiples, np.round(multiples), atol=1e-3) else None


def pte_output_step(path: Path) -> float | None:
    from bench.devices.pte_quant import output_step as step_of

    return step_of(path)


def tflite_output_scale(path: Path) -> float | None:
    """Scale of the first graph output, or of the input of the DEQUANTIZE op that produces it."""
    from ai_edge_litert.tools import flatbuffer_utils as fb

    model = fb.read_model(str(path))
    sub = model.subgraphs[0]
    out = sub.outputs[0]
    producer = next((op for op in sub.operators if out in list(op.outputs)), None)
    for index in (out, *(() if producer is None else
                         (producer.inputs[0],) if fb.opcode_to_name(model, producer.opcodeIndex) == "DEQUANTIZE"
                         else ())):
        q = sub.tensors[index].quantization
        if q is not None and q.scale is not None and len(q.scale) == 1 and q.scale[0] > 0:
            return float(q.scale[0])
    return None
