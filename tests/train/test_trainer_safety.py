"""Training never loses completed work: SIGINT/SIGTERM and bad files stop after a checkpoint, the final
checkpoint is on disk before the final evaluation, and a resume refuses another run's settings by name."""
from __future__ import annotations

import dataclasses
import os
import signal
from pathlib import Path

import pytest
import torch

from edgeav.data.synthetic import SceneConfig, SyntheticAVScenes
from edgeav.errors import CheckpointError, DataError, Interrupted
from edgeav.models.lightavseg.configs import LIGHTAVSEG_SMALL
from edgeav.models.lightavseg.model import LightAVSeg
from edgeav.train.objective import get_objective
from edgeav.train.samples import FrameSamples
from edgeav.train.trainer import TrainConfig, Trainer

SMALL_TRAINABLE = dataclasses.replace(LIGHTAVSEG_SMALL, freeze_audio=False)
META = {"model": "lightavseg", "config": "small", "data": "synthetic-ms3:scenes=2"}


@pytest.fixture(scope="module")
def tiny_set() -> list[dict]:
    scenes = SyntheticAVScenes(SceneConfig(kind="ms3", image_size=64, frames_per_clip=2), num_scenes=2, seed=3)
    data = FrameSamples(scenes)
    return [data[i] for i in range(len(data))]


class BadFrom(torch.utils.data.Dataset):
    """``items`` whose samples from ``bad`` on raise the DataError a corrupt file gives."""

    def __init__(self, items: list[dict], bad: int) -> None:
        self.items, self.bad = items, bad

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict:
        if i >= self.bad:
            raise DataError(f"/data/clip_{i}.png: cannot decode the frame (OSError: image file is truncated)")
        return self.items[i]


def _trainer(data, out: Path, steps: int = 4, eval_set=None, meta=META, **cfg) -> Trainer:
    torch.manual_seed(0)
    config = TrainConfig(steps=steps, batch_size=2, lr=1e-3, seed=7, **cfg)
    return Trainer(LightAVSeg(SMALL_TRAINABLE), get_objective("lightavseg"), data, config, out, eval_set=eval_set,
                   model_meta=dict(meta))


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_stop_signal_saves_the_finished_steps_and_names_the_resume(tiny_set, tmp_path: Path, signum) -> None:
    before = signal.getsignal(signum)  # SIG_IGN when the suite runs in a background job
    trainer = _trainer(tiny_set, tmp_path, steps=5)
    trainer.on_step = lambda state, row: os.kill(os.getpid(), signum) if state.step == 2 else None
    with pytest.raises(Interrupted, match=rf"step 2 of 5; checkpoint of step 2 saved at {tmp_path / 'last.pt'}; "
                                          rf"continue with: --resume {tmp_path / 'last.pt'}"):
        trainer.fit()
    assert torch.load(tmp_path / "last.pt", weights_only=True)["step"] == 2
    assert signal.getsignal(signum) == before  # handlers restored


def test_the_final_checkpoint_is_written_before_a_failing_final_evaluation(tiny_set, tmp_path: Path) -> None:
    trainer = _trainer(tiny_set, tmp_path, steps=3, eval_set=BadFrom(tiny_set, 0))
    with pytest.raises(DataError, match=r"clip_0.png.*checkpoint of step 3 saved at .*last.pt; continue with"):
        trainer.fit()
    assert torch.load(tmp_path / "last.pt", weights_only=True)["step"] == 3


def test_a_bad_validation_sample_is_skipped_counted_and_named(tiny_set, tmp_path: Path) -> None:
    state = _trainer(tiny_set, tmp_path, steps=2, eval_set=BadFrom(tiny_set, 3)).fit()
    scores = state.evals[-1]
    assert scores["skipped"] == 1 and "clip_3.png" in scores["skipped_files"][0]
    assert scores["frames"] == 3  # the readable ones were scored
    assert torch.load(tmp_path / "last.pt", weights_only=True)["evals"][-1]["skipped"] == 1


class BadAfterReads(torch.utils.data.Dataset):
    """``items`` that become unreadable after ``reads`` reads (a disk that fails mid-run)."""

    def __init__(self, items: list[dict], reads: int) -> None:
        self.items, self.left = items, reads

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict:
        self.left -= 1
        if self.left < 0:
            raise DataError(f"/data/clip_{i}.png: cannot decode the frame (OSError: image file is truncated)")
        return self.items[i]


