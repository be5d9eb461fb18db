"""`edgeav bench` loses nothing: a target that fails (unreadable, a stale manifest, a runtime crash, Ctrl-C) is
recorded with its one-line error in bench.json, the others keep their numbers, the exit code says it failed.

A fake device measures stand-in artifacts (real manifests, see tests/stand_ins.py) in milliseconds; the real
runtimes run in test_bench_cli.py.
"""
from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path

import pytest

from bench import request as bench_request
from bench.devices import Device, Measurement, RunSettings
from bench.stats import Stats
from bench.targets import BenchTarget, resolve_target
from edgeav.cli.main import main
from edgeav.files import size_of
from export_targets.manifest import manifest_path
from stand_ins import export, stand_ins, standin_structure  # noqa: F401  (fixtures)


class FakeDevice(Device):
    """Opens each target the way the host does (manifest verification included), then 'times' it."""

    crash_on: str = "crash"
    interrupt_on: str = "interrupt"
    measured: list[str] = []

    def measure(self, target: BenchTarget, settings: RunSettings) -> Measurement:
        if self.crash_on in target.label:
            raise RuntimeError("XNNPACK delegate failed: invalid tensor\n(C++ stack)")
        if self.interrupt_on in target.label:
            raise KeyboardInterrupt
        target.open(settings.threads)
        FakeDevice.measured.append(target.label)
        return Measurement(target, self.name, settings.threads, Stats.of([1.0, 2.0, 3.0]), samples_ms=(1.0, 2.0, 3.0))


@pytest.fixture
def dist(tiny_registry, stand_ins, standin_structure, tmp_path, monkeypatch) -> Path:
    """TinyAV exported (stand-ins) to .pte/.tflite/.onnx in dist/, benchmarked on the fake device."""
    FakeDevice.measured = []
    monkeypatch.setattr(bench_request, "get_device", lambda spec, runner_dir=None: FakeDevice(name=spec))
    export(tiny_registry, tmp_path / "dist", "executorch,litert,onnx")
    return tmp_path / "dist"


def bench(*targets: Path | str, out: Path) -> int:
    return main(["bench", *map(str, targets), "--runs", "3", "--warmup", "0", "--profiles", "none", "--out", str(out)])


def copy_artifact(src: Path, name: str) -> Path:
    dst = src.with_name(name)
    shutil.copy(src, dst)
    manifest = json.loads(manifest_path(src).read_text())
    manifest["artifact"] = name
    manifest_path(dst).write_text(json.dumps(manifest))
    return dst


def test_a_stale_manifest_is_recorded_and_the_other_artifacts_keep_their_numbers(dist, tmp_path, capsys) -> None:
    stale = copy_artifact(dist / "tinyav_small_fp32.tflite", "stale.tflite")
    manifest = json.loads(manifest_path(stale).read_text())
    manifest["io"]["inputs"][0]["shape"] = [1, 3, 96, 96]  # exported at another input size, artifact replaced since
    manifest_path(stale).write_text(json.dumps(manifest))
    out = tmp_path / "results"
    assert bench(dist / "tinyav_small_fp32.pte", stale, dist / "tinyav_small_fp32.onnx", out=out) == 2
    report = json.loads((out / "bench.json").read_text())
    by_label = {m["label"]: m for m in report["measurements"]}
    assert list(by_label) == ["tinyav_small_fp32.pte", "stale.tflite", "tinyav_small_fp32.onnx"]
    assert by_label["tinyav_small_fp32.pte"]["stats"]["runs"] == 3 and by_label["tinyav_small_fp32.onnx"]["stats"]
    assert by_label["stale.tflite"]["stats"] is None and report["failed"] == ["stale.tflite"]
    assert "it declares input 'frames' as float32 (1, 3, 96, 96)" in by_label["stale.tflite"]["error"]
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"edgeav: error: stale.tflite: {by_label['stale.tflite']['error']}"]


def test_a_runtime_crash_and_a_missing_manifest_are_one_line_each(dist, tmp_path, capsys) -> None:
    crash = copy_artifact(dist / "tinyav_small_fp32.onnx", "crash.onnx")
    orphan = dist / "orphan.pte"
    orphan.write_bytes(b"no manifest")
    out = tmp_path / "results"
    assert bench(crash, orphan, dist / "tinyav_small_fp32.pte", out=out) == 2
    errors = {m["label"]: m["error"] for m in json.loads((out / "bench.json").read_text())["measurements"]}
    assert errors["crash.onnx"] == "failed while measured: RuntimeError: XNNPACK delegate failed: invalid tensor"
    assert errors["orphan.pte"].startswith("orphan.pte.json is missing beside orphan.pte; re-export")
    assert errors["tinyav_small_fp32.pte"] == "" and FakeDevice.measured == ["tinyav_small_fp32.pte"]
    assert len(capsys.readouterr().err.strip().splitlines()) == 2


