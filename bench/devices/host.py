"""``host``: this machine, in process, with the process pinned to as many cores as threads."""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import numpy as np

from bench.devices.base import Device, Measurement, RunSettings
from bench.stats import Stats, interleaved, timed_runs
from bench.targets import BenchTarget
from bench.torch_threads import set_torch_threads_for, with_torch_threads
from edgeav.errors import EdgeAVError, ExportError
from edgeav.files import one_line


@contextlib.contextmanager
def pinned(threads: int) -> Iterator[tuple[int, ...]]:
    """Pin this process to ``threads`` of its allowed CPUs (fewer if it has fewer); restore afterwards.

    Pinning keeps the scheduler from moving the runtime's threads between cores mid-run, which is a
    large part of run-to-run noise on small machines.
    """
    if not hasattr(os, "sched_getaffinity"):
        yield ()
        return
    allowed = sorted(os.sched_getaffinity(0))
    chosen = tuple(allowed[: max(1, min(threads, len(allowed)))])
    os.sched_setaffinity(0, chosen)
    try:
        yield chosen
    finally:
        os.sched_setaffinity(0, allowed)


class HostDevice(Device):
    def measure(self, target: BenchTarget, settings: RunSettings) -> Measurement:
        notes: list[str] = []
        with pinned(settings.threads) as cpus:
            if len(cpus) < settings.threads:
                notes.append(f"{settings.threads} threads on {len(cpus)} CPUs: oversubscribed")
            try:
                runner = target.open(settings.threads)
                inputs = target.inputs()
                feed = runner.prepare(inputs)
                call = with_torch_threads(target.format, settings.threads, lambda: runner.invoke(feed))
                _check_finite(runner.outputs(call()), target.label)
                samples = timed_runs(call, settings.runs, settings.warmup)
            except EdgeAVError as exc:
                return Measurement(target, self.name, settings.threads, None, error=str(exc))
            profile = None
            if settings.per_op:
                try:
                    set_torch_threads_for(target.format, settings.threads)  # as the timed runs had it
                    profile = runner.profile(inputs, runs=settings.per_op_runs, warmup=min(settings.warmup, 3))
                except EdgeAVError as exc:
                    notes.append(f"per-op: {exc}")
                except Exception as exc:  # a profiler failing must not lose the whole-run numbers
                    notes.append(f"per-op failed: {one_line(exc)}")
        return Measurement(target, self.name, settings.threads, Stats.of(samples), profile,
                           tuple(samples), tuple(notes))

    def compare(self, targets: list[BenchTarget], settings: RunSettings) -> dict[str, list[float]]:
        with pinned(settings.threads):
            calls = {}
            for t in targets:
                runner = t.open(settings.threads)
                feed = runner.prepare(t.inputs())
                calls[t.label] = with_torch_threads(t.format, settings.threads, lambda r=runner, f=feed: r.invoke(f))
            return interleaved(calls, settings.runs, settings.warmup)


def _check_finite(outputs: list[np.ndarray], label: str) -> None:
    for out in outputs:
        if np.issubdtype(out.dtype, np.floating) and not np.all(np.isfinite(out)):
            raise ExportError(f"{label} returns NaN/inf on a realistic input; re-export and check parity")
