"""``open_dataset(spec, split)``: one string names any dataset edgeav can read or generate.

Specs (``--data SPEC`` on the command line):

=================================  ================================================================
``synthetic-s4[:k=v,...]``         generated S4-like scenes; options ``scenes`` (train size, default
``synthetic-ms3[:k=v,...]``        1000; val/test get a fifth of it), ``seed`` (default 0) and any
``synthetic-avss[:k=v,...]``       :class:`SceneConfig` field, e.g. ``synthetic-ms3:scenes=200,image_size=128``
``synthetic-saliency[:k=v,...]``   generated AV saliency clips (``clips``, ``seed``, SaliencyConfig fields)
``synthetic-saliency-images[:..]`` generated still images with fixations (``images``, ``seed``, ...)
``avsbench-s4:PATH``               AVSBench layouts (real downloads or ``edgeav data make`` output)
``avsbench-ms3:PATH``
``avsbench-avss:PATH``
``avsal-NAME:PATH``                audio-visual saliency layout, dataset NAME (DIEM, Coutrot_db1, ...); fold 1
``saliency-images:PATH``           still-image saliency layout
``salicon:PATH``                   SALICON (LSUN 2017 layout: images/, maps/, fixations/*.mat); train, val
``mit1003:PATH``                   MIT1003 (ALLSTIMULI/, ALLFIXATIONMAPS/); every 10th image held out (val = test)
``PATH``                           a folder written by ``edgeav data make``: its layout is detected
=================================  ================================================================

Every spec also takes ``audio_window=centred|trailing`` (default centred; see :mod:`edgeav.data.windows`).

Synthetic splits differ by seed: split ``s`` of seed ``k`` uses seed ``1000·k + index(s)``.
"""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edgeav.data.avsbench import READERS, detect_kinds
from edgeav.data.saliency import (
    AVSaliencyVideos,
    SaliencyConfig,
    SaliencyImageFolder,
    SyntheticSaliencyClips,
    SyntheticSaliencyImages,
)
from edgeav.data.saliency.mit1003 import MIT1003Images
from edgeav.data.saliency.salicon import SaliconImages
from edgeav.data.synthetic import PRESETS, SyntheticAVScenes, scene_config
from edgeav.data.windows import DEFAULT_AUDIO_WINDOW, WindowedClips, split_option
from edgeav.errors import DataError, UsageError

SPLITS = ("train", "val", "test")
DEFAULT_TRAIN_SIZE = 1000


def split_seed(seed: int, split: str) -> int:
    if split not in SPLITS:
        raise UsageError(f"split '{split}' is unknown; choose one of {', '.join(SPLITS)}")
    return 1000 * seed + SPLITS.index(split)


