"""Measure this host's kernel efficiencies on one artifact and store them as a calibration file.

    python -m bench.calibrate dist/lightavseg_paper_fp32.pte --out calibration.json [--runs 20]
    edgeav bench dist/*.pte --calibration calibration.json      # estimates without a fresh host run
    python -m bench.studies.paper_latencies --calibration calibration.json         # the paper's rows, floor and calibrated

Steps: describe the host CPU (bench.profiles.host_profile), measure one core's copy bandwidth, time the
artifact (median of ``--runs``), profile it per op, and fit bench.calibration.Calibration against the
artifact's op costs. With one thread the latency is the thread's **CPU time**, not the wall clock: on a
shared machine the wall clock also counts the slices the scheduler gave to other processes, which says
nothing about the kernels. (With one thread ExecuTorch, ONNX Runtime and eager run the kernels on the
calling thread; if most of the process's CPU time is on other threads, the wall clock is used.)
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from bench.calibration import Calibration
from bench.cost import registry_costs
from bench.devices.host import pinned
from bench.profiles import host_profile
from bench.targets import resolve_target
from edgeav.errors import EdgeAVError, UsageError

COPY_MB = 128  # large enough to spill every cache level of a server core (2 MB L2, shared L3 per VM slice)


@dataclass(frozen=True)
class Timings:
    thread_cpu_ms: list[float]  # CPU time of the calling thread, per run
    wall_ms: list[float]
    process_cpu_ms: float  # CPU time of every thread of the process, all runs together

    @property
    def on_calling_thread(self) -> bool:
        """Whether the work ran on the calling thread (its CPU time is most of the process's)."""
        return sum(self.thread_cpu_ms) >= 0.8 * self.process_cpu_ms


def timings(fn: Callable[[], object], runs: int, warmup: int) -> Timings:
    """Per-run thread CPU and wall times (ms) of ``fn`` after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    cpu, wall = [], []
    p0 = time.process_time_ns()
    for _ in range(runs):
        c0, w0 = time.thread_time_ns(), time.perf_counter_ns()
        fn()
        cpu.append((time.thread_time_ns() - c0) / 1e6)
        wall.append((time.perf_counter_ns() - w0) / 1e6)
    return Timings(cpu, wall, (time.process_time_ns() - p0) / 1e6)


def copy_bandwidth_gbs(megabytes: int = COPY_MB, runs: int = 5) -> float:
    """One thread's DRAM copy bandwidth (read + write bytes per CPU second), median of ``runs``."""
    torch.set_num_threads(1)
    src = torch.ones(megabytes * 2**20 // 4)
    dst = torch.empty_like(src)
    cpu = timings(lambda: dst.copy_(src), runs, warmup=1).thread_cpu_ms
    return 2 * src.numel() * 4 / (statistics.median(cpu) / 1e3) / 1e9


def calibrate(artifact: Path, threads: int = 1, runs: int = 20, warmup: int = 3, per_op_runs: int = 5) -> Calibration:
    """Time and profile ``artifact`` on this host (pinned to ``threads`` CPUs) and fit a Calibration."""
    target = resolve_target(artifact)
    if target.path is None:
        raise UsageError("calibrate an exported artifact (.pte, .onnx, .tflite), not eager")
    notes: list[str] = []
    with pinned(threads):
        host = host_profile(dram_gbs=copy_bandwidth_gbs())
        runner = target.open(threads)
        inputs = target.inputs()
        feed = runner.prepare(inputs)
        timed = timings(lambda: runner.invoke(feed), runs, warmup)
        try:
            records = runner.profile(inputs, runs=per_op_runs, warmup=1).records
        except EdgeAVError as exc:
            records = ()
            notes.append(f"per-op: {exc}")
    wall_ms, cpu_ms = statistics.median(timed.wall_ms), statistics.median(timed.thread_cpu_ms)
    use_cpu = threads == 1 and timed.on_calling_thread
    if threads == 1 and not use_cpu:
        notes.append("the runtime ran its kernels off the calling thread: wall clock used")
    notes.append(f"wall-clock median {wall_ms:.2f} ms, thread CPU time median {cpu_ms:.2f} ms over {runs} runs")
    return Calibration.fit(
        registry_costs(target.model, target.config), host, cpu_ms if use_cpu else wall_ms, records,
        artifact=target.label, model=target.model, config=target.config, runtime=target.format,
        precision="int8" if target.precision == "int8" else "fp32", threads=threads,
        clock="thread CPU time" if use_cpu else "wall", notes=notes,
    )


def summary(cal: Calibration) -> str:
    h = cal.host
    lines = [f"{cal.artifact}: {cal.measured_ms:.2f} ms ({cal.clock}, {cal.threads} thread(s)) on {h['title']}",
             (f"host peak {h['peak_gflops_per_core']:.0f} GFLOP/s per core ({h['fp32_flops_per_cycle']} FLOP/cycle × "
              f"{h['ghz']:.2f} GHz), copy bandwidth {h['dram_gbs']:.1f} GB/s (one thread)"),
             f"method: {cal.method}; whole-model efficiency {100 * cal.whole_efficiency:.1f}%",
             "class        floor ms   measured ms   efficiency"]
    for kind, floor in cal.floor_ms.items():
        eff = cal.efficiency.get(kind, "—")
        eff_text = "fused" if eff is None else (f"{100 * eff:.1f}%" if isinstance(eff, float) else eff)
        lines.append(f"{kind:<12} {floor:8.2f} {cal.class_ms.get(kind, 0.0):13.2f}   {eff_text:>10}")
    return "\n".join(lines + [f"note: {n}" for n in cal.notes])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.calibrate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("artifact", type=Path, help="an exported artifact with its manifest beside it")
    parser.add_argument("--out", type=Path, default=Path("calibration.json"), help="where the JSON goes")
    parser.add_argument("--threads", type=int, default=1, help="runtime threads (default: 1)")
    parser.add_argument("--runs", type=int, default=20, help="timed runs (default: 20)")
    parser.add_argument("--per-op-runs", type=int, default=5, help="profiled runs for the split by class (default: 5)")
    args = parser.parse_args(argv)
    try:
        if args.threads < 1 or args.runs < 1 or args.per_op_runs < 1:
            raise UsageError("--threads, --runs and --per-op-runs must be at least 1")
        cal = calibrate(args.artifact, args.threads, args.runs, per_op_runs=args.per_op_runs)
    except EdgeAVError as exc:
        print(f"bench.calibrate: error: {exc}", file=sys.stderr)
        return 2
    print(summary(cal))
    print(f"wrote {cal.save(args.out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
