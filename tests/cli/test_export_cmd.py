"""`edgeav export` in-process: every error is one line on stderr with exit code 2 and no files left."""
from __future__ import annotations

import dataclasses
import errno
import json
import os
import signal
from pathlib import Path

import pytest
import torch

from edgeav import registry
from edgeav.cli.main import main
from export_targets import pipeline
from stand_ins import StandIn, stand_ins  # noqa: F401  (stand_ins is a fixture)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["export", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code: int, err: str, *fragments: str) -> None:
    """Exit code 2 and exactly one error line, the last thing on stderr (after any notice or progress)."""
    assert code == 2
    errors = [line for line in err.splitlines() if line.startswith("edgeav: error: ")]
    assert len(errors) == 1 and err.rstrip().endswith(errors[0]), err
    for fragment in fragments:
        assert fragment in errors[0]


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--model", "nope"], ["unknown model 'nope'", "tinyav"]),
        (["--model", "tinyav", "--target", "ipad"], ["unknown target 'ipad'", "android, ios, all", "coreml"]),
        (["--model", "tinyav", "--precision", "int8"], ["int8 export of untrained weights", "--checkpoint"]),
        (["--model", "tinyav", "--precision", "fp64"], ["unknown precision 'fp64'", "fp32"]),
        (["--model", "tinyav", "--config", "huge"], ["no config 'huge'", "small, wide"]),
        (["--model", "tinyav", "--samples", "0"], ["--samples must be at least 1"]),
        (["--model", "tinyav", "--jobs", "0"], ["--jobs must be at least 1"]),
        # int8-only arguments at fp32 would be silently ignored: refused, naming both ways out
        (["--model", "tinyav", "--keep-fp32", "head*"],
         ["--keep-fp32 applies to --precision int8; drop it or pass --precision int8"]),
        (["--model", "tinyav", "--max-drop", "1"], ["--max-drop applies to --precision int8"]),
        (["--model", "tinyav", "--force"], ["--force applies to --precision int8"]),
        (["--model", "tinyav", "--data", "synthetic-ms3"], ["--data applies to --precision int8"]),
        (["--model", "tinyav", "--qat-checkpoint", "q.pt"], ["--qat-checkpoint applies to --precision int8"]),
        (["--model", "tinyav", "--eval-limit", "5"], ["--eval-limit applies to --precision int8"]),
    ],
)
def test_bad_options(registry_with_tiny_av, capsys, tmp_path: Path, args: list[str], fragments: list[str]) -> None:
    out = tmp_path / "dist"
    code, _, err = run(capsys, *args, "--out", str(out))
    assert_one_line_error(code, err, *fragments)
    assert not out.exists()


def test_out_that_is_a_file(registry_with_tiny_av, capsys, tmp_path: Path) -> None:
    (tmp_path / "f").write_text("")
    code, _, err = run(capsys, "--model", "tinyav", "--out", str(tmp_path / "f"))
    assert_one_line_error(code, err, "is a file")


def test_wrong_input_shapes_from_the_registry(registry_with_tiny_av, capsys, tmp_path, monkeypatch) -> None:
    broken = dataclasses.replace(registry_with_tiny_av, samples=lambda c, n, s: [(torch.zeros(1, 3, 32, 32), torch.zeros(1, 16000))] * n)
    monkeypatch.setitem(registry._REGISTRY, "tinyav", broken)
    code, _, err = run(capsys, "--model", "tinyav", "--target", "onnx", "--out", str(tmp_path / "d"))
    assert_one_line_error(code, err, "'frames' has shape (1, 3, 32, 32), expected (1, 3, 64, 64)")
    assert not (tmp_path / "d").exists()


