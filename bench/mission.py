"""The mission benchmark: every artifact of a model beside PyTorch eager, at 1 and 2 threads, in one
interleaved run, with the ratios the README tracks taken round by round.

    python -m bench.mission --reuse dist/mission/fp32 dist/mission/int8 --threads 1,2 --runs 20
    python -m bench.studies.mission_table --model lightavseg          # export first, then this run

One round runs every (thread count, artifact) pair once; each round starts with the next thread count
and, within it, the next artifact, so a slow phase of the machine hits all candidates alike. Each thread
count has its own worker process, pinned to that many CPUs before any pool exists, which opens every
artifact at that count: ExecuTorch's XNNPACK threadpool and ``torch.set_num_threads`` are process-wide
(and a loaded .pte keeps the pool it was loaded with), ONNX Runtime's intra-op pool and LiteRT's
``num_threads`` are per session. The workers report their pool sizes; the table prints them. Ratios
are medians of per-round ratios, with their spread across rounds (the noise the README quotes).
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.devices import Measurement, RunSettings
from bench.estimate import LABEL
from bench.harness import BenchReport, estimates_for
from bench.profiles import PROFILES
from bench.report import FORMAT_TITLES, write_outputs
from bench.stats import Stats, time_ms
from bench.targets import BenchTarget, check_same_inputs, eager_twin, resolve_target
from bench.torch_threads import with_torch_threads
from edgeav.errors import EdgeAVError, ExportError, UsageError
from edgeav.files import write_text_atomically
from export_targets._quiet import quiet_library_loggers
from export_targets.formats import FORMATS, format_of

PEER_PRECISION = "int8-ort"  # the ONNX Runtime QDQ peer's precision (export_targets.onnx.peer)


@dataclass(frozen=True)
class Skipped:
    what: str
    reason: str
    precision: str = "—"
    size_mb: float | None = None


def skipped_artifact(path: Path, reason: str) -> Skipped:
    """A row for an artifact that cannot run here, titled like the timed rows and sized from its manifest."""
    from export_targets.manifest import read_manifest

    fmt = format_of(path)
    manifest = read_manifest(path)
    size = manifest.get("size_bytes")
    return Skipped(FORMAT_TITLES.get(fmt.name, path.name), reason, str(manifest.get("precision", "—")),
                   size / 1e6 if isinstance(size, (int, float)) else None)


def artifacts_in(folder: Path) -> list[Path]:
    """Artifacts with a manifest beside them, in format-table order."""
    order = {f.suffix: i for i, f in enumerate(FORMATS)}
    found = [m.with_name(m.name.removesuffix(".json")) for m in folder.glob("*.json")]
    found = [p for p in found if p.exists() and any(p.name.endswith(f.suffix) for f in FORMATS)]
    return sorted(found, key=lambda p: (order.get(format_of(p).suffix, 99), p.name))


def runnable(paths: list[Path]) -> tuple[list[BenchTarget], list[Skipped]]:
    targets, skipped = [], []
    names = [p.name for p in paths]
    for p in paths:
        reason = format_of(p).run_skip_reason()
        if reason:
            skipped.append(skipped_artifact(p, reason))
            continue
        target = resolve_target(p)
        if names.count(p.name) > 1:  # e.g. two int8 plans of one model: rows and ratios are keyed by label
            target = dataclasses.replace(target, label=f"{p.parent.name}/{p.name}")
        targets.append(target)
    return targets, skipped


# --- thread pools: one worker process per thread count -------------------------------------------------

def _pool_sizes() -> dict[str, int | None]:
    """What each runtime's process-wide pool is set to in this process (the report's proof of --threads)."""
    import torch

    # torch's pool as eager runs it; artifacts run with it at 1 (bench/torch_threads.py)
    sizes: dict[str, int | None] = {"torch": torch.get_num_threads(), "executorch": None}
    if "executorch.extension.pybindings.portable_lib" in sys.modules:
        from executorch.extension.pybindings import portable_lib

        sizes["executorch"] = portable_lib._threadpool_get_thread_count()
    return sizes


def _worker(conn: Any, targets: Sequence[BenchTarget], threads: int, cpus: Sequence[int], gap_s: float = 0.0) -> None:
    """Open every target at ``threads`` in this process, then time one round per request from the parent.

    A process per thread count, because ExecuTorch's XNNPACK threadpool is process-wide and a loaded
    program keeps the pool it was loaded with (resetting it under a loaded program is a use-after-free),
    and ``torch.set_num_threads`` is process-wide too. Pinned before any pool exists, so every pool
    thread inherits the same ``threads`` CPUs.
    """
    try:
        if hasattr(os, "sched_setaffinity") and cpus:
            os.sched_setaffinity(0, list(cpus)[: max(1, min(threads, len(cpus)))])
        quiet_library_loggers()
        import torch

        torch.set_num_threads(threads)
        calls = {}
        for t in targets:
            runner = t.open(threads)
            feed = runner.prepare(t.inputs())
            calls[t.label] = with_torch_threads(t.format, threads, lambda r=runner, f=feed: r.invoke(f))
        conn.send(("ready", {"threads": threads, "cpus": sorted(os.sched_getaffinity(0)), **_pool_sizes()}))
        names = list(calls)
        while (message := conn.recv()) is not None:
            k = message % len(names)
            conn.send(("round", {name: _after_gap(calls[name], gap_s) for name in names[k:] + names[:k]}))
    except Exception as exc:  # the parent reports it: a worker must not die silently
        conn.send(("error", f"{type(exc).__name__}: {exc}"))


def _after_gap(call: Callable[[], Any], gap_s: float) -> float:
    """``call``'s ms, timed after ``gap_s`` of idling: the previous runtime's pool threads spin-wait after
    their work (ONNX Runtime, OpenMP, pthreadpool) and would take the cores this call's threads need."""
    if gap_s > 0:
        time.sleep(gap_s)
    return time_ms(call)


