"""How far this machine lets 2 threads go: XNNPACK's own best case, a large GEMM, at 1 and N threads.

    python -m bench.studies.thread_scaling --threads 1,2 --runs 30 --out runs/thread-scaling

The mission tables' N-thread speed-up of a whole model is bounded by the speed-up the runtime reaches on
its most parallel kernel here. A 1024×1024×1024 linear layer lowered alone to a ``.pte`` (fp32 and int8,
``export_targets.executorch.probe.lower_pair``) splits into hundreds of equal tiles with no dispatch
between them, so its speed-up is that bound: when something else holds the cores (another job, or
torch's own spinning pool, which bench/torch_threads.py keeps at 1 thread for artifacts) it stays well below N. Timed with the mission's interleaved workers (one process
per thread count, pinned, rounds rotating), so both thread counts see the same phases of a noisy machine.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.mission import interleave_threads, per_round, thread_counts
from bench.op_bounds import GEMM_N
from bench.targets import BenchTarget
from edgeav.files import write_text_atomically



@dataclass(frozen=True)
class GemmTarget(BenchTarget):
    """A probe .pte that is no registry model: its input is a fixed random [1, N, N] tensor."""

    n: int = GEMM_N

    def inputs(self, seed: int = 0) -> tuple[Any, ...]:
        import torch

        return (torch.randn(1, self.n, self.n, generator=torch.Generator().manual_seed(seed)),)

    def open(self, threads: int | None) -> Any:
        from export_targets.executorch.runner import ExecuTorchRunner

        assert self.path is not None
        return ExecuTorchRunner(self.path, threads=threads)


def gemm_targets(folder: Path, n: int = GEMM_N) -> list[GemmTarget]:
    import torch
    from torch import nn

    from export_targets.executorch.probe import lower_pair

    fp32, int8 = lower_pair(nn.Linear(n, n, bias=False), torch.randn(1, n, n), folder)
    return [GemmTarget(label=f"gemm{n}_{p.stem}.pte", format="executorch", model="gemm", config=str(n),
                       precision=p.stem, path=p, n=n) for p in (fp32, int8)]


def speedups(times: dict[int, dict[str, list[float]]]) -> dict[str, dict[str, Any]]:
    """Per target and thread count above the first: median of per-round (1-thread ms / N-thread ms)."""
    first = min(times)
    out: dict[str, dict[str, Any]] = {}
    for n, by_label in times.items():
        if n == first:
            continue
        for label, ms in by_label.items():
            ratio = per_round(f"{label}: {first}t / {n}t", times[first][label], ms)
            low, high = ratio.spread
            out[ratio.name] = {
                "median": round(ratio.median, 3), "min": round(low, 3), "max": round(high, 3),
                f"ms_{first}t": round(statistics.median(times[first][label]), 3),
                f"ms_{n}t": round(statistics.median(ms), 3), "rounds": len(ratio.per_round)}
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", default="1,2")
    p.add_argument("--runs", type=int, default=30)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    threads = thread_counts(args.threads)
    with tempfile.TemporaryDirectory(prefix="edgeav-scaling-") as tmp:
        times, pools = interleave_threads(gemm_targets(Path(tmp)), threads, args.runs, args.warmup, print)
    result = {"gemm": f"{GEMM_N}x{GEMM_N}x{GEMM_N} linear, XNNPACK .pte", "threads": threads, "pools": pools,
              "speedups": speedups(times)}
    args.out.mkdir(parents=True, exist_ok=True)
    write_text_atomically(args.out / "result.json", json.dumps(result, indent=2) + "\n")
    for name, r in result["speedups"].items():
        print(f"{name}: {r['median']:.2f}x (min {r['min']:.2f}, max {r['max']:.2f}; "
              f"{r[f'ms_{threads[0]}t']} ms -> {r[f'ms_{threads[1]}t'] if len(threads) > 1 else '-'} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
