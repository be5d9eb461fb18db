"""Host side of the validation: export the reference architectures, time them, split the time by op class.

For every (reference model, precision) the validation needs, this writes a ``.pte`` (ExecuTorch, one
XNNPACK delegate over the whole graph, the shape XNNPACK's own ``end2end_bench`` builds) and a ``.tflite``
(LiteRT, XNNPACK delegate), fp32 or int8 (PT2E static int8 through the project's recipes, calibrated on
random images: latency does not depend on the ranges). Artifacts are cached in ``--work``.

Measurement (one thread, pinned to one CPU): the thread's CPU time per inference (a shared machine's wall
clock also counts other processes' slices), median over ``rounds`` interleaved rounds of ``runs`` runs, so a
burst of load from another process hits every artifact alike. The split by op class comes from the
``.pte``'s ETDump (XNNPACK names its kernels: IGEMM, GEMM, DWConv, ...; bench.calibration.class_times)
and is applied as fractions to the measured median of whichever format a row names.
"""
from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from bench.calibrate import timings
from bench.calibration import class_times
from bench.cost import OP_CLASSES, OpCost, deployed_costs
from bench.reference_models import build_reference, get_reference
from edgeav.errors import EdgeAVError, UsageError
from edgeav.specs import IOSpec, TensorSpec

FORMATS = {"pte": "executorch", "tflite": "litert"}  # suffix -> export format
PRECISIONS = ("fp32", "int8")
CALIBRATION_IMAGES = 8


def io_spec(name: str) -> IOSpec:
    size = get_reference(name).image_size
    return IOSpec(inputs=(TensorSpec("image", (1, 3, size, size)),), outputs=(TensorSpec("logits", (1, 1000)),),
                  output_reading="ImageNet logits (random weights: latency only)")


def artifact_path(work: Path, name: str, precision: str, suffix: str) -> Path:
    return Path(work) / f"{name}_{precision}.{suffix}"


def _int8_module(model: torch.nn.Module, x: torch.Tensor, fmt: str) -> torch.nn.Module:
    """The recipe's converted Q/DQ graph of ``model`` after PTQ on random images."""
    from quantize.api import calibrate, prepare
    from quantize.plan import quantization_rewrite
    from quantize.recipes import FloatModules, get_recipe

    sim = prepare(model, (x,), "ptq", rewrite=quantization_rewrite("ptq", ()), floats=FloatModules())
    gen = torch.Generator().manual_seed(0)
    calibrate(sim, ((torch.randn(x.shape, generator=gen),) for _ in range(CALIBRATION_IMAGES)))
    return sim.convert(fold_quantize=get_recipe(fmt).fold_quantize)


def export_reference(work: Path, name: str, precision: str, suffix: str) -> Path:
    """Write (or reuse) one reference artifact; returns its path."""
    from edgeav.models.rewrites import rewrite_for_target
    from export_targets.formats import format_info, get_target
    from export_targets.target import LoweringRequest

    if precision not in PRECISIONS or suffix not in FORMATS:
        raise UsageError(f"reference artifacts are {'/'.join(PRECISIONS)} .{'/.'.join(FORMATS)} (got {precision} .{suffix})")
    dest = artifact_path(work, name, precision, suffix)
    if dest.is_file():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    fmt = FORMATS[suffix]
    x = get_reference(name).example_input()
    model, _, _ = rewrite_for_target(build_reference(name), format_info(fmt).rewrites)
    if precision == "int8":
        model = _int8_module(model, x, fmt)
    partial = dest.with_suffix(dest.suffix + ".partial")
    with torch.no_grad():
        get_target(fmt).lower(LoweringRequest(model, (x,), io_spec(name), precision, partial))
    partial.replace(dest)
    return dest


@dataclass(frozen=True)
class HostMeasurement:
    """One reference artifact on this host: median thread-CPU ms and the time fractions by op class."""

    model: str
    precision: str
    suffix: str
    ms: float
    rounds_ms: tuple[float, ...]  # the median of each round, for the noise
    class_share: dict[str, float] = field(default_factory=dict)  # sums to 1 (empty: no per-op split)

    @property
    def spread(self) -> float:
        """(max − min) / median of the round medians."""
        return (max(self.rounds_ms) - min(self.rounds_ms)) / self.ms if len(self.rounds_ms) > 1 else 0.0

    def class_ms(self) -> dict[str, float]:
        return {k: self.ms * self.class_share.get(k, 0.0) for k in OP_CLASSES}

    def to_dict(self) -> dict[str, object]:
        return {"model": self.model, "precision": self.precision, "format": self.suffix, "ms": self.ms,
                "rounds_ms": list(self.rounds_ms), "spread": self.spread, "class_share": self.class_share}


def class_share(pte: Path, runs: int = 5, passes: int = 3) -> dict[str, float]:
    """Fractions of per-op time by op class from the .pte's ETDump: per class the median over ``passes``
    profiled passes of ``runs`` runs (one pass on a loaded machine can put a stall in any op)."""
    from export_targets.executorch.runner import ExecuTorchRunner

    runner = ExecuTorchRunner(pte, threads=1)
    x = torch.zeros(*_shape_of(pte))
    per_pass = [class_times(runner.profile([x], runs=runs, warmup=1).records)[0] for _ in range(passes)]
    times = {k: statistics.median(p[k] for p in per_pass) for k in OP_CLASSES}
    total = sum(times.values())
    return {k: v / total for k, v in times.items()} if total > 0 else {}


def _invoker(path: Path) -> Callable[[], object]:
    """One inference of ``path`` on zeros of the dtype and shape the artifact declares (an int8 .tflite
    may take int8 input)."""
    import numpy as np

    from export_targets.formats import format_of, get_target

    target = get_target(format_of(path).name)
    inputs = [np.zeros(t.shape, dtype=t.dtype) for t in target.inspect(path).inputs]
    runner = target.load(path, threads=1)
    feed = runner.prepare(inputs)
    return lambda: runner.invoke(feed)


def _shape_of(path: Path) -> tuple[int, ...]:
    """The input shape of ``<model>_<precision>.<suffix>`` (artifact_path's naming)."""
    name = path.stem.rsplit("_", 1)[0]
    size = get_reference(name).image_size
    return (1, 3, size, size)


def measure(paths: Sequence[Path], rounds: int = 5, runs: int = 10, warmup: int = 3,
            log: Callable[[str], None] = lambda _: None) -> dict[Path, list[float]]:
    """Interleaved rounds: each round times every artifact ``runs`` times; per artifact, the round medians."""
    from bench.devices.host import pinned

    out: dict[Path, list[float]] = {Path(p): [] for p in paths}
    with pinned(1):
        torch.set_num_threads(1)
        invokers = {p: _invoker(p) for p in out}
        for r in range(rounds):
            for p, fn in invokers.items():
                out[p].append(statistics.median(timings(fn, runs, warmup if r == 0 else 1).thread_cpu_ms))
            log(f"round {r + 1}/{rounds} done")
    return out


def costs_of(name: str) -> tuple[OpCost, ...]:
    """Per-op FLOPs and bytes of a reference model in its deployed form."""
    return deployed_costs(build_reference(name), (get_reference(name).example_input(),))


def safe_class_share(pte: Path) -> dict[str, float]:
    try:
        return class_share(pte)
    except EdgeAVError:
        return {}
