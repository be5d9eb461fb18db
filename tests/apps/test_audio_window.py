"""The audio window as a declared input convention: a data option any spec takes, recorded by training in the
checkpoint, carried by export into the IOSpec and the manifest, and applied when an artifact is scored."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from edgeav.checkpoints import save_atomically
from edgeav.data import open_dataset
from edgeav.data.windows import realign, split_option, video_delay_samples, with_option
from edgeav.errors import DataError, UsageError
from edgeav.registry import load_model
from edgeav.specs import IOSpec, TensorSpec
from edgeav.train.samples import FrameSamples
from export_targets.request import ExportSubject

SPEC = "synthetic-ms3:scenes=2,image_size=32"


def test_a_trailing_window_ends_at_the_frame() -> None:
    audio = torch.arange(12, dtype=torch.float32).reshape(3, 4) + 1  # 3 frames of 4 samples, centred
    trailing = realign(audio, "trailing")
    assert trailing.tolist() == [[0, 0, 1, 2], [3, 4, 5, 6], [7, 8, 9, 10]]  # silence before the clip
    assert realign(audio, "centred") is audio
    assert (video_delay_samples("centred", 16000), video_delay_samples("trailing", 16000)) == (8000, 0)


def test_the_option_rides_on_any_spec() -> None:
    assert split_option("synthetic-ms3:scenes=3,audio_window=trailing,image_size=64") == (
        "synthetic-ms3:scenes=3,image_size=64", "trailing")
    assert split_option("avsbench-ms3:/data/ms3,audio_window=trailing") == ("avsbench-ms3:/data/ms3", "trailing")
    assert split_option("synthetic-s4") == ("synthetic-s4", "centred")
    assert with_option("synthetic-s4", "trailing") == "synthetic-s4:audio_window=trailing"
    assert with_option("synthetic-s4:audio_window=trailing", "centred") == "synthetic-s4"
    with pytest.raises(UsageError, match="choose one of centred, trailing"):
        split_option("synthetic-s4:audio_window=future")
    with pytest.raises(UsageError, match="twice"):
        split_option("synthetic-s4:audio_window=trailing,audio_window=centred")


def test_datasets_and_frame_samples_see_the_window() -> None:
    centred, trailing = open_dataset(SPEC, "val"), open_dataset(SPEC + ",audio_window=trailing", "val")
    assert len(centred) == len(trailing) and trailing.config == centred.config  # attributes pass through
    assert torch.equal(trailing[0].audio, realign(centred[0].audio, "trailing"))
    assert not torch.equal(trailing[0].audio, centred[0].audio)
    frames = FrameSamples.from_spec(SPEC + ",audio_window=trailing", "val")
    assert torch.equal(frames[1]["audio"], realign(centred[0].audio, "trailing")[1])


def test_clips_without_per_frame_audio_refuse_the_option() -> None:
    clips = open_dataset("synthetic-saliency:clips=1,audio_window=trailing", "val")
    with pytest.raises(DataError, match="drop the audio_window option"):
        clips[0]


def test_the_iospec_refuses_an_unknown_window() -> None:
    t = TensorSpec("x", (1,))
    with pytest.raises(UsageError, match="audio_window 'future'"):
        IOSpec((t,), (t,), "", audio_window="future")


def test_a_checkpoint_trained_on_trailing_audio_exports_as_trailing(tmp_path: Path) -> None:
    fresh = load_model("lightavseg", "small")
    path = save_atomically({"model": fresh.model.state_dict(),
                            "model_meta": {"data": SPEC + ",audio_window=trailing"}}, tmp_path / "last.pt")
    loaded = load_model("lightavseg", "small", path)
    assert loaded.checkpoint.audio_window == "trailing"
    assert ExportSubject.from_registry(loaded).io_spec.audio_window == "trailing"
    raw = save_atomically(fresh.model.state_dict(), tmp_path / "raw.pt")  # no training record: the datasets' default
    assert ExportSubject.from_registry(load_model("lightavseg", "small", raw)).io_spec.audio_window == "centred"


@pytest.mark.slow
def test_export_into_the_android_app_records_the_trailing_window(tmp_path: Path) -> None:
    """`edgeav export --app`: the real exporter, a trailing-trained checkpoint, the app's assets and index."""
    from edgeav.cli.main import main

    root = Path(__file__).resolve().parents[2]
    app = tmp_path / "android_demo"
    app.mkdir()
    shutil.copy(root / "android_demo" / "settings.gradle.kts", app)
    fresh = load_model("lightavseg", "small")
    ckpt = save_atomically({"model": fresh.model.state_dict(), "model_meta": {"data": SPEC + ",audio_window=trailing"}},
                           tmp_path / "last.pt")
    assert main(["export", "--model", "lightavseg", "--config", "small", "--checkpoint", str(ckpt), "--target",
                 "executorch", "--out", str(tmp_path / "dist"), "--app", str(app), "--samples", "1", "--jobs", "1"]) == 0
    models = app / "app/src/main/assets/models"
    manifest = json.loads((models / "lightavseg_small_fp32.pte.json").read_text())
    assert manifest["preprocess"]["audio"] == {"input": "audio", "sample_rate": 16000, "samples": 16000, "channels": 1,
                                               "range": [-1.0, 1.0], "window": "trailing", "video_delay_samples": 0}
    index = json.loads((models / "index.json").read_text())["models"]
    assert [e["artifact"] for e in index] == ["lightavseg_small_fp32.pte"]
    assert (models / "lightavseg_small_fp32.pte").stat().st_size == manifest["size_bytes"]
