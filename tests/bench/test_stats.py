import statistics

import numpy as np
import pytest

from bench.stats import Stats, interleaved, percentile, ratios


def test_stats_summarise_median_p90_min_and_cv() -> None:
    xs = [10.0, 12.0, 11.0, 30.0, 10.5]
    s = Stats.of(xs)
    assert (s.runs, s.median_ms, s.min_ms) == (5, 11.0, 10.0)
    assert s.p90_ms == pytest.approx(np.percentile(xs, 90))
    assert s.cv == pytest.approx(statistics.stdev(xs) / statistics.fmean(xs))
    assert s.fps == pytest.approx(1000 / 11.0) and s.noisy


def test_percentile_matches_numpy_linear_interpolation() -> None:
    xs = sorted(np.random.default_rng(0).uniform(0, 100, 37).tolist())
    for q in (0, 10, 50, 90, 99, 100):
        assert percentile(xs, q) == pytest.approx(np.percentile(xs, q))


def test_one_run_has_zero_cv_and_empty_input_is_rejected() -> None:
    assert Stats.of([3.0]).cv == 0.0
    with pytest.raises(ValueError):
        Stats.of([])


def test_interleaving_rotates_which_candidate_goes_first() -> None:
    calls: list[str] = []
    fns = {name: (lambda n=name: calls.append(n)) for name in ("a", "b", "c")}
    out = interleaved(fns, runs=3, warmup=1)
    assert {k: len(v) for k, v in out.items()} == {"a": 3, "b": 3, "c": 3}
    rounds = [calls[i:i + 3] for i in range(3, 12, 3)]  # after one warm-up round
    assert [r[0] for r in rounds] == ["a", "b", "c"]


def test_paired_ratio_cancels_a_slow_phase_that_hits_both() -> None:
    base = [10.0, 10.0, 50.0, 10.0]  # round 3: the machine was busy for everyone
    fast = [5.0, 5.0, 25.0, 5.0]
    by_name = {r.name: r for r in ratios({"base": base, "fast": fast}, baseline="base")}
    assert by_name["fast"].paired_median == pytest.approx(0.5)
    assert by_name["base"].of_medians == pytest.approx(1.0)


class FakeClock:
    """perf_counter_ns that advances only when the timed call runs: each call costs the next planned ms."""

    def __init__(self, planned_ms: list[float]) -> None:
        self.now, self.planned = 0, list(planned_ms)

    def __call__(self) -> int:
        return self.now

    def run(self, *_: object) -> None:
        self.now += int(self.planned.pop(0) * 1e6)


def test_reference_table_latency_is_the_harness_median(monkeypatch: pytest.MonkeyPatch) -> None:
    from bench import stats
    from bench.studies.int8_table import latency_ms

    clock = FakeClock([100.0, 100.0, 7.0, 3.0, 9.0, 4.0, 5.0])  # two warm-ups (slow, ignored), five timed runs
    monkeypatch.setattr(stats.time, "perf_counter_ns", clock)
    calls: list[tuple] = []
    ms = latency_ms(lambda inputs: (calls.append(inputs), clock.run()), ("x",), runs=5, warmup=2)
    assert len(calls) == 7 and all(c == ("x",) for c in calls)
    assert ms == pytest.approx(5.0)  # the median of 7, 3, 9, 4, 5: the warm-ups are not in it


def test_interleaved_ratios_follow_the_measured_times(monkeypatch: pytest.MonkeyPatch) -> None:
    from bench import stats

    clock = FakeClock([])
    monkeypatch.setattr(stats.time, "perf_counter_ns", clock)
    cost = {"base": 10.0, "half": 5.0}
    fns = {name: (lambda n=name: (clock.planned.append(cost[n]), clock.run())) for name in cost}
    timings = interleaved(fns, runs=4, warmup=1)
    assert timings == {"base": [10.0] * 4, "half": [5.0] * 4}
    by_name = {r.name: r for r in ratios(timings, baseline="base")}
    assert by_name["half"].of_medians == pytest.approx(0.5) and by_name["half"].paired_median == pytest.approx(0.5)
