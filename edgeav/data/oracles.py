"""How much the sound matters in the synthetic scenes: the scores of oracles that know more or less.

Each oracle predicts, for every frame, the union of the visible pixels of a set of objects:

* ``all objects``: every object of a category (a model that segments objects but ignores audio and
  activity);
* ``activity cue``: every object showing the activity cue (a vision-only model that has learnt that
  sounding objects vibrate; fooled by decoys);
* ``sounding categories``: every object of a category that is sounding in that frame (a model that
  recognises categories from audio perfectly but cannot tell a silent twin from the source);
* ``sounding objects``: the ground truth (100 by construction).

The gaps between these and 100 are what a model loses by not using audio, or by using it only to
recognise categories.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import torch

from edgeav.data.synthetic import PRESETS, SceneConfig, SceneObject, SyntheticAVScenes
from edgeav.metrics.segmentation import SegmentationMeter

Select = Callable[[SceneObject, int, set], bool]

ORACLES: dict[str, Select] = {
    "all objects": lambda obj, t, cats: True,
    "activity cue": lambda obj, t, cats: bool(obj.active[t]),
    "sounding categories": lambda obj, t, cats: obj.category in cats,
    "sounding objects": lambda obj, t, cats: bool(obj.sounding[t]),
}


def oracle_scores(
    kind: str = "ms3", num_scenes: int = 200, seed: int = 0, config: SceneConfig | None = None
) -> dict[str, dict[str, float]]:
    """``{oracle: {"miou": ..., "fscore": ...}}`` (in [0, 1]) over ``num_scenes`` scenes of ``kind``."""
    dataset = SyntheticAVScenes(config or PRESETS[kind], num_scenes, seed)
    meters = {name: SegmentationMeter(from_logits=False) for name in ORACLES}
    with one_torch_thread():
        for i in range(num_scenes):
            _score_scene(dataset, i, meters)
    return {name: {k: v for k, v in m.compute().items() if k != "frames"} for name, m in meters.items()}


@contextlib.contextmanager
def one_torch_thread() -> Iterator[None]:
    """Small tensor ops on a busy 2-core machine run many times faster on one intra-op thread."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _score_scene(dataset: SyntheticAVScenes, i: int, meters: dict[str, SegmentationMeter]) -> None:
    scene = dataset.scene(i)
    frames = scene.instance_ids.shape[0]
    sounding_cats = [{o.category for o in scene.objects if o.sounding[t]} for t in range(frames)]
    gt = torch.from_numpy(scene.object_masks(lambda o, t: bool(o.sounding[t])).astype("float32"))
    for name, select in ORACLES.items():
        pred = scene.object_masks(lambda o, t, s=select: s(o, t, sounding_cats[t]))
        meters[name].update(torch.from_numpy(pred.astype("float32")), gt)
