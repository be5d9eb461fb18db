"""export_model's mechanics with stand-in converters: files, manifests, all-or-nothing, error messages.

The real converters are exercised in test_real_exports.py (slow); here each format is replaced by an
in-memory stand-in so every path runs in milliseconds.
"""
from __future__ import annotations

import dataclasses
import errno
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch

from edgeav.errors import ExportError, InputShapeError, Interrupted, ParityError, StorageError
from export_targets import pipeline
from export_targets.request import ExportRequest, ExportSubject
from stand_ins import StandIn, export, stand_ins, visible  # noqa: F401  (stand_ins is a fixture)

MANIFEST_FIELDS = {
    "model", "config", "version", "target", "precision", "io", "sha256", "size_bytes", "tools",
    "rewrites", "warnings", "lowering", "parity", "export_seconds", "weights", "ops", "artifact_io",
}


def test_writes_artifact_and_manifest_per_format(tiny_av_entry, stand_ins, tmp_path: Path) -> None:
    results = export(tiny_av_entry, tmp_path / "dist", "all")
    assert [r.format for r in results] == ["executorch", "litert", "coreml", "onnx"]
    assert visible(tmp_path / "dist") == sorted(
        n for r in results for n in (r.path.name, r.manifest_path.name)
    )
    assert results[2].path.name == "tinyav_small_fp16.mlpackage"


def test_manifest_fields_and_sha256(tiny_av_entry, stand_ins, tmp_path: Path) -> None:
    result = export(tiny_av_entry, tmp_path, "executorch", weights={"source": "checkpoint", "sha256": "ab"})[0]
    manifest = json.loads(result.manifest_path.read_text())
    assert MANIFEST_FIELDS <= set(manifest)
    assert manifest["sha256"] == hashlib.sha256(result.path.read_bytes()).hexdigest()
    assert manifest["io"]["sample_rate"] == 16000 and manifest["io"]["samples_per_frame"] == 16000
    assert [t["name"] for t in manifest["io"]["inputs"]] == ["frames", "pcm"]
    assert manifest["io"]["inputs"][0]["layout"] == "NCHW RGB"
    assert manifest["rewrites"] == {"adaptive_max_pool_to_max_pool": 1, "fold_conv_batchnorm": 1}
    assert manifest["parity"]["status"] == "passed" and manifest["parity"]["samples"] == 2
    assert manifest["weights"]["source"] == "checkpoint"
    assert manifest["ops"] == ["conv"]


