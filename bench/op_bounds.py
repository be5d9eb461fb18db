"""What bounds an artifact: its per-op time by op class beside the floor from this host's *measured* peak.

    python -m bench.op_bounds dist/mission/fp32/lightavseg_paper_fp32.pte dist/mission/int8/lightavseg_paper_int8.pte
    python -m bench.op_bounds dist/aves-best/fp32/avesformer-r18_paper_fp32.pte --eager   # + eager's column

The peak is measured, not assumed: a 1024×1024×1024 GEMM lowered alone to a ``.pte`` at fp32 and at
int8 (``export_targets.executorch.probe``), timed by ETDump at the same thread count — the fastest the
runtime's own kernels go here. The floor of a class is its FLOPs (``bench.cost``, the deployed graph) at
that peak; what the runtime spends beyond the floor, and outside every op (dispatch, between-delegate
work), is what a faster lowering could still win. Layout copies and converts are their own rows: they
have no FLOPs, so their floor is zero. ``--eager`` adds PyTorch eager's time per class on the same input
(``bench.eager_classes``: the same classes, from each ATen op's arguments), so the table says where the
artifact spends more or less than eager and how far each side is from the floor.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.calibration import record_class
from bench.cost import OP_CLASSES, registry_costs
from bench.eager_classes import EagerClassTimes, eager_class_times
from bench.targets import BenchTarget, build_eager_model, eager_twin, resolve_target
from edgeav.errors import EdgeAVError
from edgeav.files import write_text_atomically
from export_targets.runtime import OpProfile, OpRecord

GEMM_N = 1024
OUTSIDE = "outside ops (dispatch, delegate boundaries)"


@dataclass(frozen=True)
class Peak:
    """The runtime's measured GEMM throughput on this host, GFLOP/s (int8: GOP/s)."""

    fp32: float
    int8: float
    threads: int  # measured at this many threads

    def of(self, precision: str) -> float:
        return self.int8 if precision == "int8" else self.fp32


def measured_peak() -> Peak:
    """XNNPACK's fp32 and int8 GEMM throughput on one core here (thread CPU time), from one large linear
    layer lowered alone; N threads' peak is taken as N times it (the floor assumes perfect scaling)."""
    import tempfile

    import torch
    from torch import nn

    from export_targets.executorch.probe import cpu_ms, lower_pair

    example = torch.randn(1, GEMM_N, GEMM_N)
    with tempfile.TemporaryDirectory(prefix="edgeav-peak-") as tmp:
        fp32, int8 = lower_pair(nn.Linear(GEMM_N, GEMM_N, bias=False), example, Path(tmp))
        fp32_ms, int8_ms = cpu_ms(fp32, example), cpu_ms(int8, example)
    flops = 2.0 * GEMM_N**3
    return Peak(fp32=flops / fp32_ms / 1e6, int8=flops / int8_ms / 1e6, threads=1)


def _row_kind(r: OpRecord) -> str:
    if r.op_type.startswith("Convert"):
        return "converts (int8 ↔ fp32)"
    if r.op_type.startswith(("Transpose", "Copy")):
        return "layout copies"
    return record_class(r) or "other"


def bounds_rows(profile: OpProfile, flops_by_class: dict[str, float], peak_gflops: float) -> list[tuple[str, int, float, float]]:
    """(row, ops, measured ms, floor ms) per class, then the time outside every op."""
    ms: dict[str, float] = {}
    ops: dict[str, int] = {}
    for r in profile.records:
        kind = _row_kind(r)
        ms[kind] = ms.get(kind, 0.0) + r.ms
        ops[kind] = ops.get(kind, 0) + r.calls
    rows = [(k, ops[k], ms[k], flops_by_class.get(k, 0.0) / peak_gflops / 1e6) for k in sorted(ms, key=lambda k: -ms[k])]
    if profile.total_ms:
        rows.append((OUTSIDE, 0, max(profile.total_ms - profile.op_ms, 0.0), 0.0))
    return rows