def interleave_threads(targets: Sequence[BenchTarget], threads: Sequence[int], runs: int, warmup: int,
                       say: Callable[[str], None] = lambda _m: None,
                       gap_ms: float = 0.0) -> tuple[dict[int, dict[str, list[float]]], list[dict]]:
    """ms per round, per thread count and target label, and each worker's pool sizes.

    Rounds rotate which thread count goes first and, within it, which target; only one worker runs at
    a time (the others wait on their pipe, idle). ``gap_ms`` of idling precedes every timed call.
    """
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    workers = {}
    try:
        for n in threads:
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_worker, args=(child, list(targets), n, cpus, gap_ms / 1000), daemon=True)
            proc.start()
            workers[n] = (proc, parent)
        pools = [_reply(workers[n][1], "ready", f"opening the artifacts at {n} thread(s)") for n in threads]
        say("pools: " + "; ".join(", ".join(f"{k} {v}" for k, v in p.items()) for p in pools))
        out: dict[int, dict[str, list[float]]] = {n: {t.label: [] for t in targets} for n in threads}
        for r in range(-warmup, runs):
            for n in list(threads)[r % len(threads):] + list(threads)[: r % len(threads)]:
                workers[n][1].send(r)
                times = _reply(workers[n][1], "round", f"round {r} at {n} thread(s)")
                for name, ms in times.items():
                    if r >= 0:
                        out[n][name].append(ms)
            if r >= 0 and (r + 1) % 5 == 0:
                say(f"round {r + 1}/{runs}")
        return out, pools
    finally:
        for proc, conn in workers.values():
            with contextlib.suppress(OSError):
                conn.send(None)
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()


def _reply(conn: Any, kind: str, what: str) -> dict:
    try:
        got, payload = conn.recv()
    except EOFError:
        raise ExportError(f"mission: the worker died while {what} (a runtime crashed); run the artifact alone "
                          "with `edgeav bench` to see its error") from None
    if got == "error":
        raise ExportError(f"mission: {what} failed ({payload})")
    assert got == kind, (got, kind)
    return payload


# --- ratios, round by round ---------------------------------------------------------------------------

@dataclass(frozen=True)
class RoundRatio:
    """``numerator / denominator`` per round: the median is the figure, the spread the noise."""

    name: str
    per_round: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.per_round)

    @property
    def spread(self) -> tuple[float, float]:
        return min(self.per_round), max(self.per_round)

    def cell(self) -> str:
        lo, hi = self.spread
        return f"{self.median:.2f} ({lo:.2f}–{hi:.2f})"


