"""`edgeav train | eval | quantize` through the real entry point: work is never lost, run folders are not
overwritten, resumes continue exactly the run they name, and data meets only a model of its task."""
from __future__ import annotations

import json
import os
import shlex
import signal
from pathlib import Path

import pytest

from edgeav.cli.main import main
from edgeav.train.trainer import Trainer

SMALL = ["--model", "lightavseg", "--config", "small"]
DATA = "synthetic-ms3:scenes=2,image_size=64"


def _train(out: Path, *extra: str, data: str = DATA, steps: int = 2) -> list[str]:
    return ["train", *SMALL, "--data", data, "--steps", str(steps), "--batch-size", "2", "--out", str(out), *extra]


def test_ctrl_c_saves_and_the_printed_command_resumes_exactly(tmp_path, capsys, monkeypatch) -> None:
    out = tmp_path / "run"
    step = Trainer.train_step

    def interrupted_at_2(self, s):
        if s == 1:
            os.kill(os.getpid(), signal.SIGINT)  # arrives during step 2: it finishes, then the run stops
        return step(self, s)

    monkeypatch.setattr(Trainer, "train_step", interrupted_at_2)
    assert main(_train(out, "--lr", "0.001", steps=4)) == 130
    err = capsys.readouterr().err
    assert f"checkpoint of step 2 saved at {out / 'last.pt'}" in err
    command = shlex.split(err.split("continue with: ", 1)[1].strip())
    assert command[:2] == ["edgeav", "train"] and "--lr" in command and command[-2:] == ["--resume", str(out / "last.pt")]
    monkeypatch.setattr(Trainer, "train_step", step)
    assert main(command[1:]) == 0
    steps = [json.loads(line)["step"] for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4]
    capsys.readouterr()
    assert main(command[1:]) == 0  # resuming a finished run: says so, names a file that exists
    err = capsys.readouterr().err
    assert "already finished its 4 steps" in err and (out / "last.pt").exists()
    changed = [w if w != "0.001" else "0.002" for w in command[1:]]
    assert main(changed) == 2
    assert "--lr 0.002 (the run used 0.001)" in capsys.readouterr().err


def test_an_unwritable_out_fails_before_any_work(capsys) -> None:
    assert main(_train(Path("/sys/edgeav-run"))) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "/sys/edgeav-run" in err and "choose another --out" in err


@pytest.mark.parametrize("verb", ["train", "eval", "quantize"])
def test_saliency_data_to_a_segmentation_model_is_one_line(tmp_path, capsys, verb) -> None:
    data = "synthetic-saliency:clips=2"
    args = {"train": _train(tmp_path / "r", data=data),
            "eval": ["eval", *SMALL, "--data", data],
            "quantize": ["quantize", *SMALL, "--checkpoint", str(tmp_path / "none.pt"), "--data", data, "--out", str(tmp_path)]}[verb]
    if verb == "quantize":
        _checkpoint(tmp_path / "none.pt")
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("edgeav: error: --data synthetic-saliency:clips=2 is saliency data, but lightavseg is a segmentation "
                   "model; pass segmentation data (e.g. synthetic-ms3 or avsbench-ms3:PATH) or a saliency model")


def test_segmentation_data_to_a_saliency_model_is_one_line(capsys) -> None:
    assert main(["eval", "--model", "dtfsal", "--config", "small", "--data", DATA]) == 2
    assert "is segmentation data, but dtfsal is a saliency model" in capsys.readouterr().err


def _checkpoint(path: Path) -> None:
    import torch

    from edgeav.registry import load_model

    torch.save(load_model("lightavseg", "small").model.state_dict(), path)


def test_quantizing_the_binary_model_on_semantic_data_is_refused(tmp_path, capsys) -> None:
    _checkpoint(tmp_path / "w.pt")
    args = ["quantize", *SMALL, "--checkpoint", str(tmp_path / "w.pt"), "--data", "synthetic-avss:scenes=2,image_size=64",
            "--out", str(tmp_path / "q"), "--method", "ptq"]
    assert main(args) == 2
    assert "is semantic (AVSS) data, but lightavseg [small] predicts one binary mask; pass its multi-class config (e.g. --config small-avss)" in capsys.readouterr().err
    assert not (tmp_path / "q" / "quantized.pt").exists()


def test_shuffle_audio_with_one_clip_is_refused(capsys) -> None:
    assert main(["eval", *SMALL, "--data", "synthetic-ms3:scenes=2,image_size=64", "--split", "val", "--shuffle-audio"]) == 2
    assert "--shuffle-audio pairs each clip with another clip's audio, but this split has 1 clip" in capsys.readouterr().err


def test_eval_json_to_a_full_device_is_one_line_and_leaves_the_device(capsys) -> None:
    from edgeav.cli.train_cmd import _write_scores
    from edgeav.errors import StorageError

    with pytest.raises(StorageError, match="/dev/full: no space left on the device; free space there or choose another --json"):
        _write_scores(Path("/dev/full"), {"miou": 0.5})
    assert Path("/dev/full").is_char_device()  # written through, never replaced by a file (we may run as root)


def test_an_out_that_cannot_be_created_is_one_line() -> None:
    from edgeav.cli.runs import prepare_run_folder
    from edgeav.errors import StorageError

    with pytest.raises(StorageError, match="/proc/edgeav-run: cannot be created or written .*choose a writable --out"):
        prepare_run_folder(Path("/proc/edgeav-run"), None, False)


@pytest.mark.parametrize(("pretrained", "train_audio", "frozen"), [(False, False, False), (True, False, True), (True, True, False)])
def test_the_audio_trunk_is_frozen_only_when_pretrained_weights_are_loaded(tmp_path, pretrained, train_audio, frozen) -> None:
    import argparse

    from edgeav.cli.train_cmd import _build

    checkpoint = None
    if pretrained:
        checkpoint = tmp_path / "w.pt"
        _checkpoint(checkpoint)
    args = argparse.Namespace(model="lightavseg", config="small", checkpoint=checkpoint, seed=0, audio_weights=None)
    _, _, model = _build(args, train_audio=train_audio)
    assert all(p.requires_grad != frozen for p in model.audio.parameters())
    assert any(p.requires_grad for p in model.head.parameters())


def test_eval_of_a_checkpoint_prints_and_writes_the_scores(tmp_path, capsys) -> None:
    _checkpoint(tmp_path / "w.pt")
    out = tmp_path / "scores.json"
    assert main(["eval", *SMALL, "--checkpoint", str(tmp_path / "w.pt"), "--data", "synthetic-ms3:scenes=5,image_size=64",
                 "--json", str(out)]) == 0
    assert "mIoU" in capsys.readouterr().out
    scores = json.loads(out.read_text())
    assert scores["split"] == "test" and scores["frames"] == 5 and 0 <= scores["miou"] <= 1 and "skipped" not in scores
