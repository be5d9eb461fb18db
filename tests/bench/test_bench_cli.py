"""`edgeav bench`: option errors are one line; a real run prints per-op tables and writes JSON/CSV/PNG."""
from __future__ import annotations

import csv
import json
import statistics

import pytest

from edgeav.cli.main import main


@pytest.mark.parametrize(("argv", "message"), [
    (["x.pte", "--runs", "0"], "--runs must be at least 1"),
    (["x.pte", "--device", "phone"], "unknown device 'phone'"),
    (["x.pte", "--profiles", "sd888"], "unknown device profile 'sd888'"),
    (["x.pte", "--compare"], "--compare needs at least two targets"),
    (["missing.pte"], "does not exist"),
    (["model.bin"], "not an artifact edgeav knows"),
])
def test_bad_options_fail_in_one_line(argv, message, capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["bench", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("edgeav: error:") and message in err and "\n" not in err


def test_artifact_without_manifest_names_the_fix(tmp_path, capsys) -> None:
    (tmp_path / "m.onnx").write_bytes(b"")
    assert main(["bench", str(tmp_path / "m.onnx")]) == 2
    assert "re-export" in capsys.readouterr().err


@pytest.mark.converter
def test_bench_prints_per_op_tables_and_writes_json_csv_png(tiny_artifacts, tiny_registry, tmp_path, capfd) -> None:
    out = tmp_path / "results"
    argv = ["bench", *(str(tiny_artifacts[f]) for f in ("executorch", "litert", "onnx")), "--eager",
            "--runs", "5", "--warmup", "1", "--per-op", "--per-op-runs", "2", "--top", "3", "--out", str(out)]
    assert main(argv) == 0
    text, err = capfd.readouterr()
    assert "cpuinfo_utils" not in text + err  # the runtimes' own log lines stay hidden without --verbose
    for title in ("(ExecuTorch)", "(LiteRT)", "(ONNX Runtime)", "(PyTorch eager)", "op isolation", "est. 8 Elite"):
        assert title in text
    data = json.loads((out / "bench.json").read_text())
    assert [m["format"] for m in data["measurements"]] == ["executorch", "litert", "onnx", "eager"]
    assert all(m["stats"]["runs"] == 5 and m["per_op"]["records"] for m in data["measurements"])
    assert set(data["estimates"]["tinyav_small_fp32.pte"]) == {"sd8gen2", "sd8gen3", "sd8elite"}
    rows = list(csv.DictReader((out / "bench.csv").open()))
    assert len(rows) == 4 and float(rows[0]["median_ms"]) > 0
    assert (out / "bench_ops.png").read_bytes()[:4] == b"\x89PNG"
    assert len(list(csv.DictReader((out / "bench_ops.csv").open()))) > 10


@pytest.mark.converter
def test_compare_interleaves_and_reports_ratios(tiny_artifacts, tiny_registry, tmp_path, capsys) -> None:
    argv = ["bench", str(tiny_artifacts["executorch"]), str(tiny_artifacts["onnx"]), "--compare",
            "--runs", "6", "--warmup", "1", "--out", str(tmp_path)]
    assert main(argv) == 0
    assert "interleaved comparison" in capsys.readouterr().out
    cmp = json.loads((tmp_path / "compare.json").read_text())["comparison"]
    timings = cmp["timings_ms"]
    assert {len(v) for v in timings.values()} == {6} and len(timings) == 2
    base, other = (timings[name] for name in timings)  # the first target is the baseline
    (ratio,) = [r for r in cmp["ratios"] if r["name"] != r["baseline"]]
    assert ratio["of_medians"] == pytest.approx(statistics.median(other) / statistics.median(base))
    assert ratio["paired_median"] == pytest.approx(statistics.median(o / b for o, b in zip(other, base)))
