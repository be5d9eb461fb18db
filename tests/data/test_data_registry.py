"""Dataset specs: synthetic names with options, layout readers, and folder detection."""
from __future__ import annotations

import pytest
import torch

from edgeav.data.avsbench import AVSBenchMS3, write_avsbench
from edgeav.data.registry import open_dataset
from edgeav.data.saliency import AVSaliencyVideos, SyntheticSaliencyClips
from edgeav.data.synthetic import SyntheticAVScenes
from edgeav.errors import DataError, UsageError


def test_synthetic_spec_with_options_and_split_sizes():
    train = open_dataset("synthetic-ms3:scenes=10,image_size=48,snr_db=5-15", "train")
    val = open_dataset("synthetic-ms3:scenes=10,image_size=48,snr_db=5-15", "val")
    assert isinstance(train, SyntheticAVScenes) and len(train) == 10 and len(val) == 2
    assert train.config.kind == "ms3" and train.config.image_size == 48 and train.config.snr_db == (5.0, 15.0)
    assert train.seed != val.seed


def test_saliency_specs():
    ds = open_dataset("synthetic-saliency:clips=3,frames_per_clip=4", "test")
    assert isinstance(ds, SyntheticSaliencyClips) and len(ds) == 1 and ds.config.frames_per_clip == 4


@pytest.mark.parametrize(
    "spec,match",
    [("synthetic-s5", "unknown dataset"), ("synthetic-s4:bogus=1", "not a SceneConfig field"),
     ("synthetic-s4:scenes", "key=value"), ("avsbench-s4:", "needs a folder")],
)
def test_bad_specs_name_the_fix(spec, match):
    with pytest.raises(UsageError, match=match):
        open_dataset(spec)


def test_a_folder_is_detected(tmp_path, small_config):
    ds = SyntheticAVScenes(small_config("ms3"), 1, seed=0)
    write_avsbench(ds, tmp_path, split="train")
    opened = open_dataset(str(tmp_path), "train")
    assert isinstance(opened, AVSBenchMS3) and len(opened) == 1
    assert torch.equal(open_dataset(f"avsbench-ms3:{tmp_path}", "train")[0].masks[:, :, ::4, ::4].bool().any(), torch.tensor(True))


def test_an_unknown_folder_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="no known layout"):
        open_dataset(str(tmp_path))


def test_avsal_spec(tmp_path):
    from edgeav.data.saliency import SaliencyConfig, write_av_saliency

    write_av_saliency(SyntheticSaliencyClips(SaliencyConfig(frame_size=(32, 48), frames_per_clip=4), 3), tmp_path, "Tiny")
    assert isinstance(open_dataset(f"avsal-Tiny:{tmp_path}", "test"), AVSaliencyVideos)
    assert isinstance(open_dataset(str(tmp_path), "train"), AVSaliencyVideos)
