"""Frame samples: clips are rendered once and kept within the cache budget; cached items equal fresh ones."""
from __future__ import annotations

import torch

from edgeav.data.synthetic import SceneConfig, SyntheticAVScenes
from edgeav.train.samples import FrameSamples


class CountingScenes(SyntheticAVScenes):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.renders = 0

    def __getitem__(self, index: int):
        self.renders += 1
        return super().__getitem__(index)


def _scenes(n: int = 3) -> CountingScenes:
    return CountingScenes(SceneConfig(kind="ms3", image_size=32, frames_per_clip=3), num_scenes=n, seed=1)


def test_each_clip_is_rendered_once_and_cached_items_equal_fresh_ones() -> None:
    cached, fresh = FrameSamples(_scenes()), FrameSamples(_scenes(), cache_mb=0)
    for _ in range(2):
        for i in range(len(cached)):
            a, b = cached[i], fresh[i]
            assert all(torch.equal(a[k], b[k]) for k in ("frames", "audio", "mask"))
    assert cached.clips.renders == 1 + 3  # the constructor's look at clip 0, then each clip once
    assert fresh.clips.renders == 1 + 2 * len(fresh)


def test_the_cache_stops_at_its_budget() -> None:
    data = FrameSamples(_scenes(6), cache_mb=1)  # one 32² clip with 3 s of 16 kHz audio is 240 kB
    for i in range(len(data)):
        data[i]
    assert len(data._cache) == 4 and data._cache_bytes <= 2**20
