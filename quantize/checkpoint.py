"""The quantization checkpoint (``quantized.pt``): what `edgeav quantize` writes and `edgeav export
--precision int8 --qat-checkpoint` reads.

It holds the prepared graph's state (fine-tuned weights, BatchNorm statistics, observer/fake-quantizer
ranges) plus the record of how it was made. Restoring rebuilds the same graph from the registry model —
same capture, same quantizer — and loads that state strictly, so a mismatch (another model, config,
``--keep-fp32`` or edgeav version) fails loudly instead of lowering wrong ranges.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from edgeav.checkpoints import save_atomically
from edgeav.errors import CheckpointError
from edgeav.files import storage_errors
from quantize.api import ModelRewrite, prepare
from quantize.recipes import FloatModules
from quantize.simulated import SimulatedQuantModel

FORMAT = "edgeav-quantized"
# 2: softmax outputs with an int8 input moved to a fixed-grid observer (quantize.recipes), so version-1
# states no longer fit the captured graph. 3: AVESFormer's query generator and deformable sampling matrix
# always float, the sampling matrix without any observer (quantize.recipes), so version-2 states no longer fit.
VERSION = 3


def save_quantized(sim: SimulatedQuantModel, record: Mapping[str, Any], path: Path) -> Path:
    """Write the prepared state + ``record`` (model, config, method, keep_fp32, data, ...) atomically."""
    path = Path(path)
    payload = {"format": FORMAT, "version": VERSION, "record": dict(record), "state": sim.network.state_dict()}
    with storage_errors(path.parent, "--out"):  # disk full, read-only: one line naming the folder
        return save_atomically(payload, path)


def read_record(path: Path) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """The record and state of a quantization checkpoint (one-line CheckpointError when it is not one)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"--qat-checkpoint '{path}' does not exist; point it at the quantized.pt that `edgeav quantize` wrote")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except PermissionError:
        raise CheckpointError(f"cannot read quantization checkpoint '{path}': permission denied; fix its permissions") from None
    except Exception as exc:
        raise CheckpointError(f"cannot read quantization checkpoint '{path}' ({type(exc).__name__}); re-run `edgeav quantize`") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(
            f"--qat-checkpoint '{path}' is not an edgeav quantization checkpoint (a plain training checkpoint goes to --checkpoint); "
            "make one with `edgeav quantize`"
        )
    if payload.get("version") != VERSION:
        raise CheckpointError(f"'{path}' is quantization checkpoint version {payload.get('version')}, this edgeav reads {VERSION}; re-run `edgeav quantize`")
    return dict(payload["record"]), payload["state"]


def restore_quantized(
    model: nn.Module,
    example_inputs: Sequence[torch.Tensor],
    path: Path,
    rewrite: ModelRewrite | None = None,
    *,
    floats: FloatModules,
) -> tuple[SimulatedQuantModel, dict[str, Any]]:
    """Rebuild the prepared model that ``path`` was saved from (same rewrite, same ``floats``) and load its state."""
    record, state = read_record(path)
    sim = prepare(model, example_inputs, record["method"], record.get("keep_fp32", ()), rewrite, floats=floats)
    # A graph is saved in whatever BN form it was in; load into the same form.
    if record.get("bn_frozen", True):
        sim.freeze_batchnorm()
    try:
        sim.network.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0][:200]
        raise CheckpointError(
            f"quantization checkpoint '{path}' does not fit {record.get('model')} [{record.get('config')}] as captured "
            f"now ({first}); pass the --model/--config it was made with, or re-run `edgeav quantize`"
        ) from None
    if record.get("observers_frozen", True):
        sim.freeze_observers()
    return sim.eval(), record
