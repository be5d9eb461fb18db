"""Timing statistics that survive a noisy machine: warm-up, N runs, median/p90/min, CV, interleaving.

Medians and minimums, not means: a shared CPU adds one-sided noise (another process steals a slice),
so the median is the typical run and the minimum the least disturbed one. The coefficient of variation
(stdev / mean) says how much to trust the pair. Side-by-side comparisons interleave the candidates run
by run, so slow phases of the machine hit all of them alike, and report the median of per-round ratios.
"""
from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

# A CV above this is flagged in reports: the machine was too busy for the numbers to mean much.
NOISY_CV = 0.10


@dataclass(frozen=True)
class Stats:
    """Summary of ``runs`` timed runs, in milliseconds."""

    runs: int
    median_ms: float
    p90_ms: float
    min_ms: float
    mean_ms: float
    cv: float  # coefficient of variation: stdev / mean (0 for one run)

    @classmethod
    def of(cls, samples_ms: Sequence[float]) -> Stats:
        if not samples_ms:
            raise ValueError("no timings to summarise")
        xs = sorted(float(x) for x in samples_ms)
        mean = statistics.fmean(xs)
        cv = statistics.stdev(xs) / mean if len(xs) > 1 and mean > 0 else 0.0
        return cls(runs=len(xs), median_ms=statistics.median(xs), p90_ms=percentile(xs, 90.0),
                   min_ms=xs[0], mean_ms=mean, cv=cv)

    @property
    def fps(self) -> float:
        return 1000.0 / self.median_ms if self.median_ms > 0 else math.inf

    @property
    def noisy(self) -> bool:
        return self.cv > NOISY_CV

    def to_dict(self) -> dict[str, float | int]:
        return {"runs": self.runs, "median_ms": self.median_ms, "p90_ms": self.p90_ms, "min_ms": self.min_ms,
                "mean_ms": self.mean_ms, "cv": self.cv, "fps": self.fps}


def percentile(sorted_xs: Sequence[float], q: float) -> float:
    """The ``q``-th percentile with linear interpolation between closest ranks (numpy's default)."""
    if not sorted_xs:
        raise ValueError("no values")
    pos = (len(sorted_xs) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return sorted_xs[lo] + (sorted_xs[hi] - sorted_xs[lo]) * (pos - lo)


def time_ms(fn: Callable[[], object]) -> float:
    start = time.perf_counter_ns()
    fn()
    return (time.perf_counter_ns() - start) / 1e6


def timed_runs(fn: Callable[[], object], runs: int, warmup: int) -> list[float]:
    """``warmup`` untimed calls, then the times (ms) of ``runs`` timed ones."""
    for _ in range(warmup):
        fn()
    return [time_ms(fn) for _ in range(runs)]


def interleaved(fns: Mapping[str, Callable[[], object]], runs: int, warmup: int) -> dict[str, list[float]]:
    """Per-name timings (ms) taken round by round; each round starts with a different candidate."""
    names = list(fns)
    for _ in range(warmup):
        for name in names:
            fns[name]()
    out: dict[str, list[float]] = {name: [] for name in names}
    for r in range(runs):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            out[name].append(time_ms(fns[name]))
    return out


@dataclass(frozen=True)
class Ratio:
    """How ``name`` compares with the baseline: ratio of medians and median of per-round ratios."""

    name: str
    baseline: str
    of_medians: float
    paired_median: float  # robust to machine phases: each round's ratio, then the median


def ratios(timings: Mapping[str, Sequence[float]], baseline: str) -> list[Ratio]:
    """Ratios of every candidate to ``baseline`` (>1 = slower than the baseline)."""
    base = timings[baseline]
    base_med = statistics.median(base)
    out = []
    for name, xs in timings.items():
        paired = statistics.median(x / b for x, b in zip(xs, base) if b > 0)
        out.append(Ratio(name=name, baseline=baseline, of_medians=statistics.median(xs) / base_med,
                         paired_median=paired))
    return out
