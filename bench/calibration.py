"""Host-calibrated estimates: the roofline floor divided by kernel efficiencies measured on this host.

The roofline floor (bench.estimate) assumes perfect kernels. Real kernels reach a fraction of peak, and
that fraction differs by op class (a 1×1 GEMM gets closer to peak than a depthwise conv). A calibration
measures it once on this host for one artifact:

    efficiency[class] = host floor[class] / host time[class]
    host time[class]  = runtime per-op time of the class × (median latency / per-op sum of classified ops)
    estimate[device]  = Σ_class device floor[class] / efficiency[class]

Per-op records (ETDump, ONNX Runtime, eager) give the split by class; the scale makes the classes add up
to the measured median, so dispatch overhead is spread over the classes in proportion to their time, and
applying the calibration to the host profile returns the measured median exactly. Classes the runtime
fused away (an activation inside a conv) get no time of their own: their work is already counted in the
class that absorbed them. A class the calibration never saw, or a run without usable per-op records
(more than ``MAX_UNCLASSIFIED`` of the op time in ops whose class the runtime's name does not reveal, such
as ONNX ``Conv``), falls back to one whole-model efficiency.

What it assumes: the device's kernels reach the same fraction of *its* roofline as this host's kernels
reach of the host's (same runtime, same precision, same thread count as the calibration). Always
labelled ``estimate (host-calibrated)``; the floor is reported beside it.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench.cost import OP_CLASSES, OpCost, aten_class
from bench.estimate import class_floor_ms
from bench.profiles import DeviceProfile
from edgeav.errors import UsageError
from edgeav.files import write_json_atomically
from export_targets.runtime import OpRecord

CAL_LABEL = "estimate (host-calibrated)"
SCHEMA = "edgeav.calibration/1"
# Above this share of per-op time in ops of unknown class, the split by class is not trusted.
MAX_UNCLASSIFIED = 0.10

# XNNPACK op names (ETDump) → class; first matching substring wins. XNNPACK runs 1×1 convolutions as
# GEMM or Fully Connected, spatial ones as IGEMM, depthwise ones as DWConv (or VMulCAddC for 1×1).
_XNNPACK = (
    ("DWConv", "depthwise"), ("VMulCAddC", "depthwise"), ("IGEMM", "conv"), ("Deconvolution", "conv"),
    ("Convolution", "gemm"), ("Fully Connected", "gemm"), ("Batch Matrix Multiply", "gemm"),
)
_XNNPACK_ELEMENTWISE = (
    "Add", "Subtract", "Multiply", "Divide", "Clamp", "Sigmoid", "Square", "Log", "Exp", "HardSwish", "Negate",
    "Abs", "Maximum", "Minimum", "Tanh", "ELU", "Leaky ReLU", "Reciprocal", "Copysign",
)
# ONNX Runtime / LiteRT op types. None: the name does not say which class (Conv is dense, 1×1 or depthwise).
_GRAPH_OPS: dict[str, str | None] = {
    **dict.fromkeys(("Conv", "FusedConv", "ConvTranspose", "CONV_2D", "TRANSPOSE_CONV"), None),
    "DEPTHWISE_CONV_2D": "depthwise",
    **dict.fromkeys(("Gemm", "MatMul", "FusedMatMul", "FULLY_CONNECTED", "BATCH_MATMUL"), "gemm"),
    **dict.fromkeys(("Add", "Sub", "Mul", "Div", "Relu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Sqrt",
                     "Pow", "Log", "Exp", "Max", "Min", "Neg", "Abs", "Tanh", "Where", "BatchNormalization",
                     "ADD", "SUB", "MUL", "DIV", "RELU", "RELU6", "LOGISTIC", "HARD_SWISH", "SQRT", "RSQRT",
                     "POW", "LOG", "EXP", "MAXIMUM", "MINIMUM", "NEG", "ABS", "TANH", "SQUARE"), "elementwise"),
}


def _xnnpack_class(op_type: str) -> str | None:
    for key, kind in _XNNPACK:
        if key in op_type:
            return kind
    return "elementwise" if op_type.startswith(_XNNPACK_ELEMENTWISE) else "other"


def _aten_record_class(op_type: str) -> str | None:
    """``aten::add`` (eager) or ``aten.add.Tensor`` (ExecuTorch portable kernels)."""
    name = op_type.replace("aten::", "").replace("aten.", "").split(".")[0]
    kind = aten_class(name)
    return None if kind == "conv" else kind  # depthwise, 1×1 or dense: the name does not say


_BY_BACKEND: dict[str, Callable[[str], str | None]] = {
    "XNNPACK": _xnnpack_class, "portable": _aten_record_class, "ATen": _aten_record_class,
}


def record_class(record: OpRecord) -> str | None:
    """The op class of one runtime per-op record, or None when its name does not tell."""
    classify = _BY_BACKEND.get(record.backend)
    if classify is not None:
        return classify(record.op_type)
    return _GRAPH_OPS.get(record.op_type, "other")


def class_times(records: Sequence[OpRecord]) -> tuple[dict[str, float], float]:
    """Per-op time (ms) per class and the time in records of unknown class."""
    out = dict.fromkeys(OP_CLASSES, 0.0)
    unknown = 0.0
    for r in records:
        kind = record_class(r)
        if kind is None:
            unknown += r.ms
        else:
            out[kind] += r.ms
    return out, unknown


@dataclass(frozen=True)
class CalibratedEstimate:
    profile: str
    threads: int
    ms: float
    class_ms: dict[str, float]
    method: str

    def to_dict(self) -> dict[str, Any]:
        return {"label": CAL_LABEL, **asdict(self)}


@dataclass(frozen=True)
class Calibration:
    """Kernel efficiencies of one runtime on this host, per op class (JSON: ``save`` / ``load``)."""

    artifact: str
    model: str
    config: str
    runtime: str
    precision: str
    threads: int
    clock: str  # what measured_ms is: "thread CPU time" (1 thread) or "wall"
    measured_ms: float  # median latency per inference on this host
    host: dict[str, Any]  # the host profile and its assumptions
    floor_ms: dict[str, float]  # host roofline floor per class
    class_ms: dict[str, float]  # measured time per class, scaled to add up to measured_ms
    # floor / measured per class; None = the runtime fused the class into another one (no time of its own)
    efficiency: dict[str, float | None]
    whole_efficiency: float  # total floor / measured, for classes not in ``efficiency``
    method: str  # "per-class" or "whole-model"
    notes: tuple[str, ...] = ()
    created_utc: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    @classmethod
    def fit(cls, costs: Sequence[OpCost], host: DeviceProfile, measured_ms: float,
            records: Sequence[OpRecord] = (), **meta: Any) -> Calibration:
        """Efficiencies from the host floor of ``costs`` and the measured median (+ per-op records)."""
        if measured_ms <= 0:
            raise UsageError(f"measured latency must be positive (got {measured_ms} ms)")
        threads, precision = int(meta["threads"]), str(meta["precision"])
        floor = class_floor_ms(costs, host, threads, precision)
        whole = sum(floor.values()) / measured_ms
        notes = list(meta.pop("notes", ()))
        times, unknown = class_times(records)
        # Time in classes the floor gives no work (layout copies the cost model counts as free) is overhead:
        # left out of the sum, so the scale spreads it over the classes that do work, like dispatch time.
        working = sum(t for k, t in times.items() if floor[k] > 0)
        op_sum = sum(times.values()) + unknown
        fallback = ("no per-op records" if not records or working <= 0
                    else f"{100 * unknown / op_sum:.0f}% of per-op time in ops of unknown class (e.g. ONNX Conv)"
                    if unknown > MAX_UNCLASSIFIED * op_sum else "")
        if fallback:
            return cls(floor_ms=floor, class_ms={}, efficiency={}, whole_efficiency=whole, method="whole-model",
                       measured_ms=measured_ms, host=_host_dict(host),
                       notes=(*notes, f"{fallback}: one whole-model efficiency"), **meta)
        scale = measured_ms / working
        class_ms = {k: (t * scale if floor[k] > 0 else 0.0) for k, t in times.items()}
        efficiency: dict[str, float | None] = {
            k: (floor[k] / class_ms[k] if class_ms[k] > 0 else None) for k in OP_CLASSES if floor[k] > 0
        }
        return cls(floor_ms=floor, class_ms=class_ms, efficiency=efficiency, whole_efficiency=whole,
                   method="per-class", measured_ms=measured_ms, host=_host_dict(host), notes=tuple(notes), **meta)

    def applies_to(self, precision: str) -> bool:
        return precision == self.precision

    def apply(self, costs: Sequence[OpCost], profile: DeviceProfile, threads: int) -> CalibratedEstimate:
        """The floor of ``costs`` on ``profile``, each class divided by its efficiency on this host."""
        floor = class_floor_ms(costs, profile, threads, self.precision)
        class_ms = {}
        for kind, ms in floor.items():
            if kind in self.efficiency:
                eff = self.efficiency[kind]
                class_ms[kind] = 0.0 if eff is None else ms / eff
            else:
                class_ms[kind] = ms / self.whole_efficiency
        return CalibratedEstimate(profile=profile.key, threads=threads, ms=sum(class_ms.values()),
                                  class_ms=class_ms, method=self.method)

    # ------------------------------------------------------------------------------------------- JSON
    def to_dict(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "label": CAL_LABEL, **asdict(self)}

    def save(self, path: Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomically(path, self.to_dict())
        return path

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "calibration") -> Calibration:
        if data.get("schema") != SCHEMA:
            raise UsageError(f"{source} is not an edgeav calibration ({SCHEMA}); "
                             "make one with: python -m bench.calibrate ARTIFACT --out FILE")
        body = {k: v for k, v in data.items() if k not in ("schema", "label")}
        body["notes"] = tuple(body.get("notes", ()))
        try:
            return cls(**body)
        except TypeError as exc:
            raise UsageError(f"{source} is missing calibration fields ({exc}); re-run python -m bench.calibrate") from exc

    @classmethod
    def load(cls, path: Path | str) -> Calibration:
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError as exc:
            raise UsageError(f"no calibration file {path}; make one with: python -m bench.calibrate ARTIFACT") from exc
        except json.JSONDecodeError as exc:
            raise UsageError(f"{path} is not JSON ({exc.msg}); make one with: python -m bench.calibrate ARTIFACT") from exc
        return cls.from_dict(data, str(path))


def _host_dict(host: DeviceProfile) -> dict[str, Any]:
    core = host.clusters[0]
    return {"title": host.title, "ghz": core.ghz, "fp32_flops_per_cycle": core.fp32_flops_per_cycle,
            "peak_gflops_per_core": core.peak_gops("fp32"), "dram_gbs": host.dram_gbs, "source": host.source}
