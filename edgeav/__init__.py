"""edgeav: audio-visual segmentation and saliency models from a PyTorch checkpoint to a phone.

    import edgeav
    results = edgeav.export(edgeav.load_model("lightavseg", "small"), target="android", out="dist")
    report = edgeav.bench(results)

``load_model``, ``export`` and ``bench`` (edgeav/api.py) are imported on first use, so ``import edgeav``
stays light (no torch, no converters) for code that only needs the registry or the data layer.
"""
from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_API = ("load_model", "export", "bench")
__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    if name in _API:
        from edgeav import api

        return getattr(api, name)
    raise AttributeError(f"module 'edgeav' has no attribute '{name}'")


def __dir__() -> list[str]:
    return sorted({*globals(), *_API})
