"""bench/studies/thread_scaling.py: the speed-up is taken round by round, and the probe targets open and feed."""
from __future__ import annotations

import pytest

from bench.studies.thread_scaling import gemm_targets, speedups


def test_speedups_are_medians_of_per_round_ratios() -> None:
    times = {1: {"g.pte": [10.0, 12.0, 30.0]}, 2: {"g.pte": [5.0, 8.0, 10.0]}}
    (name, r), = speedups(times).items()
    assert name == "g.pte: 1t / 2t"
    assert (r["median"], r["min"], r["max"], r["rounds"]) == (2.0, 1.5, 3.0, 3)  # ratios 2.0, 1.5, 3.0
    assert r["ms_1t"] == 12.0 and r["ms_2t"] == 8.0


@pytest.mark.converter
def test_gemm_probe_targets_run_at_fp32_and_int8(tmp_path) -> None:
    targets = gemm_targets(tmp_path, n=64)
    assert [t.precision for t in targets] == ["fp32", "int8"]
    for t in targets:
        runner = t.open(1)
        out = runner.invoke(runner.prepare(t.inputs()))
        assert tuple(out[0].shape) == (1, 64, 64)
