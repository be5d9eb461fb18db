"""`edgeav bench`: time artifacts on a device, per operator, with Snapdragon estimates beside them.

    edgeav bench dist/*.pte dist/*.tflite --device host --threads 1 --runs 50 --per-op
    edgeav bench dist/*.pte dist/*.onnx eager:lightavseg --compare

A thin wrapper over ``bench.harness``: validate options, resolve targets, run, print, write files.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from edgeav.cli.console import live_console
from edgeav.errors import EdgeAVError, UsageError
from edgeav.files import ensure_writable_dir, storage_errors
from edgeav.tasks import get_task

_DEFAULT_PROFILES = "sd8gen2,sd8gen3,sd8elite"  # bench.request.DEFAULT_PROFILES, as the flag reads it


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench",
        help="time artifacts per operator on a device",
        description="Benchmark exported artifacts (and the PyTorch eager model) on a device: warm-up, N runs, "
        "median/p90/min/CV, per-op tables from each runtime's profiler, roofline estimates on Snapdragon profiles.",
    )
    p.add_argument("targets", nargs="+", help="artifacts (.pte/.tflite/.onnx, manifest beside each) or eager:MODEL[:CONFIG]")
    p.add_argument("--eager", action="store_true", help="add the PyTorch eager reference of the first artifact's model")
    p.add_argument("--device", default="host",
                   help="host (default), adb[:SERIAL] (a phone), or arm[:CPU] (emulated aarch64 that counts "
                        "instructions; CPU cortex-a76 (default), neoverse-n1, cortex-a72, max; "
                        "set up with `edgeav device setup arm`)")
    p.add_argument("--threads", type=int, default=1, help="runtime threads (default: 1)")
    p.add_argument("--runs", type=int, help="timed (arm: counted) runs (default: 50; arm: 1, its counts repeat exactly)")
    p.add_argument("--warmup", type=int, help="untimed warm-up runs (default: 5; arm: 1)")
    p.add_argument("--per-op", action="store_true", help="also profile per operator")
    p.add_argument("--per-op-runs", type=int, default=10, help="profiled runs for --per-op (default: 10)")
    p.add_argument("--top", type=int, default=10, help="ops per per-op table (default: 10)")
    p.add_argument("--compare", action="store_true", help="interleave the targets run by run and report ratios")
    p.add_argument("--profiles", default=_DEFAULT_PROFILES,
                   help=f"device profiles to estimate on, comma-separated, or none (default: {_DEFAULT_PROFILES})")
    p.add_argument("--calibration", type=Path,
                   help="host calibration JSON (python -m bench.calibrate ARTIFACT): adds host-calibrated estimates")
    p.add_argument("--out", type=Path, default=Path("bench-results"), help="where JSON/CSV/PNG go (default: bench-results)")
    p.add_argument("--runner-dir", type=Path, help="adb: folder with edgeav_et_runner (+ lib/) built for the phone")
    p.add_argument("--verbose", action="store_true", help="show the runtimes' own log lines (hidden by default)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bench.report import comparison_table, per_op_table, short_name, summary_table, write_outputs
    from bench.report_counts import counts_table
    from bench.request import BenchRequest, benchmark, profile_keys
    from export_targets._quiet import runtime_output_hidden

    if args.top < 1:
        raise UsageError(f"--top must be at least 1 (got {args.top})")
    request = BenchRequest(
        args.targets, device=args.device, threads=args.threads, runs=args.runs, warmup=args.warmup,
        per_op=args.per_op, per_op_runs=args.per_op_runs, compare=args.compare, eager=args.eager,
        profiles=profile_keys(args.profiles), calibration=args.calibration, runner_dir=args.runner_dir,
    )
    ensure_writable_dir(args.out)  # before the runs: their numbers must have somewhere to go
    console = Console(width=None if Console().is_terminal else 180)  # files and pipes get the whole table
    # The runtimes' native log lines (ExecuTorch's CPU probing on every load) stay off the terminal.
    with live_console().status("benchmarking…") as live, runtime_output_hidden(not args.verbose):
        report = benchmark(request, lambda msg: live.update(escape(msg)))
    if args.compare:
        console.print(comparison_table(report))
    else:
        for m in report.measurements:
            if m.profile:
                console.print(per_op_table(m, args.top))
            if m.instructions and m.instructions.ops:
                console.print(counts_table(m, args.top, short_name))
        console.print(summary_table(report, _metric_title(report)))
    for m in report.measurements:
        for note in m.notes:
            console.print(f"[yellow]{escape(m.target.label)}: {escape(note)}[/]", soft_wrap=True)
    with storage_errors(args.out):
        written = write_outputs(report, args.out, "compare" if args.compare else "bench")
    for path in written:
        console.print(f"wrote {escape(str(path))}", soft_wrap=True)
    failed = [m for m in report.measurements if m.error or any(p.passed is False for p in m.parity)]
    for m in failed:  # one line each, after the tables: what failed and why (also in the JSON, per target)
        print(f"edgeav: error: {m.target.label}: {m.error or _parity_failure(m)}", file=sys.stderr)
    if report.interrupted:
        return 130
    return 2 if failed or not all(m.ok for m in report.measurements) else 0


def _parity_failure(m) -> str:
    bad = [p for p in m.parity if p.passed is False]
    return "; ".join(f"ARM outputs differ from {p.against}: {p.summary()} (need {p.limit}); the ARM kernels "
                     "compute differently: rerun on --device host and compare the per-op tables" for p in bad)


def _metric_title(report) -> str:
    """The task metric's title, from the first target whose model the registry knows (a failed one may not)."""
    for m in report.measurements:
        try:
            return get_task(m.target.entry().task).title
        except EdgeAVError:
            continue
    return "metric"
