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
