"""Loading trained weights into a registry model, with one-line errors that say what is wrong and what to do."""
from __future__ import annotations

import pickle
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from edgeav.data.windows import split_option
from edgeav.errors import CheckpointError
from edgeav.files import one_line, sha256_file, write_atomically

# Where training scripts nest the weights, in the order they are preferred (EMA weights are what one deploys).
STATE_DICT_KEYS = ("state_dict_ema", "state_dict", "model")
_SHOW = 3  # how many key names an error message lists


@dataclass(frozen=True)
class CheckpointInfo:
    """What was loaded: for the manifest and the CLI."""

    path: Path
    sha256: str
    key: str | None  # the nesting key the weights came from; None for a raw state dict
    tensors: int
    # The audio window of the data `edgeav train` fitted it on (its model_meta "data" spec); None: not recorded.
    audio_window: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"source": "checkpoint", "path": str(self.path), "sha256": self.sha256, "key": self.key,
                "tensors": self.tensors, "audio_window": self.audio_window}


def save_atomically(payload: Any, path: str | Path) -> Path:
    """``torch.save`` to a temporary file beside ``path``, then rename: a crash never leaves half a checkpoint."""
    return write_atomically(path, lambda f: torch.save(payload, f))


def load_checkpoint(
    model: nn.Module, path: str | Path, transform: Callable[[dict[str, torch.Tensor]], dict[str, torch.Tensor]] | None = None
) -> CheckpointInfo:
    """Load the weights at ``path`` into ``model`` (strictly: every key, every shape).

    Accepts a raw state dict or a dict holding one under ``state_dict_ema``, ``state_dict`` or ``model``
    (first present wins); a DataParallel ``module.`` prefix is removed. Reads with ``weights_only=True``.
    Raises CheckpointError with a one-line message naming the problem and the fix.
    """
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"checkpoint '{path}' does not exist; check the path")
    if not path.is_file():
        raise CheckpointError(f"checkpoint '{path}' is a directory; pass the .pt/.pth file inside it")
    loaded = _read(path)
    state, key = _state_dict(loaded, path)
    state = _strip_prefix(state, "module.")
    if transform is not None:  # an upstream key layout mapped onto ours (e.g. a PANNs checkpoint)
        state = transform(state)
    check_fits(model, state, path)
    model.load_state_dict(state, strict=True)
    return CheckpointInfo(path=path, sha256=sha256_file(path), key=key, tensors=len(state),
                          audio_window=_trained_audio_window(loaded))


# How every torch.save file begins: a zip archive (the default since 1.6) or a pickle's PROTO opcode (legacy).
_TORCH_SAVE_MAGIC = (b"PK\x03\x04", b"\x80")


def _read(path: Path) -> Any:
    try:
        with path.open("rb") as f:
            head = f.read(4)
    except PermissionError:
        raise CheckpointError(f"cannot read checkpoint '{path}': permission denied; fix its permissions (chmod u+r) "
                              "or copy it somewhere readable") from None
    if not head.startswith(_TORCH_SAVE_MAGIC):
        raise CheckpointError(
            f"'{path}' is not a PyTorch checkpoint (not a torch.save file); pass the .pt/.pth file that "
            "torch.save wrote"
        )
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "weights only" in str(exc).lower() or "weights_only" in str(exc):
            raise CheckpointError(
                f"checkpoint '{path}' holds Python objects besides tensors, which weights_only=True refuses; "
                "re-save it with torch.save(model.state_dict(), path)"
            ) from exc
        raise CheckpointError(f"checkpoint '{path}' is corrupt ({one_line(exc)}); re-download or re-save it") from exc
    except Exception as exc:  # corrupt pickles raise KeyError, EOFError, RuntimeError, BadZipFile, ...
        raise CheckpointError(
            f"cannot read checkpoint '{path}': truncated or not a torch.save file ({one_line(exc)}); "
            "re-download or re-save it"
        ) from exc


def _trained_audio_window(loaded: Any) -> str | None:
    meta = loaded.get("model_meta") if isinstance(loaded, Mapping) else None
    spec = meta.get("data") if isinstance(meta, Mapping) else None
    return split_option(spec)[1] if isinstance(spec, str) else None


def _state_dict(loaded: Any, path: Path) -> tuple[dict[str, torch.Tensor], str | None]:
    if not isinstance(loaded, Mapping):
        raise CheckpointError(
            f"checkpoint '{path}' holds a {type(loaded).__name__}, not a state dict; "
            "save it with torch.save(model.state_dict(), path)"
        )
    key = next((k for k in STATE_DICT_KEYS if isinstance(loaded.get(k), Mapping)), None)
    state = loaded[key] if key else loaded
    bad = [k for k, v in state.items() if not isinstance(v, torch.Tensor)]
    if bad or not state:
        where = f"under '{key}'" if key else "at the top level"
        what = f"non-tensor entries ({_names(bad)})" if bad else "nothing"
        raise CheckpointError(
            f"checkpoint '{path}' has {what} {where}; expected a state dict (name -> tensor), raw or under one "
            f"of {', '.join(STATE_DICT_KEYS)}"
        )
    return dict(state), key


def _strip_prefix(state: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    if state and all(k.startswith(prefix) for k in state):
        return {k[len(prefix):]: v for k, v in state.items()}
    return state


def check_fits(model: nn.Module, state: Mapping[str, torch.Tensor], path: Path) -> None:
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing keys ({_names(missing)})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected keys ({_names(unexpected)})")
        raise CheckpointError(
            f"checkpoint '{path}' does not fit {type(model).__name__}: {', '.join(parts)}; "
            "is it for another model, or saved from a wrapper? check --model/--config"
        )
    wrong = [
        f"{k} {list(state[k].shape)} vs model {list(v.shape)}"
        for k, v in expected.items()
        if tuple(state[k].shape) != tuple(v.shape)
    ]
    if wrong:
        shown = "; ".join(wrong[:_SHOW]) + ("; ..." if len(wrong) > _SHOW else "")
        raise CheckpointError(
            f"checkpoint '{path}' has {len(wrong)} tensors of the wrong shape ({shown}); "
            "was it trained with another --config?"
        )


def _names(keys: list[str]) -> str:
    return ", ".join(keys[:_SHOW]) + (", ..." if len(keys) > _SHOW else "")