def per_round(name: str, num: Sequence[float], den: Sequence[float]) -> RoundRatio:
    return RoundRatio(name, tuple(a / b for a, b in zip(num, den) if b > 0))


def _key(t: BenchTarget) -> tuple[str, str]:
    return t.format, t.precision


def mission_ratios(targets: Sequence[BenchTarget], timings: dict[int, dict[str, list[float]]]) -> list[RoundRatio]:
    """The README's ratios: each artifact / eager, int8 / fp32 of a format, edgeav int8 / ORT int8 (the peer),
    and 1 thread / N threads of each artifact (its speed-up)."""
    by_key = {_key(t): t.label for t in targets}
    eager = by_key.get(("eager", "fp32"))
    peer = by_key.get(("onnx", PEER_PRECISION))
    out: list[RoundRatio] = []
    for n, times in timings.items():
        for t in targets:
            if eager and t.label != eager:
                out.append(per_round(f"{t.label} / eager @{n}t", times[t.label], times[eager]))
        for t in targets:
            fp32 = by_key.get((t.format, "fp32"))
            if t.precision == "int8" and fp32:
                out.append(per_round(f"{t.label} / {fp32} @{n}t", times[t.label], times[fp32]))
            if t.precision == "int8" and peer:
                out.append(per_round(f"{t.label} / {peer} (ORT int8) @{n}t", times[t.label], times[peer]))
    one = timings.get(min(timings))
    for n, times in timings.items():
        if n != min(timings):
            out += [per_round(f"{t.label}: {min(timings)}t / {n}t (speed-up)", one[t.label], times[t.label])
                    for t in targets]
    return out


# --- tables -------------------------------------------------------------------------------------------

def markdown(report: BenchReport, skipped: list[Skipped], profile_keys: list[str]) -> str:
    """One thread count's table: median, min, CV, × eager (median of per-round ratios) and estimates."""
    eager = next((m for m in report.measurements if m.target.format == "eager"), None)
    heads = [f"est. {PROFILES[k].title} ms" for k in profile_keys]
    lines = ["| " + " | ".join(["format", "precision", "size MB", "median ms", "min ms", "CV", "× eager", *heads]) + " |",
             "|---|---|---|---|---|---|---|" + "---|" * len(heads)]
    for m in report.measurements:
        t, s = m.target, m.stats
        est = report.estimates.get(t.label, {})
        speed = "—"
        if s and eager and eager.stats:
            paired = per_round("", m.samples_ms, eager.samples_ms).per_round
            speed = f"{statistics.median(paired):.2f}" if paired else f"{s.median_ms / eager.stats.median_ms:.2f}"
        size = f"{t.size_mb:.1f}" if t.size_mb else "—"
        lines.append(f"| {FORMAT_TITLES.get(t.format, t.format)} | {t.precision} | {size} | {s.median_ms:.1f} | "
                     f"{s.min_ms:.1f} | {100 * s.cv:.1f}% | {speed} |"
                     + "".join(f" {est[k].ms:.1f} |" if k in est else " — |" for k in profile_keys))
    for sk in skipped:
        size = f"{sk.size_mb:.1f}" if sk.size_mb else "—"
        lines.append(f"| {sk.what} | {sk.precision} | {size} | not run: {sk.reason} |" + " |" * (3 + len(heads)))
    lines.append("")
    lines.append(f"Interleaved on host, {report.settings.threads} thread(s), {report.settings.runs} rounds after "
                 f"{report.settings.warmup} warm-up; × eager = median of per-round ratios; est. = {LABEL}.")
    return "\n".join(lines)


def ratio_markdown(ratios: Sequence[RoundRatio], rounds_shown: int = 12) -> str:
    """The ratios: median (min–max over rounds), then the first rounds' values themselves."""
    lines = ["| ratio | median (min–max over rounds) | round by round |", "|---|---|---|"]
    for r in ratios:
        shown = " ".join(f"{x:.2f}" for x in r.per_round[:rounds_shown])
        more = " …" if len(r.per_round) > rounds_shown else ""
        lines.append(f"| {r.name} | {r.cell()} | {shown}{more} |")
    return "\n".join(lines)


