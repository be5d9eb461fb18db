"""Datasets: the synthetic audio-visual world, readers and writers of the public layouts, and specs.

* :mod:`edgeav.data.synthetic`: S4 / MS3 / AVSS-like segmentation scenes (``SyntheticAVScenes``);
* :mod:`edgeav.data.saliency`: audio-visual saliency clips and still images with fixations;
* :mod:`edgeav.data.avsbench`: AVSBench readers and writers;
* :mod:`edgeav.data.registry`: ``open_dataset("synthetic-ms3", "train")`` and friends;
* :mod:`edgeav.data.oracles`: how much the sound decides the target in the synthetic scenes.
"""
from edgeav.data.avsbench import AVSBenchAVSS, AVSBenchMS3, AVSBenchS4, write_avsbench
from edgeav.data.categories import Category, category_bank
from edgeav.data.clips import AVClip, SaliencyClip, SaliencyImage, collate_clips
from edgeav.data.oracles import ORACLES, oracle_scores
from edgeav.data.registry import open_dataset
from edgeav.data.saliency import (
    AVSaliencyVideos,
    SaliencyConfig,
    SaliencyImageFolder,
    SyntheticSaliencyClips,
    SyntheticSaliencyImages,
    write_av_saliency,
    write_saliency_images,
)
from edgeav.data.synthetic import PRESETS, SceneConfig, SyntheticAVScenes, scene_config

__all__ = [
    "ORACLES",
    "PRESETS",
    "AVClip",
    "AVSBenchAVSS",
    "AVSBenchMS3",
    "AVSBenchS4",
    "AVSaliencyVideos",
    "Category",
    "SaliencyClip",
    "SaliencyConfig",
    "SaliencyImage",
    "SaliencyImageFolder",
    "SceneConfig",
    "SyntheticAVScenes",
    "SyntheticSaliencyClips",
    "SyntheticSaliencyImages",
    "category_bank",
    "collate_clips",
    "open_dataset",
    "oracle_scores",
    "scene_config",
    "write_av_saliency",
    "write_avsbench",
    "write_saliency_images",
]