def test_coreml_parity_is_skipped_with_reason_off_macos(tiny_av_entry, stand_ins, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr("sys.platform", "linux")
    result = export(tiny_av_entry, tmp_path, "coreml")[0]
    assert result.parity.summary() == "skipped: Core ML runs only on macOS"


def test_converter_failure_leaves_no_files(tiny_av_entry, stand_ins, tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "old.txt").write_text("keep")
    original_lower = StandIn.lower

    def lower(self, *args, **kwargs):
        if self.info.name == "litert":  # second of android: the first is already staged
            self.fail_with = RuntimeError("Lowering not found: aten.adaptive_max_pool2d.default\nmore")
        return original_lower(self, *args, **kwargs)

    monkeypatch.setattr(StandIn, "lower", lower)
    with pytest.raises(ExportError) as info:
        export(tiny_av_entry, tmp_path, "android")
    msg = str(info.value)
    assert msg.startswith("litert lowering failed (RuntimeError: Lowering not found") and "\n" not in msg
    assert "AdaptiveMaxPool2d(1)" in msg  # the hint
    assert visible(tmp_path) == ["old.txt"]


def test_failure_in_new_out_dir_removes_it(tiny_av_entry, stand_ins, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(StandIn, "fail_with", RuntimeError("boom"))
    with pytest.raises(ExportError):
        export(tiny_av_entry, tmp_path / "new" / "dist", "onnx")
    assert visible(tmp_path) == []


def test_parity_failure_publishes_nothing(tiny_av_entry, stand_ins, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(StandIn, "noise", 0.5)
    with pytest.raises(ParityError, match=r"onnx artifact tinyav_small_fp32\.onnx: SQNR .* < 40 dB"):
        export(tiny_av_entry, tmp_path, "onnx")
    assert visible(tmp_path) == []


def test_artifact_interface_mismatch_is_an_export_error(tiny_av_entry, stand_ins, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(StandIn, "input_shape_override", (1, 3, 32, 32))
    with pytest.raises(ExportError, match=r"input 0 \('frames'\) has shape \(1, 3, 32, 32\), expected \(1, 3, 64, 64\)"):
        export(tiny_av_entry, tmp_path, "onnx")
    assert visible(tmp_path) == []


def test_runtime_refusing_a_fresh_artifact_blames_the_conversion(tiny_av_entry, stand_ins, tmp_path, monkeypatch) -> None:
    # e.g. TFLite's int8 SOFTMAX refusing an output scale: re-exporting the same input would fail the same way.
    def refuse(self, path, io_spec=None):
        try:
            raise RuntimeError("Node number 349 (SOFTMAX) failed to prepare.")
        except RuntimeError as exc:
            raise ExportError(f"LiteRT cannot load {path.name} (…); re-export it") from exc

    monkeypatch.setattr(StandIn, "load", refuse)
    with pytest.raises(ExportError, match=r"^onnx: the runtime refuses the tinyav_small_fp32\.onnx just converted "
                                          r"\(RuntimeError: Node number 349 \(SOFTMAX\).*conversion problem") as err:
        export(tiny_av_entry, tmp_path, "onnx")
    assert "re-export" not in str(err.value) and visible(tmp_path) == []


def test_samples_of_the_wrong_shape_are_rejected_before_lowering(tiny_av_entry, stand_ins, tmp_path) -> None:
    def bad_samples(config, n, seed):
        return [(torch.zeros(1, 3, 32, 32), torch.zeros(1, 16000))] * n

    entry = dataclasses.replace(tiny_av_entry, samples=bad_samples)
    with pytest.raises(InputShapeError, match=r"'frames' has shape \(1, 3, 32, 32\), expected \(1, 3, 64, 64\)"):
        export(entry, tmp_path, "onnx")
    assert stand_ins == {} and visible(tmp_path) == []


def test_progress_reports_every_stage_per_format(tiny_av_entry, stand_ins, tmp_path: Path) -> None:
    seen: list[tuple[str, str]] = []
    export(tiny_av_entry, tmp_path, "onnx", progress=lambda f, s: seen.append((f, s)))
    assert seen == [("onnx", s) for s in pipeline.STAGES]


class NaNModel(torch.nn.Module):
    """TinyAV's interface, NaN where the mask should be (a diverged checkpoint)."""

    def __init__(self, inner: torch.nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, frames, pcm):
        return self.inner(frames, pcm) * float("nan")


def test_nan_model_outputs_are_the_models_fault_in_one_line(tiny_av_entry, stand_ins, tmp_path) -> None:
    subject = ExportSubject.from_entry(tiny_av_entry, NaNModel(tiny_av_entry.build()))
    with pytest.raises(ExportError) as err:
        pipeline.export_model(subject, ExportRequest("onnx", tmp_path, samples=2, jobs=1))
    assert str(err.value).startswith("model 'tinyav' returns NaN/inf in output 'mask' on realistic sample 0 in PyTorch")
    assert "\n" not in str(err.value) and stand_ins == {} and visible(tmp_path) == []


def test_nan_artifact_outputs_fail_parity_in_one_line(tiny_av_entry, stand_ins, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(StandIn, "noise", float("nan"))
    with pytest.raises(ParityError) as err:
        export(tiny_av_entry, tmp_path, "onnx")
    assert str(err.value) == ("onnx artifact tinyav_small_fp32.onnx: outputs contain NaN/inf where PyTorch is finite; "
                              "look for log/div of 0")
    assert visible(tmp_path) == []


@pytest.mark.parametrize(("change", "message"), [
    (lambda ins: ins[:1], r"onnx artifact has 1 inputs, the IOSpec has 2 \(frames, pcm\); the converter changed"),
    (lambda ins: [dataclasses.replace(ins[0], name="x"), ins[1]], r"input 0 \('frames'\) is named 'x'"),
    (lambda ins: [dataclasses.replace(ins[0], dtype="float16"), ins[1]],
     r"input 0 \('frames'\) has dtype float16, expected float32"),
    (lambda ins: [ins[0], dataclasses.replace(ins[1], shape=(1, 8000))],
     r"input 1 \('pcm'\) has shape \(1, 8000\), expected \(1, 16000\)"),
])
def test_artifact_interfaces_unlike_the_iospec_are_one_line(tiny_av_entry, stand_ins, tmp_path, monkeypatch,
                                                           change, message) -> None:
    original = StandIn.inspect

    def inspect(self, path):
        s = original(self, path)
        return dataclasses.replace(s, inputs=tuple(change(list(s.inputs))))

    monkeypatch.setattr(StandIn, "inspect", inspect)
    with pytest.raises(ExportError, match=message) as err:
        export(tiny_av_entry, tmp_path, "onnx")
    assert "\n" not in str(err.value) and visible(tmp_path) == []


def test_disk_full_while_lowering_names_the_folder_not_another_target(tiny_av_entry, stand_ins, tmp_path,
                                                                      monkeypatch) -> None:
    monkeypatch.setattr(StandIn, "fail_with", RuntimeError("flatbuffer write: No space left on device"))
    with pytest.raises(StorageError) as err:
        export(tiny_av_entry, tmp_path / "dist", "onnx")
    assert str(err.value) == (f"onnx lowering could not write its artifact: {tmp_path / 'dist'}: no space left on "
                              "the device; free space there or choose another --out")
    assert visible(tmp_path) == []


@pytest.mark.parametrize(("code", "what"), [(errno.EACCES, "permission denied"), (errno.EROFS, "read-only file system")])
def test_an_unwritable_out_is_one_line_naming_it(tiny_av_entry, stand_ins, tmp_path, monkeypatch, code, what) -> None:
    def refuse(*args, **kwargs):  # tests run as root, which chmod cannot stop: the OS's answer, simulated
        raise OSError(code, os.strerror(code), str(tmp_path / "ro"))

    monkeypatch.setattr("tempfile.mkdtemp", refuse)
    with pytest.raises(StorageError, match=rf"^{re.escape(str(tmp_path / 'ro'))}: {what}; "):
        export(tiny_av_entry, tmp_path / "ro", "onnx")
    assert stand_ins == {} and visible(tmp_path) == []


@pytest.fixture
def worker_pids(tmp_path, monkeypatch) -> Path:
    """Where the stand-in workers (tests/export_targets/workers_for_tests.py) say they are lowering."""
    pids = tmp_path / "pids"
    pids.mkdir()
    monkeypatch.setenv("EDGEAV_TEST_PIDS", str(pids))
    return pids


def assert_stopped(pids: Path, formats: tuple[str, ...]) -> None:
    for fmt in formats:
        with pytest.raises(ProcessLookupError):  # it was lowering (half an artifact written) and is gone
            os.kill(int((pids / f"{fmt}.pid").read_text()), 0)
        assert not (pids / f"{fmt}.finished").exists()  # stopped, not waited for


@pytest.mark.converter  # two spawned workers import torch: ~25 s on one core
def test_jobs_2_a_failing_format_stops_the_other_and_leaves_nothing(tiny_av_entry, tmp_path, monkeypatch,
                                                                    worker_pids) -> None:
    import workers_for_tests

    monkeypatch.setattr(pipeline, "_lower_in_worker", workers_for_tests.fail_once_the_other_runs)
    subject = ExportSubject.from_entry(tiny_av_entry, tiny_av_entry.build())
    with pytest.raises(ExportError, match=r"^litert lowering failed \(stand-in\)"):
        pipeline.export_model(subject, ExportRequest("android", tmp_path / "dist", samples=1, jobs=2))
    assert_stopped(worker_pids, ("executorch",))
    assert visible(tmp_path) == ["pids"]


@pytest.mark.converter  # two spawned workers import torch: ~25 s on one core
def test_jobs_2_sigterm_stops_both_workers_and_leaves_nothing(tiny_av_entry, tmp_path, monkeypatch,
                                                             worker_pids) -> None:
    import workers_for_tests

    monkeypatch.setattr(pipeline, "_lower_in_worker", workers_for_tests.lower_until_stopped)

    def terminate_once_both_lower() -> None:
        while len(list(worker_pids.glob("*.pid"))) < 2:
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGTERM)  # `kill PID` of the export; its handler runs in the main thread

    threading.Thread(target=terminate_once_both_lower, daemon=True).start()
    subject = ExportSubject.from_entry(tiny_av_entry, tiny_av_entry.build())
    with pytest.raises(Interrupted, match=r"^export stopped by SIGTERM: nothing half-written is left in"):
        pipeline.export_model(subject, ExportRequest("android", tmp_path / "dist", samples=1, jobs=2))
    assert_stopped(worker_pids, ("executorch", "litert"))
    assert visible(tmp_path) == ["pids"]


@pytest.mark.converter  # a child export with two spawned workers: ~40 s on one core
def test_jobs_2_workers_die_with_a_sigkilled_export(tmp_path, worker_pids) -> None:
    tests = Path(__file__).resolve().parents[1]
    script = (
        "import sys\n"
        f"sys.path[:0] = [{str(tests)!r}, {str(tests / 'export_targets')!r}]\n"
        "import tiny_av, workers_for_tests\n"
        "from export_targets import pipeline\n"
        "from export_targets.request import ExportRequest, ExportSubject\n"
        "pipeline._lower_in_worker = workers_for_tests.lower_until_stopped\n"
        "entry = tiny_av.TINY_AV\n"
        "subject = ExportSubject.from_entry(entry, entry.build())\n"
        f"pipeline.export_model(subject, ExportRequest('android', {str(tmp_path / 'dist')!r}, samples=1, jobs=2))\n"
    )
    export = subprocess.Popen([sys.executable, "-c", script], cwd=tests.parent)
    deadline = time.monotonic() + 600
    while len(list(worker_pids.glob("*.pid"))) < 2 and time.monotonic() < deadline and export.poll() is None:
        time.sleep(0.1)
    export.kill()  # SIGKILL: no handler runs, as with a timeout or the OOM killer
    export.wait()
    for fmt in ("executorch", "litert"):
        pid = int((worker_pids / f"{fmt}.pid").read_text())
        for _ in range(100):  # PR_SET_PDEATHSIG: the kernel kills it as its parent dies
            if not Path(f"/proc/{pid}").exists() or Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
                break
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGKILL)
            pytest.fail(f"the {fmt} worker outlived its SIGKILLed export")
    assert not list(worker_pids.glob("*.finished"))
