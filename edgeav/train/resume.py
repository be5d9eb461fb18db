"""What a resumed run must share with the run it continues, checked by name before any weight is loaded.

A checkpoint records its TrainConfig and the model/config/data it was trained on. Resuming with another
model or config cannot work (refused in one line, not a page of size mismatches); another ``--data``,
``--lr``, ``--batch-size`` (any field the loss curve depends on) would silently continue a different
run, so it is refused unless the caller allows changes, and then reported by name.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from edgeav.errors import CheckpointError

# Fields that decide the loss curve from a given step on, with the flag that sets each.
REPLAY_FIELDS = {
    "batch_size": "--batch-size",
    "lr": "--lr",
    "weight_decay": "--weight-decay",
    "grad_clip": "--grad-clip",
    "seed": "--seed",
    "warmup_steps": "--warmup-steps",
    "poly_power": "poly_power",
}
META_FIELDS = {"data": "--data"}
IDENTITY_FIELDS = {"model": "--model", "config": "--config"}


def read_training_checkpoint(path: Path, device: torch.device) -> dict[str, Any]:
    """The payload :meth:`Trainer.save` wrote, or a one-line CheckpointError naming the path and the fix."""
    path = Path(path)
    if not path.is_file():
        what = "a folder" if path.is_dir() else "no file"
        raise CheckpointError(f"--resume: {path} is {what}; point it at a run's last.pt")
    try:
        payload = torch.load(path, map_location=device, weights_only=True)
    except PermissionError:
        raise CheckpointError(f"--resume: cannot read {path}: permission denied; fix its permissions (chmod u+r)") from None
    except Exception as exc:  # truncated or not a torch file
        raise CheckpointError(
            f"--resume: cannot read {path} ({type(exc).__name__}); it is not a complete edgeav checkpoint — "
            "resume from an earlier step_*.pt or start over with --overwrite"
        ) from None
    if not isinstance(payload, dict) or "optimizer" not in payload or "step" not in payload:
        raise CheckpointError(
            f"--resume: {path} is not an edgeav training checkpoint (no optimizer/step); use --checkpoint to start from weights"
        )
    return payload


def check_identity(payload: Mapping[str, Any], meta: Mapping[str, Any], path: Path) -> None:
    """CheckpointError when the checkpoint was trained as another model or config."""
    recorded = payload.get("model_meta") or {}
    for key, flag in IDENTITY_FIELDS.items():
        was, now = recorded.get(key), meta.get(key)
        if was is not None and now is not None and was != now:
            raise CheckpointError(
                f"--resume: {path} is a run of {recorded.get('model')} [{recorded.get('config')}], not "
                f"{meta.get('model')} [{meta.get('config')}]; pass {flag} {was} to continue it, or drop --resume"
            )


def changes(payload: Mapping[str, Any], cfg: Mapping[str, Any], meta: Mapping[str, Any]) -> list[str]:
    """Each recorded hyper-parameter or data spec this call changes, as ``--flag NEW (the run used OLD)``."""
    recorded_cfg = payload.get("train_config") or {}
    recorded_meta = payload.get("model_meta") or {}
    out = []
    for table, recorded, now in ((REPLAY_FIELDS, recorded_cfg, cfg), (META_FIELDS, recorded_meta, meta)):
        for key, flag in table.items():
            if key in recorded and key in now and recorded[key] != now[key]:
                out.append(f"{flag} {now[key]} (the run used {recorded[key]})")
    return out


def schedule_note(payload: Mapping[str, Any], steps: int) -> str | None:
    """A note when ``--steps`` moves the end of the learning-rate schedule the run was on."""
    planned = (payload.get("train_config") or {}).get("steps")
    if planned is None or planned == steps:
        return None
    return f"--steps {steps} (the run planned {planned}): the poly learning-rate schedule now ends at step {steps}"
