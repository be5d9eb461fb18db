"""Audio-tagging pretraining: labels from the scenes, the PANNs checkpoint layout, loading into LightAVSeg."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from edgeav.data.synthetic import SceneConfig, SyntheticAVScenes
from edgeav.errors import UsageError
from edgeav.models.lightavseg.configs import LIGHTAVSEG_SMALL
from edgeav.models.lightavseg.model import LightAVSeg
from edgeav.registry import get_model_entry
from edgeav.train.audio_tagging import (
    AudioTagger,
    TaggingConfig,
    audio_trunk,
    load_audio_trunk,
    save_tagging_checkpoint,
    tagged_seconds,
    train_tagger,
)


def _clips() -> SyntheticAVScenes:
    return SyntheticAVScenes(SceneConfig(kind="ms3", image_size=32, frames_per_clip=2), num_scenes=4, seed=2)


def test_each_second_is_tagged_with_the_categories_sounding_in_it() -> None:
    clips = _clips()
    pcm, tags = tagged_seconds(clips, clips.class_names)
    assert pcm.shape == (8, 16000) and tags.shape == (8, len(clips.class_names))
    clip = clips[1]
    for t in range(2):
        sounding = {o["category"] for o in clip.meta["objects"] if o["role"] == "source" and o["sounding"][t]}
        got = {clips.class_names[k] for k in torch.nonzero(tags[2 + t]).flatten().tolist()}
        assert got == sounding


def test_pretrained_trunk_round_trips_through_the_panns_layout(tmp_path: Path) -> None:
    clips = _clips()
    pcm, tags = tagged_seconds(clips, clips.class_names)
    torch.manual_seed(0)
    tagger = AudioTagger(LIGHTAVSEG_SMALL.audio, LIGHTAVSEG_SMALL.logmel, len(clips.class_names))
    losses = train_tagger(tagger, pcm, tags, TaggingConfig(steps=8, batch_size=8, lr=3e-3))
    assert sum(losses[-3:]) / 3 < sum(losses[:3]) / 3
    path = save_tagging_checkpoint(tagger, tmp_path / "panns.pt")
    saved = torch.load(path, weights_only=True)["model"]
    assert {k.split(".")[0] for k in saved} == {"bn0", "features", "fc1", "fc_audioset"}
    model = LightAVSeg(LIGHTAVSEG_SMALL)
    load_audio_trunk(model.audio, path)
    for name, value in tagger.trunk.state_dict().items():
        assert torch.equal(model.audio.state_dict()[name], value), name


def test_vggish_pretraining_round_trips_through_the_torchvggish_layout(tmp_path: Path) -> None:
    clips = _clips()
    pcm, tags = tagged_seconds(clips, clips.class_names)
    torch.manual_seed(0)
    cfg = get_model_entry("avesformer-r18").config("small")
    tagger = AudioTagger(cfg.audio, cfg.logmel, len(clips.class_names))
    losses = train_tagger(tagger, pcm, tags, TaggingConfig(steps=8, batch_size=8, lr=3e-3))
    assert sum(losses[-3:]) / 3 < sum(losses[:3]) / 3
    path = save_tagging_checkpoint(tagger, tmp_path / tagger.family.checkpoint_name)
    saved = torch.load(path, weights_only=True)
    assert {k.split(".")[0] for k in saved} == {"features", "embeddings", "fc_audioset"}  # torchvggish + head
    model = get_model_entry("avesformer-r18").build("small")
    load_audio_trunk(audio_trunk(model), path)
    for name, value in tagger.trunk.state_dict().items():
        assert torch.equal(model.vggish.state_dict()[name], value), name


def test_audio_weights_on_a_model_without_a_trunk_is_one_line() -> None:
    with pytest.raises(UsageError, match="has none"):
        audio_trunk(torch.nn.Linear(2, 2), "linear")


def _saliency_clips():
    from edgeav.data.saliency import SaliencyConfig, SyntheticSaliencyClips

    return SyntheticSaliencyClips(SaliencyConfig(frame_size=(32, 48), frames_per_clip=12, num_categories=4, observers=2,
                                                 sound_segment_s=(0.3, 0.6), silence_prob=0.3), size=3, seed=1)


def test_saliency_windows_are_tagged_with_the_categories_heard_in_them() -> None:
    from edgeav.train.audio_tagging import tagged_windows

    clips = _saliency_clips()
    window = 4000  # 0.25 s at 16 kHz: the 3 frames (10 fps) that end with the target frame
    pcm, tags = tagged_windows(clips, clips.class_names, window, stride=1)
    assert pcm.shape == (3 * 10, window) and tags.shape == (30, 4)  # targets 2..11 of every clip
    clip = clips[2]
    for k, t in enumerate(range(2, 12)):
        heard = {name for name, on in zip(clip.meta["categories"], clip.meta["sounding"]) if any(on[t - 2 : t + 1])}
        assert {clips.class_names[c] for c in torch.nonzero(tags[20 + k]).flatten().tolist()} == heard
        assert torch.equal(pcm[20 + k], clip.audio[(t + 1) * 1600 - window : (t + 1) * 1600])
    assert 0 < tags.sum(1).bool().float().mean() < 1  # some windows are silent, some are not


def test_dtfsal_trunk_pretraining_loads_frozen_into_the_teacher(tmp_path: Path) -> None:
    import argparse
    import dataclasses

    from edgeav.cli.train_cmd import _build
    from edgeav.models.dtfsal.configs import DTFSAL_SMALL
    from edgeav.models.dtfsal.model import DTFSal
    from edgeav.train.audio_tagging import build_tagger, load_audio_weights, tagged_audio, tagger_family

    cfg = dataclasses.replace(DTFSAL_SMALL, audio_norm=True)
    clips = _saliency_clips()
    pcm, tags = tagged_audio(clips, clips.class_names, cfg)
    torch.manual_seed(0)
    tagger = build_tagger(cfg, len(clips.class_names))
    losses = train_tagger(tagger, pcm, tags, TaggingConfig(steps=8, batch_size=8, lr=3e-3))
    assert sum(losses[-3:]) / 3 < sum(losses[:3]) / 3
    path = save_tagging_checkpoint(tagger, tmp_path / tagger_family(tagger).checkpoint_name)
    saved = torch.load(path, weights_only=True)
    assert path.name == "vggish_tagging.pt" and {k.split(".")[0] for k in saved} == {"features", "logmel_norm", "fc_audioset"}
    teacher = DTFSal(dataclasses.replace(cfg, freeze_audio=True))
    load_audio_weights(teacher, get_model_entry("dtfsal"), path)
    for name, value in tagger.trunk.state_dict().items():  # slices (no weights), norm with its statistics, vggish
        assert torch.equal(teacher.audio.state_dict()[name], value), name
    teacher.train()
    assert not teacher.audio.norm.training and teacher.audio.temporal.training
    # `edgeav train --audio-weights` freezes the trunk and the log-mel norm; the temporal layer still trains
    plain = tmp_path / "plain.pt"
    torch.save({k: v for k, v in saved.items() if not k.startswith("logmel_norm.")}, plain)  # `small` has no log-mel norm
    args = argparse.Namespace(model="dtfsal", config="small", checkpoint=None, seed=0, audio_weights=plain)
    _, built_cfg, model = _build(args)
    assert built_cfg.freeze_audio and not any(p.requires_grad for p in model.audio.vggish.parameters())
    assert all(p.requires_grad for p in model.audio.temporal.parameters())
    assert torch.equal(model.audio.vggish[0].weight, saved["features.0.weight"])