def split_size(train_size: int, split: str) -> int:
    return train_size if split == "train" else max(1, train_size // 5)


def _parse_options(text: str, spec: str) -> dict[str, str]:
    options = {}
    for part in filter(None, text.split(",")):
        key, sep, value = part.partition("=")
        if not sep:
            raise UsageError(f"option '{part}' in '{spec}' must be key=value, e.g. scenes=200")
        options[key.strip()] = value.strip()
    return options


def _coerce(defaults: Any, options: dict[str, str], spec: str) -> dict[str, Any]:
    """Option strings → dataclass fields typed like those of ``defaults`` (ints, floats, "a-b" ranges)."""
    fields = {f.name: f for f in dataclasses.fields(defaults)}
    out: dict[str, Any] = {}
    for key, value in options.items():
        if key not in fields:
            raise UsageError(f"'{key}' in '{spec}' is not a {type(defaults).__name__} field; choose from {', '.join(fields)}")
        default = getattr(defaults, key)
        try:
            if isinstance(default, tuple):
                out[key] = tuple(type(d)(v) for d, v in zip(default, value.split("-")))
            elif isinstance(default, bool):
                out[key] = value.lower() in ("1", "true", "yes")
            else:
                out[key] = type(default)(value)
        except ValueError as exc:
            raise UsageError(f"bad value '{value}' for '{key}' in '{spec}': {exc}") from exc
    return out


def _synthetic_av(kind: str) -> Callable[[str, str, str], Any]:
    def open_(spec: str, options: str, split: str) -> SyntheticAVScenes:
        opts = _parse_options(options, spec)
        size = int(opts.pop("scenes", DEFAULT_TRAIN_SIZE))
        seed = int(opts.pop("seed", 0))
        if "kind" in opts:
            raise UsageError(f"'{spec}': the kind comes from the name (synthetic-{kind}); drop kind=")
        config = scene_config(kind, **_coerce(PRESETS[kind], opts, spec))
        return SyntheticAVScenes(config, split_size(size, split), split_seed(seed, split))

    return open_


def _synthetic_saliency(cls: type, count_key: str) -> Callable[[str, str, str], Any]:
    def open_(spec: str, options: str, split: str) -> Any:
        opts = _parse_options(options, spec)
        size = int(opts.pop(count_key, 100))
        seed = int(opts.pop("seed", 0))
        config = SaliencyConfig(**_coerce(SaliencyConfig(), opts, spec))
        return cls(config, split_size(size, split), split_seed(seed, split))

    return open_


def _avsbench(kind: str) -> Callable[[str, str, str], Any]:
    def open_(spec: str, path: str, split: str) -> Any:
        if not path:
            raise UsageError(f"'{spec}' needs a folder: avsbench-{kind}:PATH")
        return READERS[kind](path, split)

    return open_


def _av_saliency(spec: str, path: str, split: str) -> AVSaliencyVideos:
    name = spec.split(":", 1)[0].removeprefix("avsal-")
    if split == "val":
        raise UsageError("audio-visual saliency datasets have train and test fold lists only; use --split test")
    return AVSaliencyVideos(path, name, split)


OPENERS: dict[str, Callable[[str, str, str], Any]] = {
    "synthetic-s4": _synthetic_av("s4"),
    "synthetic-ms3": _synthetic_av("ms3"),
    "synthetic-avss": _synthetic_av("avss"),
    "synthetic-saliency": _synthetic_saliency(SyntheticSaliencyClips, "clips"),
    "synthetic-saliency-images": _synthetic_saliency(SyntheticSaliencyImages, "images"),
    "avsbench-s4": _avsbench("s4"),
    "avsbench-ms3": _avsbench("ms3"),
    "avsbench-avss": _avsbench("avss"),
    "saliency-images": lambda spec, path, split: SaliencyImageFolder(path, split),
    "salicon": lambda spec, path, split: SaliconImages(path, split),
    "mit1003": lambda spec, path, split: MIT1003Images(path, split),
}


# What each scheme's data is for: (task, semantic labels). A model meets data through this table first, so
# saliency clips given to a segmentation model (or the reverse) fail in one line naming both.
DATA_TASKS: dict[str, tuple[str, bool]] = {
    "synthetic-s4": ("segmentation", False),
    "synthetic-ms3": ("segmentation", False),
    "synthetic-avss": ("segmentation", True),
    "avsbench-s4": ("segmentation", False),
    "avsbench-ms3": ("segmentation", False),
    "avsbench-avss": ("segmentation", True),
    "synthetic-saliency": ("saliency", False),
    "synthetic-saliency-images": ("saliency", False),
    "saliency-images": ("saliency", False),
    "salicon": ("saliency", False),
    "mit1003": ("saliency", False),
    "avsal-": ("saliency", False),
}


def data_task(spec: str) -> tuple[str, bool] | None:
    """(task, semantic) of the data ``spec`` names, without reading it (a folder: by its layout); None
    when the spec is unknown (opening it then says so)."""
    spec, _ = split_option(spec)
    scheme = spec.partition(":")[0]
    if scheme.startswith("avsal-"):
        scheme = "avsal-"
    if scheme in DATA_TASKS:
        return DATA_TASKS[scheme]
    if Path(spec).is_dir():
        return data_task(detect_spec(spec))
    return None


def detect_spec(path: str | Path) -> str:
    """The spec that reads a folder written by ``edgeav data make`` (or a real AVSBench / saliency tree)."""
    root = Path(path)
    if not root.is_dir():
        raise DataError(f"{root} is not a folder; pass a dataset folder or a spec such as synthetic-ms3")
    kinds = detect_kinds(root)
    if len(kinds) == 1:
        return f"avsbench-{kinds[0]}:{root}"
    if len(kinds) > 1:
        raise UsageError(f"{root} holds several AVSBench subsets ({', '.join(kinds)}); pass avsbench-KIND:{root}")
    manifest = root / "edgeav_dataset.json"
    if manifest.exists():
        names = list(json.loads(manifest.read_text()).get("datasets", {}))
        if names:
            return f"avsal-{names[0]}:{root}"
    if (root / "fold_lists").is_dir():
        lists = sorted((root / "fold_lists").glob("*_list_*_fps.txt"))
        if lists:
            return f"avsal-{lists[0].name.split('_list_')[0]}:{root}"
    if (root / "ALLSTIMULI").is_dir():
        return f"mit1003:{root}"
    if (root / "images").is_dir() and (root / "fixations").is_dir():
        if any((root / "fixations").glob("*/*.mat")):
            return f"salicon:{root}"
        return f"saliency-images:{root}"
    raise DataError(
        f"{root} has no known layout: expected {root / 'Single-source' / 's4_meta_data.csv'}, "
        f"{root / 'Multi-sources' / 'ms3_meta_data.csv'}, {root / 'AVSS' / 'metadata.csv'}, {root / 'fold_lists'} "
        f"or {root / 'images'}"
    )


def open_dataset(spec: str, split: str = "train") -> Any:
    """The dataset named by ``spec`` (see the module docstring), split ``split``; any spec takes
    ``audio_window=centred|trailing`` (:mod:`edgeav.data.windows`)."""
    if split not in SPLITS:
        raise UsageError(f"split '{split}' is unknown; choose one of {', '.join(SPLITS)}")
    spec, window = split_option(spec)
    clips = _open(spec, split)
    return clips if window == DEFAULT_AUDIO_WINDOW else WindowedClips(clips, window)


def _open(spec: str, split: str) -> Any:
    scheme, _, rest = spec.partition(":")
    if scheme in OPENERS:
        return OPENERS[scheme](spec, rest, split)
    if scheme.startswith("avsal-") and len(scheme) > len("avsal-"):
        return _av_saliency(spec, rest, split)
    if Path(spec).exists():
        return _open(detect_spec(spec), split)
    raise UsageError(
        f"unknown dataset '{spec}'; use one of {', '.join(OPENERS)}, avsal-NAME:PATH, or a dataset folder"
    )