def test_ctrl_c_keeps_what_was_measured(dist, tmp_path) -> None:
    stop = copy_artifact(dist / "tinyav_small_fp32.onnx", "interrupt.onnx")
    out = tmp_path / "results"
    assert bench(dist / "tinyav_small_fp32.pte", stop, dist / "tinyav_small_fp32.onnx", out=out) == 130
    report = json.loads((out / "bench.json").read_text())
    assert report["interrupted"] and [bool(m["stats"]) for m in report["measurements"]] == [True, False, False]


def test_all_good_exits_0_and_records_no_failure(dist, tmp_path) -> None:
    out = tmp_path / "results"
    assert bench(dist / "tinyav_small_fp32.pte", dist / "tinyav_small_fp32.onnx", out=out) == 0
    assert json.loads((out / "bench.json").read_text())["failed"] == []


def test_an_unwritable_out_is_refused_before_anything_runs(dist, tmp_path, capsys, monkeypatch) -> None:
    def refuse(*args, **kwargs):  # tests run as root, which chmod cannot stop: the OS's answer, simulated
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(tmp_path / "ro"))

    monkeypatch.setattr("tempfile.mkstemp", refuse)
    assert bench(dist / "tinyav_small_fp32.pte", out=tmp_path / "ro") == 2
    assert capsys.readouterr().err.strip() == (f"edgeav: error: {tmp_path / 'ro'}: read-only file system; "
                                               "choose a writable --out")
    assert FakeDevice.measured == []


def test_bench_reports_the_artifacts_real_size_not_the_manifests(dist) -> None:
    path = dist / "tinyav_small_fp32.onnx"
    assert resolve_target(path).size_mb == path.stat().st_size / 1e6
    claimed = BenchTarget(label=path.name, format="onnx", model="tinyav", config="small", precision="fp32", path=path,
                          manifest={**json.loads(manifest_path(path).read_text()), "size_bytes": 123_000_000})
    assert claimed.size_mb == path.stat().st_size / 1e6


def test_a_manifest_claiming_another_size_is_refused_before_it_runs(dist, tmp_path) -> None:
    path = dist / "tinyav_small_fp32.onnx"
    manifest = json.loads(manifest_path(path).read_text())
    manifest_path(path).write_text(json.dumps({**manifest, "size_bytes": 123_000_000}))
    out = tmp_path / "results"
    assert bench(path, out=out) == 2 and FakeDevice.measured == []
    (m,) = json.loads((out / "bench.json").read_text())["measurements"]
    assert m["error"].endswith("16 bytes, the manifest says 123000000; re-export the artifact (`edgeav export` "
                               "writes both), or remove the stale manifest")


def test_a_packages_size_is_its_whole_tree(tmp_path) -> None:
    pkg = tmp_path / "m.mlpackage"
    (pkg / "Data").mkdir(parents=True)
    (pkg / "Data" / "weights.bin").write_bytes(b"w" * 1000)
    (pkg / "Manifest.json").write_text("{}")
    target = BenchTarget(label="m.mlpackage", format="coreml", model="m", config="c", precision="fp16", path=pkg)
    assert size_of(pkg) == 1002 and target.size_mb == 1002 / 1e6


@pytest.mark.converter
def test_on_the_host_a_corrupt_artifact_is_recorded_and_the_real_one_measured(tiny_artifacts, tiny_registry,
                                                                            tmp_path) -> None:
    bad = tmp_path / "bad.onnx"
    shutil.copy(tiny_artifacts["onnx"], bad)
    manifest = json.loads(manifest_path(tiny_artifacts["onnx"]).read_text())
    manifest_path(bad).write_text(json.dumps({**manifest, "artifact": "bad.onnx"}))
    data = bytearray(bad.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad.write_bytes(bytes(data))
    out = tmp_path / "results"
    assert bench(tiny_artifacts["executorch"], bad, out=out) == 2
    pte, onnx = json.loads((out / "bench.json").read_text())["measurements"]
    assert pte["stats"]["runs"] == 3 and pte["size_mb"] == tiny_artifacts["executorch"].stat().st_size / 1e6
    assert onnx["stats"] is None and "changed or corrupted since export" in onnx["error"]
