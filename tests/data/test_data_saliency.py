"""Synthetic saliency clips and images, the observer model, and the saliency layouts."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from edgeav.data.saliency import (
    AVSaliencyVideos,
    SaliencyConfig,
    SaliencyImageFolder,
    SaliencyWindows,
    SyntheticSaliencyClips,
    SyntheticSaliencyImages,
    read_fold_list,
    write_av_saliency,
    write_saliency_images,
)
from edgeav.errors import DataError, UsageError

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


# ----------------------------------------------------------------------------- the sound decides the target
AUDIO_DECIDES = SaliencyConfig(frame_size=(64, 96), frames_per_clip=20, fps=10.0, num_categories=8, observers=16)


def test_one_source_at_a_time_and_no_visual_cue_of_sound():
    ds = SyntheticSaliencyClips(AUDIO_DECIDES, 6, seed=3)
    for i in range(6):
        sounding = np.array(ds[i].meta["sounding"])
        assert sounding.sum(0).max() <= 1 and len(sounding) >= 3  # several objects, at most one sounds
    # with activity_cue off, a sounding object is drawn exactly like a silent one: frames do not depend on sound
    quiet = SyntheticSaliencyClips(dataclasses.replace(AUDIO_DECIDES, silence_prob=1.0), 1, seed=3)
    loud = SyntheticSaliencyClips(dataclasses.replace(AUDIO_DECIDES, silence_prob=0.0), 1, seed=3)
    assert torch.equal(quiet[0].frames, loud[0].frames)


def test_observers_look_at_the_sounding_object_more_than_at_any_silent_one():
    ds = SyntheticSaliencyClips(AUDIO_DECIDES, 8, seed=1)
    world = ds._world
    on_source, on_silent = 0, 0
    for i in range(8):
        clip = ds[i]
        objects = world.objects(world.rng(i, 8), AUDIO_DECIDES.frames_per_clip)
        sounding = np.array(clip.meta["sounding"])
        for f in np.flatnonzero(sounding.any(0)):
            for y, x in clip.meta["points"][f]:
                dist = [np.hypot(*(o["path"][f] - (y, x))) / o["radius"] for o in objects]
                k = int(np.argmin(dist))
                if dist[k] < 1.2:
                    on_source += int(sounding[k, f])
                    on_silent += int(not sounding[k, f])
    # w_sound 0.6 on the one source vs w_motion 0.15 spread over the objects
    assert on_source > 3 * on_silent


def test_a_sound_change_captures_every_observer():
    cfg = dataclasses.replace(AUDIO_DECIDES, dwell=1.0, w_sound=1.0, w_motion=0.0, w_centre=0.0, w_noise=0.0,
                              fixation_noise=0.0, silence_prob=0.0, sound_segment_s=(0.5, 0.5))
    ds = SyntheticSaliencyClips(cfg, 1, seed=0)
    clip, world = ds[0], ds._world
    objects = world.objects(world.rng(0, 1), cfg.frames_per_clip)
    sounding = np.array(clip.meta["sounding"])
    # even with dwell 1, after every switch all fixations are on the new source (within 3 sigma of scatter)
    for f in range(1, cfg.frames_per_clip):
        if sounding[:, f].any() and not np.array_equal(sounding[:, f], sounding[:, f - 1]):
            src = objects[int(np.flatnonzero(sounding[:, f])[0])]
            d = np.hypot(*(np.array(clip.meta["points"][f]) - src["path"][f]).T) / src["radius"]
            assert (d < 1.1).mean() > 0.9


def test_bad_observer_config_names_the_field():
    with pytest.raises(UsageError, match="silence_prob"):
        SaliencyConfig(silence_prob=1.5)
    with pytest.raises(UsageError, match="objects"):
        SaliencyConfig(objects=(3, 30), num_categories=8)


# ----------------------------------------------------------------------------- windows for teacher and student
def test_teacher_windows_end_at_the_target_frame_with_the_audio_heard_so_far():
    ds = SyntheticSaliencyClips(SMALL, 2, seed=0)  # 8 frames at 8 fps = 1 s of audio
    windows = SaliencyWindows(ds, frames=4, audio_samples=4000, stride=2)
    assert windows.targets == [3, 5, 7] and len(windows) == 6
    item, clip = windows[1], ds[0]
    assert item["frames"].shape == (4, 3, 48, 80) and item["frame"] == 5
    assert torch.equal(item["frames"], clip.frames[2:6]) and torch.equal(item["saliency"], clip.saliency[5])
    assert torch.equal(item["audio"], clip.audio[12000 - 4000 : 12000])  # frame 6 ends at 6/8 s
    assert item["labelled"] and item["annotated"]


def test_streaming_windows_start_once_the_audio_window_is_full():
    ds = SyntheticSaliencyClips(SMALL, 1, seed=0)
    windows = SaliencyWindows(ds, frames=1, audio_samples=6000)  # 0.375 s = 3 frames at 8 fps
    assert windows.targets == [2, 3, 4, 5, 6, 7]
    assert windows[0]["frames"].shape == (1, 3, 48, 80)


def test_windows_resize_frames_and_keep_every_fixation():
    ds = SyntheticSaliencyClips(SMALL, 1, seed=0)
    item = SaliencyWindows(ds, frames=2, audio_samples=2000, size=(24, 40))[0]
    assert item["frames"].shape == (2, 3, 24, 40) and item["saliency"].shape == (1, 24, 40)
    assert item["fixations"].sum() >= 1 and set(item["fixations"].unique().tolist()) <= {0.0, 1.0}


def test_shuffled_audio_comes_from_another_clip():
    ds = SyntheticSaliencyClips(SMALL, 3, seed=0)
    plain = SaliencyWindows(ds, frames=1, audio_samples=2000)
    shuffled = SaliencyWindows(ds, frames=1, audio_samples=2000, audio_shuffle_seed=0)
    per = len(plain.targets)
    for c in range(3):
        assert torch.equal(shuffled[c * per]["frames"], plain[c * per]["frames"])
        assert not torch.equal(shuffled[c * per]["audio"], plain[c * per]["audio"])


def test_clip_shorter_than_the_model_needs_is_a_one_line_error():
    ds = SyntheticSaliencyClips(SMALL, 1, seed=0)
    with pytest.raises(DataError, match="frames_per_clip=16"):
        SaliencyWindows(ds, frames=16, audio_samples=1000)
    with pytest.raises(DataError, match=r"2\.00 s of audio"):
        SaliencyWindows(ds, frames=1, audio_samples=32000)  # audio window longer than the 1 s clip


def test_layout_reader_serves_teacher_clips_and_unlabelled_videos(tmp_path):
    ds = SyntheticSaliencyClips(SMALL, 3, seed=2)
    write_av_saliency(ds, tmp_path, name="SynthAV", folds=1)
    videos = AVSaliencyVideos(tmp_path, "SynthAV", "train", 1, clip_frames=8)
    windows = SaliencyWindows(videos, frames=4, audio_samples=4000)
    assert windows[0]["frames"].shape == (4, 3, 48, 80) and windows[0]["labelled"]
    import shutil

    for maps in tmp_path.glob("annotations/SynthAV/*/maps"):
        shutil.rmtree(maps)
    item = SaliencyWindows(AVSaliencyVideos(tmp_path, "SynthAV", "train", 1, clip_frames=8), 4, 4000)[0]
    assert not item["labelled"] and item["saliency"].abs().sum() == 0 and item["fixations"].sum() == 0