def test_a_bad_training_file_stops_after_saving_the_steps_done(tiny_set, tmp_path: Path) -> None:
    trainer = _trainer(BadAfterReads(tiny_set, 4), tmp_path, steps=6)  # batch 2: steps 1-2 read, step 3 fails
    with pytest.raises(DataError, match=r"clip_\d.png.*training stopped at step 2 of 6; checkpoint of step 2 saved"):
        trainer.fit()
    assert torch.load(tmp_path / "last.pt", weights_only=True)["step"] == 2


@pytest.mark.parametrize(("change", "named"), [
    ({"lr": 2e-3}, "--lr 0.002 (the run used 0.001)"),
    ({"batch_size": 4}, "--batch-size 4 (the run used 2)"),
    ({"seed": 1}, "--seed 1 (the run used 7)"),
])
def test_resume_with_another_hyper_parameter_is_refused_by_name(tiny_set, tmp_path: Path, change, named) -> None:
    _trainer(tiny_set, tmp_path, steps=1).fit()
    base = {"batch_size": 2, "lr": 1e-3, "seed": 7}
    cfg = TrainConfig(steps=2, **{**base, **change})
    other = Trainer(LightAVSeg(SMALL_TRAINABLE), get_objective("lightavseg"), tiny_set, cfg, tmp_path, model_meta=dict(META))
    with pytest.raises(CheckpointError, match=rf"changes {named.replace('(', '[(]').replace(')', '[)]')}.*--allow-changes"):
        other.resume(tmp_path / "last.pt")
    notes = other.resume(tmp_path / "last.pt", allow_changes=True)
    assert notes[0] == f"continuing with {named}" and other.state.step == 1


def test_resume_with_another_data_spec_is_refused_by_name(tiny_set, tmp_path: Path) -> None:
    _trainer(tiny_set, tmp_path, steps=1).fit()
    other = _trainer(tiny_set, tmp_path, steps=2, meta={**META, "data": "synthetic-s4"})
    with pytest.raises(CheckpointError, match=r"--data synthetic-s4 \(the run used synthetic-ms3:scenes=2\)"):
        other.resume(tmp_path / "last.pt")


def test_resume_across_configs_is_one_line(tiny_set, tmp_path: Path) -> None:
    _trainer(tiny_set, tmp_path, steps=1).fit()
    wider = Trainer(LightAVSeg(dataclasses.replace(SMALL_TRAINABLE, decoder_dim=48)),
                    get_objective("lightavseg"), tiny_set, TrainConfig(steps=2, batch_size=2, lr=1e-3, seed=7), tmp_path,
                    model_meta=dict(META))
    with pytest.raises(CheckpointError) as err:
        wider.resume(tmp_path / "last.pt")
    assert "\n" not in str(err.value) and "wrong shape" in str(err.value)
    renamed = _trainer(tiny_set, tmp_path, steps=2, meta={**META, "config": "paper"})
    with pytest.raises(CheckpointError, match=r"a run of lightavseg \[small\], not lightavseg \[paper\]; pass --config small"):
        renamed.resume(tmp_path / "last.pt")


def test_resume_with_more_steps_notes_the_moved_schedule(tiny_set, tmp_path: Path) -> None:
    _trainer(tiny_set, tmp_path, steps=1).fit()
    longer = _trainer(tiny_set, tmp_path, steps=3)
    assert longer.resume(tmp_path / "last.pt") == ["--steps 3 (the run planned 1): the poly learning-rate schedule now ends at step 3"]


def test_a_full_disk_while_saving_is_one_line_naming_the_run_folder(tiny_set, tmp_path: Path, monkeypatch) -> None:
    import errno

    from edgeav.errors import StorageError

    def full(payload, f):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", full)
    with pytest.raises(StorageError, match=rf"{tmp_path}: no space left on the device; free space there or choose another --out"):
        _trainer(tiny_set, tmp_path, steps=1).fit()
    assert not list(tmp_path.glob("*.tmp")) and not (tmp_path / "last.pt").exists()