def test_converter_failure_exit_2_and_nothing_written(registry_with_tiny_av, capsys, tmp_path, monkeypatch) -> None:
    class Exploding:
        def __init__(self, name: str) -> None:
            self.name = name

        def lower(self, request):
            model, example_inputs, io_spec, precision, dest = request.fields()
            dest.write_bytes(b"partial")
            raise ValueError("unsupported op foo\ntraceback noise")

    monkeypatch.setattr(pipeline, "get_target", Exploding)
    out = tmp_path / "dist"
    code, _, err = run(capsys, "--model", "tinyav", "--target", "onnx", "--out", str(out))
    assert_one_line_error(code, err, "onnx lowering failed (ValueError: unsupported op foo)")
    assert not out.exists()


@pytest.mark.converter
def test_export_onnx_end_to_end(registry_with_tiny_av, capsys, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    code, stdout, stderr = run(capsys, "--model", "tinyav", "--target", "onnx", "--out", str(out), "--samples", "2")
    assert code == 0, stderr
    assert "NO CHECKPOINT" in stderr
    assert "SQNR dB" in stdout and f"onnx: {out / 'tinyav_small_fp32.onnx'}" in stdout
    assert sorted(p.name for p in out.iterdir()) == ["tinyav_small_fp32.onnx", "tinyav_small_fp32.onnx.json"]
    manifest = json.loads((out / "tinyav_small_fp32.onnx.json").read_text())
    assert manifest["weights"]["source"] == "registry-init" and manifest["parity"]["status"] == "passed"


@pytest.mark.converter
def test_export_with_checkpoint_records_it(registry_with_tiny_av, capsys, tmp_path: Path) -> None:
    model = registry_with_tiny_av.build()
    with torch.no_grad():
        model.head.bias.fill_(0.25)
    ckpt = tmp_path / "trained.pt"
    torch.save({"state_dict": model.state_dict(), "epoch": 3}, ckpt)
    out = tmp_path / "dist"
    code, _, stderr = run(capsys, "--model", "tinyav", "--checkpoint", str(ckpt), "--target", "onnx", "--out", str(out), "--samples", "1")
    assert code == 0, stderr
    assert "NO CHECKPOINT" not in stderr
    weights = json.loads((out / "tinyav_small_fp32.onnx.json").read_text())["weights"]
    assert weights["source"] == "checkpoint" and weights["key"] == "state_dict" and weights["path"] == str(ckpt)


@pytest.mark.parametrize(("sig", "message"), [
    (signal.SIGTERM, "edgeav: export stopped by SIGTERM: nothing half-written is left in {out}"),
    (signal.SIGINT, "edgeav: export interrupted (Ctrl-C): nothing half-written is left in {out}"),
])
def test_a_signal_while_lowering_leaves_nothing_half_written(registry_with_tiny_av, stand_ins, capsys, tmp_path,
                                                             monkeypatch, sig, message) -> None:
    def lower(self, request):
        request.dest.write_bytes(b"half an artifact")
        os.kill(os.getpid(), sig)  # as `kill PID` / Ctrl-C would, mid-conversion

    monkeypatch.setattr(StandIn, "lower", lower)
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "keep.pte").write_text("an earlier export")
    code, _, err = run(capsys, "--model", "tinyav", "--target", "onnx", "--out", str(tmp_path / "dist"))
    assert code == 130 and err.rstrip().splitlines()[-1].startswith(message.format(out=tmp_path / "dist"))
    assert sorted(p.name for p in (tmp_path / "dist").iterdir()) == ["keep.pte"]
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_permission_denied_on_out_is_one_line_before_anything_runs(registry_with_tiny_av, stand_ins, capsys, tmp_path,
                                                                   monkeypatch) -> None:
    def refuse(*args, **kwargs):  # tests run as root, which chmod cannot stop: the OS's answer, simulated
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(tmp_path / "locked"))

    monkeypatch.setattr("tempfile.mkstemp", refuse)
    code, _, err = run(capsys, "--model", "tinyav", "--target", "onnx", "--out", str(tmp_path / "locked"))
    assert_one_line_error(code, err, f"{tmp_path / 'locked'}: permission denied; fix its permissions or choose "
                                     "another --out")
    assert not (tmp_path / "locked").exists() and stand_ins == {}  # refused before the model was even lowered
