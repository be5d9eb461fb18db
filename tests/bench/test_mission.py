"""bench/studies/mission_table.py's table: artifacts that cannot run here are listed like the timed rows."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from bench.devices import RunSettings
from bench.harness import BenchReport
from bench.mission import artifacts_in, markdown, runnable


def _mlpackage(folder: Path) -> Path:
    package = folder / "tiny_small_w8a16.mlpackage"
    (package / "Data").mkdir(parents=True)
    manifest = {"model": "tiny-av", "config_name": "small", "precision": "w8a16", "size_bytes": 12_345_678}
    (folder / (package.name + ".json")).write_text(json.dumps(manifest))
    return package


@pytest.mark.skipif(sys.platform == "darwin", reason="Core ML runs on macOS, so it is timed there, not listed")
def test_core_ml_row_names_format_precision_and_size(tmp_path: Path) -> None:
    package = _mlpackage(tmp_path)
    assert artifacts_in(tmp_path) == [package]
    targets, skipped = runnable([package])
    assert targets == []
    table = markdown(BenchReport(device="host", settings=RunSettings(runs=3, warmup=1)), skipped, ["sd8gen2"])
    row = next(line for line in table.splitlines() if "not run" in line)
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[:3] == ["Core ML .mlpackage", "w8a16", "12.3"]
    assert cells[3] == "not run: Core ML runs only on macOS"
    assert len(cells) == len(table.splitlines()[0].strip("|").split("|"))  # as many cells as the header


def test_ratios_are_taken_round_by_round_for_eager_int8_peer_and_threads() -> None:
    from bench.mission import PEER_PRECISION, mission_ratios
    from bench.targets import BenchTarget

    def target(label: str, fmt: str, precision: str) -> BenchTarget:
        return BenchTarget(label=label, format=fmt, model="m", config="c", precision=precision)

    targets = [target("a.pte", "executorch", "fp32"), target("b.pte", "executorch", "int8"),
               target("c.onnx", "onnx", PEER_PRECISION), target("eager", "eager", "fp32")]
    one = {"a.pte": [4.0, 8.0, 4.0], "b.pte": [1.0, 4.0, 1.0], "c.onnx": [2.0, 2.0, 4.0], "eager": [8.0, 8.0, 8.0]}
    two = {k: [x / 2 for x in v] for k, v in one.items()}
    ratios = {r.name: r for r in mission_ratios(targets, {1: one, 2: two})}
    assert ratios["a.pte / eager @1t"].per_round == (0.5, 1.0, 0.5)
    assert ratios["b.pte / a.pte @1t"].per_round == (0.25, 0.5, 0.25)  # int8 / fp32 of the same format
    assert ratios["b.pte / c.onnx (ORT int8) @2t"].median == 0.5
    assert ratios["a.pte: 1t / 2t (speed-up)"].per_round == (2.0, 2.0, 2.0)
    assert ratios["b.pte / a.pte @1t"].cell() == "0.25 (0.25–0.50)"
    assert "c.onnx / a.pte @1t" not in ratios  # the peer is no int8 of edgeav's fp32 format


@pytest.mark.parametrize("text", ["", "0", "1,x", "-1"])
def test_bad_thread_lists_name_the_fix(text: str) -> None:
    from bench.mission import thread_counts
    from edgeav.errors import UsageError

    with pytest.raises(UsageError, match="--threads 1,2"):
        thread_counts(text)


class _Runner:
    def prepare(self, inputs):
        return inputs

    def invoke(self, feed):
        return None


class _Target:
    """A picklable stand-in for a BenchTarget: the worker processes open it at their thread count."""

    label = "x"
    format = "eager"

    def open(self, threads: int) -> _Runner:
        import torch

        assert torch.get_num_threads() >= 1
        return _Runner()

    def inputs(self):
        return ()


def test_each_thread_count_runs_in_its_own_worker_with_its_pools_set() -> None:
    from bench.mission import interleave_threads

    timings, pools = interleave_threads([_Target()], [1, 2], runs=3, warmup=1)
    assert {n: len(v["x"]) for n, v in timings.items()} == {1: 3, 2: 3}
    assert [p["threads"] for p in pools] == [1, 2]
    assert [p["torch"] for p in pools] == [1, 2]  # torch's process-wide pool, set in each worker


def test_a_worker_that_fails_to_open_names_what_failed() -> None:
    from bench.mission import interleave_threads
    from edgeav.errors import ExportError

    with pytest.raises(ExportError, match="opening the artifacts at 1 thread"):
        interleave_threads([object()], [1], runs=1, warmup=0)


def test_bounds_rows_split_converts_layouts_and_time_outside_ops() -> None:
    from bench.op_bounds import bounds_rows
    from export_targets.runtime import OpProfile, OpRecord

    def rec(op_type: str, ms: float) -> OpRecord:
        return OpRecord(name=op_type, op_type=op_type, backend="XNNPACK", delegated=True, ms=ms)

    profile = OpProfile("ExecuTorch", "etdump", (rec("Convolution (NHWC, F32) IGEMM", 2.0),
                                                rec("Convert (NC, F32, QS8)", 0.5), rec("Transpose (ND, X32)", 0.25)),
                        runs=3, total_ms=4.0)
    rows = {r[0]: r for r in bounds_rows(profile, {"conv": 100e6}, peak_gflops=100.0)}
    assert rows["conv"][3] == pytest.approx(1.0)  # 100 MFLOP at 100 GFLOP/s
    assert rows["converts (int8 ↔ fp32)"][2] == 0.5 and rows["layout copies"][3] == 0.0
    assert rows["outside ops (dispatch, delegate boundaries)"][2] == pytest.approx(1.25)


def test_two_artifacts_of_one_name_get_their_folder_in_the_label(tiny_artifacts, tiny_registry, tmp_path: Path) -> None:
    import shutil

    pte = tiny_artifacts["executorch"]
    copies = []
    for plan in ("int8", "int8-cost"):  # e.g. two int8 plans of one model, each exported into its own folder
        (tmp_path / plan).mkdir()
        for f in (pte, pte.with_name(pte.name + ".json")):
            shutil.copy(f, tmp_path / plan / f.name)
        copies.append(tmp_path / plan / pte.name)
    targets, _ = runnable([pte, *copies])
    assert [t.label for t in targets] == [f"{pte.parent.name}/{pte.name}", f"int8/{pte.name}", f"int8-cost/{pte.name}"]
    alone, _ = runnable([pte])
    assert alone[0].label == pte.name  # a unique name stays as it is


def test_artifacts_run_with_torch_at_one_thread_and_eager_at_the_asked_count() -> None:
    import torch

    from bench.torch_threads import with_torch_threads

    seen = []
    before = torch.get_num_threads()
    try:
        with_torch_threads("executorch", 2, lambda: seen.append(torch.get_num_threads()))()
        with_torch_threads("eager", 2, lambda: seen.append(torch.get_num_threads()))()
    finally:
        torch.set_num_threads(before)
    assert seen == [1, 2]  # torch only copies tensors for a runtime: its spinning threads would take its cores


def test_each_timed_call_waits_the_gap_first() -> None:
    import time

    from bench.mission import _after_gap

    start = time.perf_counter()
    ms = _after_gap(lambda: time.sleep(0.01), 0.05)
    assert time.perf_counter() - start >= 0.06 and 9 <= ms < 50  # the gap is idle time, not in the timing
