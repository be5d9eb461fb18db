"""AVSBench readers on hand-written official trees, and writer -> reader round trips of synthetic scenes."""
from __future__ import annotations

import os
import pickle

import pytest
import torch

from edgeav.data.avsbench import (
    AVSBenchAVSS,
    AVSBenchMS3,
    AVSBenchS4,
    detect_kinds,
    write_avsbench,
)
from edgeav.data.files import avss_palette
from edgeav.data.synthetic import SyntheticAVScenes
from edgeav.errors import DataError, UsageError


def test_palette_is_avsbench_semantic_palette(avss_reference_palette):
    assert avss_palette(71).reshape(-1).tolist() == avss_reference_palette
    assert avss_palette(9)[1].tolist() == [128, 0, 0] and avss_palette(9)[8].tolist() == [64, 0, 0]


def test_s4_train_reads_frame_one_mask_and_pickled_logmel(official_tree):
    ds = AVSBenchS4(official_tree, "train")
    clip = ds[0]
    assert len(ds) == 1 and clip.category_names == ["dog_barking"]
    assert clip.frames.shape == (5, 3, 224, 224) and 0 <= clip.frames.min() and clip.frames.max() <= 1
    assert clip.annotated.tolist() == [True, False, False, False, False]
    assert clip.masks[0, 0, 60, 100] == 1 and clip.masks[0].sum() == 70 * 90
    assert clip.audio is None and clip.logmel.shape == (5, 1, 96, 64)


def test_s4_test_split_has_five_masks_and_root_may_be_the_subset_folder(official_tree):
    clip = AVSBenchS4(official_tree / "Single-source", "test", image_size=112)[0]
    assert clip.annotated.all() and clip.masks.shape == (5, 1, 112, 112)


def test_ms3_palette_masks(official_tree):
    clip = AVSBenchMS3(official_tree, "val")[0]
    assert clip.masks.sum() == 5 * 70 * 90 and clip.category_names == []


def test_avss_colour_label_maps_and_v1s_flags(official_tree):
    train = AVSBenchAVSS(official_tree, "train")[0]
    assert train.frames.shape[0] == 5 and train.annotated.tolist() == [True] + [False] * 4
    test = AVSBenchAVSS(official_tree, "test")[0]
    assert test.frames.shape == (10, 3, 224, 224) and test.audio.shape == (10, 16000)
    assert set(test.semantic.unique().tolist()) == {0, 2, 3}
    assert test.category_names == ["car", "man"]
    assert torch.equal(test.masks[:, 0] > 0, test.semantic > 0)


def test_detect_kinds(official_tree):
    assert detect_kinds(official_tree) == ["s4", "ms3", "avss"]


def test_missing_frame_names_the_expected_path(official_tree):
    victim = official_tree / "Single-source/s4_data/visual_frames/test/lawn_mowing/xyz_2/xyz_2_3.png"
    os.remove(victim)
    with pytest.raises(DataError, match="xyz_2_3.png"):
        AVSBenchS4(official_tree, "test")[0]


def test_wrong_root_names_the_metadata_file(tmp_path):
    with pytest.raises(DataError, match="s4_meta_data.csv"):
        AVSBenchS4(tmp_path, "train")


def test_a_pickle_that_is_not_a_tensor_is_refused(official_tree):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo owned",))

    path = official_tree / "Single-source/s4_data/audio_log_mel/train/dog_barking/abc_1.pkl"
    path.write_bytes(pickle.dumps(Evil()))
    with pytest.raises(DataError, match="not a pickled log-mel"):
        AVSBenchS4(official_tree, "train")[0]


@pytest.mark.parametrize("kind,reader", [("s4", AVSBenchS4), ("ms3", AVSBenchMS3), ("avss", AVSBenchAVSS)])
def test_synthetic_scenes_round_trip(tmp_path, small_config, kind, reader):
    ds = SyntheticAVScenes(small_config(kind), 2, seed=5)
    write_avsbench(ds, tmp_path, split="val")
    back = reader(tmp_path, "val", image_size=64)
    assert len(back) == 2
    a, b = ds[1], back[1]
    assert torch.equal(a.masks, b.masks)
    error = (a.frames - b.frames).abs()
    if kind == "avss":  # JPEG frames
        assert error.mean() < 0.02  # mostly the sensor noise, which JPEG smooths
    else:  # PNG frames: 8-bit rounding only
        assert error.max() < 0.003
    assert (a.audio - b.audio).abs().max() < 1e-4
    if kind == "avss":
        assert torch.equal(a.semantic, b.semantic)
    else:
        assert b.logmel.shape == (5, 1, 96, 64)
    if kind == "s4":
        assert b.category_names == a.category_names


def test_writing_a_split_keeps_the_others(tmp_path, small_config):
    write_avsbench(SyntheticAVScenes(small_config("ms3"), 2, seed=1), tmp_path, split="train")
    write_avsbench(SyntheticAVScenes(small_config("ms3"), 1, seed=2), tmp_path, split="test")
    assert len(AVSBenchMS3(tmp_path, "train", image_size=64)) == 2
    assert len(AVSBenchMS3(tmp_path, "test", image_size=64)) == 1


def test_writer_rejects_multi_source_clips_in_the_s4_layout(tmp_path, small_config):
    ds = SyntheticAVScenes(small_config("ms3"), 1, seed=0)
    with pytest.raises(UsageError, match="one sounding category"):
        write_avsbench(ds, tmp_path, kind="s4")
