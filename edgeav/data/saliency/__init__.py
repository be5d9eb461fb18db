"""Audio-visual saliency data: synthetic clips and still images with an observer model, and the layouts.

See :mod:`edgeav.data.saliency.synthetic` for the observer model and :mod:`edgeav.data.saliency.layout`
for the folder layouts.
"""
from edgeav.data.saliency.layout import (
    AVSaliencyVideos,
    SaliencyImageFolder,
    read_fold_list,
    write_av_saliency,
    write_saliency_images,
)
from edgeav.data.saliency.samples import SaliencyWindows, audio_ending_at, resize_maps
from edgeav.data.saliency.synthetic import (
    SaliencyConfig,
    SyntheticSaliencyClips,
    SyntheticSaliencyImages,
)

__all__ = [
    "AVSaliencyVideos",
    "SaliencyConfig",
    "SaliencyImageFolder",
    "SaliencyWindows",
    "SyntheticSaliencyClips",
    "SyntheticSaliencyImages",
    "audio_ending_at",
    "read_fold_list",
    "resize_maps",
    "write_av_saliency",
    "write_saliency_images",
]
