"""AVSBench S4 / MS3 / AVSS: readers of the official layouts, and writers of datasets into them.

``root`` is the folder holding ``Single-source/``, ``Multi-sources/`` and ``AVSS/`` (AVSBench's
``avsbench_data``), or one of those three folders itself. Layouts (from AVSBench's preprocessing and
loaders; see docs/data.md):

* S4:  ``Single-source/s4_meta_data.csv`` (name, start_time, category, split);
  ``s4_data/visual_frames/{split}/{category}/{name}/{name}_{1..5}.png``;
  ``s4_data/gt_masks/{split}/{category}/{name}/{name}_{i}.png`` (mode '1'; train annotates frame 1 only);
  ``s4_data/audio_log_mel/{split}/{category}/{name}.pkl`` (pickled [5, 1, 96, 64] tensor);
  ``s4_data/audio_wav/{split}/{category}/{name}.wav`` (16 kHz).
* MS3: ``Multi-sources/ms3_meta_data.csv`` (video_id, split); ``ms3_data/visual_frames/{name}/{name}.mp4_{i}.png``;
  ``ms3_data/gt_masks/{split}/{name}/{name}_{i}.png`` (mode 'P'); ``ms3_data/audio_log_mel/{split}/{name}.pkl``;
  ``ms3_data/audio_wav/{split}/{name}.wav``.
* AVSS: ``AVSS/metadata.csv`` (uid, label, split); ``AVSS/label2idx.json``; ``AVSS/{label}/{uid}/frames/{i}.jpg``
  (0-based); ``AVSS/{label}/{uid}/labels_rgb/{i}.png`` (colour label maps); ``AVSS/{label}/{uid}/audio.wav``.

Readers return :class:`AVClip` with frames resized to ``image_size`` (bilinear; masks nearest), ``audio``
from the wav when there is one (else None) and ``logmel`` from the pickle when there is one. Frames
without a ground-truth mask (S4 train frames 2-5, AVSS v1s) are zeros with ``annotated`` False. Writers
write every frame's mask; the official loaders read the subset they expect.
"""
from edgeav.data.avsbench.layout import (
    LAYOUTS,
    MS3_LAYOUT,
    S4_LAYOUT,
    SPLITS,
    BinaryLayout,
    detect_kinds,
)
from edgeav.data.avsbench.readers import (
    READERS,
    AVSBenchAVSS,
    AVSBenchMS3,
    AVSBenchS4,
    available_splits,
)
from edgeav.data.avsbench.writers import write_avsbench

__all__ = [
    "LAYOUTS",
    "MS3_LAYOUT",
    "READERS",
    "S4_LAYOUT",
    "SPLITS",
    "AVSBenchAVSS",
    "AVSBenchMS3",
    "AVSBenchS4",
    "BinaryLayout",
    "available_splits",
    "detect_kinds",
    "write_avsbench",
]