def reports_for(targets: Sequence[BenchTarget], timings: dict[int, dict[str, list[float]]], runs: int,
                warmup: int, profile_keys: Sequence[str]) -> dict[int, BenchReport]:
    """One BenchReport per thread count (the harness's JSON/CSV writers take it)."""
    out = {}
    for n, times in timings.items():
        settings = RunSettings(threads=n, runs=runs, warmup=warmup)
        report = BenchReport(device="host", settings=settings, comparison=times)
        report.measurements = [Measurement(t, "host", n, Stats.of(times[t.label]), samples_ms=tuple(times[t.label]))
                               for t in targets]
        report.estimates = estimates_for(targets, [PROFILES[k] for k in profile_keys], n)
        out[n] = report
    return out


# --- the command --------------------------------------------------------------------------------------

def parser(description: str = __doc__) -> argparse.ArgumentParser:
    """The measuring options (``bench.studies.mission_table`` adds its export options to these)."""
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reuse", type=Path, nargs="*", help="benchmark the artifacts in these folders")
    p.add_argument("--threads", default="1,2", help="comma-separated thread counts, interleaved (default: 1,2)")
    p.add_argument("--runs", type=int, default=20, help="rounds (default 20)")
    p.add_argument("--warmup", type=int, default=3, help="untimed rounds first (default 3)")
    p.add_argument("--gap-ms", type=float, default=50.0,
                   help="idle ms before every timed call, so the last runtime's spinning pool threads are asleep "
                        "(default 50; 0 runs calls back to back)")
    p.add_argument("--profiles", default="sd8gen2,sd8gen3,sd8elite", help="estimate columns ('none': no estimates)")
    p.add_argument("--table", type=Path, help="also write the markdown here (default: <first folder>/mission.md)")
    return p


def thread_counts(text: str) -> list[int]:
    try:
        counts = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        counts = []
    if not counts or min(counts) < 1:
        raise UsageError(f"--threads '{text}' is not a list of positive thread counts; pass e.g. --threads 1,2")
    return list(dict.fromkeys(counts))


def run_mission(paths: list[Path], args: argparse.Namespace, out_dir: Path, skipped: list[Skipped] = ()) -> int:
    """Time ``paths`` (+ eager) at every ``--threads`` count, interleaved; write the tables; print them."""
    keys = [] if args.profiles == "none" else [k.strip() for k in args.profiles.split(",") if k.strip()]
    threads = thread_counts(args.threads)
    try:
        targets, not_here = runnable(paths)
        skipped = [*skipped, *not_here]
        if not targets:
            print("mission: nothing to benchmark", file=sys.stderr)
            return 2
        targets.append(eager_twin(targets[0]))
        check_same_inputs(targets)
        timings, pools = interleave_threads(targets, threads, args.runs, args.warmup, lambda m: print(m, flush=True),
                                            args.gap_ms)
        reports = reports_for(targets, timings, args.runs, args.warmup, keys)
    except EdgeAVError as exc:
        print(f"mission: error: {exc}", file=sys.stderr)
        return 2
    parts = [f"### {n} thread(s)\n\n{markdown(reports[n], skipped, keys)}" for n in threads]
    parts.append("### Ratios (per round)\n\n" + ratio_markdown(mission_ratios(targets, timings)))
    parts.append("Pools per thread count (one worker process each): " + "; ".join(
        ", ".join(f"{k} {v}" for k, v in p.items()) for p in pools) + ".")
    table = "\n\n".join(parts)
    written = [p for n in threads for p in write_outputs(reports[n], out_dir, f"mission_{n}t")]
    md = write_text_atomically(args.table or out_dir / "mission.md", table + "\n")
    print(table)
    print("\n".join(f"wrote {w}" for w in [*written, md]))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    quiet_library_loggers()
    if not args.reuse:
        print("mission: pass --reuse FOLDER... (or export and run with python -m bench.studies.mission_table)",
              file=sys.stderr)
        return 2
    return run_mission([a for folder in args.reuse for a in artifacts_in(folder)], args, args.reuse[0])


if __name__ == "__main__":
    sys.exit(main())