def flops_by_class(target: BenchTarget) -> dict[str, float]:
    out = dict.fromkeys(OP_CLASSES, 0.0)
    for c in registry_costs(target.model, target.config):
        out[c.kind] += c.flops
    return out


def bounds_markdown(target: BenchTarget, profile: OpProfile, peak: Peak, threads: int = 1,
                    eager: EagerClassTimes | None = None) -> str:
    p = peak.of(target.precision) * threads
    rows = bounds_rows(profile, flops_by_class(target), p)
    total = profile.total_ms or profile.op_ms
    lines = [f"**{target.label}** ({profile.runtime}, {profile.runs} profiled runs, whole inference "
             f"{total:.1f} ms; floor at the measured {target.precision} peak {p:.0f} G/s)", ""]
    if eager is None:
        lines += ["| op class | ops | measured ms | floor ms | floor / measured |", "|---|---|---|---|---|"]
    else:
        rows += [(k, 0, 0.0, flops_by_class(target).get(k, 0.0) / p / 1e6) for k in eager.ms
                 if k not in {r[0] for r in rows}]  # classes only eager has (e.g. its grid_sample in "other")
        lines += ["| op class | ops | measured ms | eager ops | eager ms | floor ms | floor / measured |",
                  "|---|---|---|---|---|---|---|"]
    for kind, n, ms, floor in rows:
        eff = f"{100 * floor / ms:.0f}%" if ms > 0 and floor > 0 else "—"
        if eager is None:
            lines.append(f"| {kind} | {n or '—'} | {ms:.2f} | {floor:.2f} | {eff} |")
        else:
            e_ms = eager.outside_ms if kind == OUTSIDE else eager.ms.get(kind, 0.0)
            lines.append(f"| {kind} | {n or '—'} | {ms:.2f} | {eager.calls.get(kind, 0) or '—'} | {e_ms:.2f} | "
                         f"{floor:.2f} | {eff} |")
    total_floor = sum(r[3] for r in rows)
    eager_total = "" if eager is None else f" | | {eager.total_ms:.2f}"
    lines.append(f"| **total** | | {total:.2f}{eager_total} | {total_floor:.2f} | {100 * total_floor / total:.0f}% |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("artifacts", nargs="+", type=Path)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--runs", type=int, default=5, help="profiled inferences (default 5)")
    p.add_argument("--markdown", type=Path, help="write the tables here too")
    p.add_argument("--eager", action="store_true", help="add PyTorch eager's time per class (same input, 1 thread only)")
    args = p.parse_args(argv)
    if args.eager and args.threads != 1:
        p.error("--eager times eager in this thread's CPU time: use it with --threads 1")
    try:
        peak = measured_peak()
        parts = [f"Measured peak (one core, XNNPACK {GEMM_N}³ GEMM, thread CPU time): fp32 {peak.fp32:.0f} GFLOP/s, "
                 f"int8 {peak.int8:.0f} GOP/s; floors at {args.threads} thread(s) assume {args.threads}× that."]
        for path in args.artifacts:
            target = resolve_target(path)
            runner = target.open(args.threads)
            profile = runner.profile(target.inputs(), runs=args.runs, warmup=2)
            eager = _eager_times(target, args.runs) if args.eager else None
            parts.append(bounds_markdown(target, profile, peak, args.threads, eager))
    except EdgeAVError as exc:
        print(f"op_bounds: error: {exc}", file=sys.stderr)
        return 2
    text = "\n\n".join(parts)
    print(text)
    if args.markdown:
        write_text_atomically(args.markdown, text + "\n")
    return 0


def _eager_times(target: BenchTarget, runs: int) -> EagerClassTimes:
    import torch

    torch.set_num_threads(1)  # the class timer reads this thread's CPU time
    return eager_class_times(build_eager_model(eager_twin(target)), target.inputs(), runs=runs)


if __name__ == "__main__":
    sys.exit(main())
