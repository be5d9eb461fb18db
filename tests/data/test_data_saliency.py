"""Synthetic saliency clips and images, the observer model, and the saliency layouts."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from edgeav.data.saliency import (
    AVSaliencyVideos,
    SaliencyConfig,
    SaliencyImageFolder,
    SyntheticSaliencyClips,
    SyntheticSaliencyImages,
    read_fold_list,
    write_av_saliency,
    write_saliency_images,
)
from edgeav.errors import DataError

SMALL = SaliencyConfig(frame_size=(48, 80), frames_per_clip=8, fps=8.0, observers=12)


def test_clip_shapes_and_ranges():
    clip = SyntheticSaliencyClips(SMALL, 2, seed=0)[1]
    assert clip.frames.shape == (8, 3, 48, 80) and clip.saliency.shape == (8, 1, 48, 80)
    assert clip.audio.shape == (16000,) and clip.audio.abs().max() <= 1
    assert torch.allclose(clip.saliency.amax((1, 2, 3)), torch.ones(8))
    assert (clip.fixations.sum((1, 2, 3)) >= 1).all()


def test_deterministic_by_seed_and_index():
    a, b = SyntheticSaliencyClips(SMALL, 3, seed=4), SyntheticSaliencyClips(SMALL, 3, seed=4)
    assert torch.equal(a[2].saliency, b[2].saliency) and torch.equal(a[2].audio, b[2].audio)


def test_observers_who_only_follow_sound_look_at_sounding_objects():
    cfg = SaliencyConfig(frame_size=(64, 96), frames_per_clip=10, w_sound=1.0, w_motion=0.0, w_centre=0.0,
                         w_noise=0.0, fixation_noise=0.0, dwell=0.0)
    clip = SyntheticSaliencyClips(cfg, 1, seed=1)[0]
    sounding = np.array(clip.meta["sounding"])
    frames = np.flatnonzero(sounding.any(0))
    assert frames.size
    # every fixation in a frame with sound is within 1.5 radii (3 sigma of scatter) of some sounding object
    world = SyntheticSaliencyClips(cfg, 1, seed=1)._world
    objects = world.objects(world.rng(0, 1), cfg.frames_per_clip)
    for f in frames:
        for y, x in clip.meta["points"][f]:
            near = [np.hypot(*(o["path"][f] - (y, x))) < 1.5 * o["radius"] for k, o in enumerate(objects) if sounding[k, f]]
            assert any(near) or y in (0, 63) or x in (0, 95)  # clipped at the border


def test_still_images_have_points_and_maps():
    item = SyntheticSaliencyImages(SMALL, 2, seed=0)[0]
    assert item.image.shape == (3, 48, 80) and item.points.shape == (SMALL.observers * SMALL.image_fixations, 2)
    assert item.saliency.max() == pytest.approx(1.0) and item.fixations.sum() >= 1


def test_video_layout_round_trip_and_fold_lists(tmp_path):
    ds = SyntheticSaliencyClips(SMALL, 4, seed=2)
    write_av_saliency(ds, tmp_path, name="SynthAV", folds=3)
    assert (tmp_path / "video_frames/SynthAV/synthav_00000/img_00001.jpg").exists()
    assert (tmp_path / "annotations/SynthAV/synthav_00000/maps/eyeMap_00008.jpg").exists()
    train, test = read_fold_list(tmp_path, "SynthAV", "train", 2), read_fold_list(tmp_path, "SynthAV", "test", 2)
    assert len(train) + len(test) == 4 and train[0][1:] == (8, 8.0)
    videos = AVSaliencyVideos(tmp_path, "SynthAV", "train", 2, clip_frames=4, stride=4)
    assert len(videos) == 2 * len(train)
    window = videos[1]
    original = ds[int(train[0][0].split("_")[-1])]
    assert window.meta["frames"] == [5, 6, 7, 8]
    assert (window.saliency - original.saliency[4:8]).abs().max() < 0.03  # JPEG
    assert torch.equal(window.fixations, original.fixations[4:8])
    assert (window.audio - original.audio[8000:16000]).abs().max() < 1e-4


def test_missing_fold_list_names_the_path(tmp_path):
    with pytest.raises(DataError, match="DIEM_list_test_1_fps.txt"):
        AVSaliencyVideos(tmp_path, "DIEM", "test", 1)


def test_still_image_layout_round_trip(tmp_path):
    ds = SyntheticSaliencyImages(SMALL, 2, seed=0)
    write_saliency_images(ds, tmp_path, "val")
    back = SaliencyImageFolder(tmp_path, "val")[1]
    assert torch.allclose(back.points, ds[1].points)
    assert torch.equal(back.fixations, ds[1].fixations)
