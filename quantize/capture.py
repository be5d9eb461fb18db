"""Capture a model as one exported graph that yields both its deployable output and its training outputs.

QAT needs the training outputs (logits, decoder features) for its losses; the phone needs the deployable
output (``forward``). Both must come from *one* graph so that fine-tuned weights and observer ranges are
the ones that get lowered. Models here compute ``forward`` from ``forward_train`` (the trainer's
convention), so the capture records what ``forward_train`` returned while ``forward`` runs: the graph
computes the network once and returns ``(deployable, training fields)``.

The graph has a dynamic batch dimension (training and calibration run in batches); lowering re-exports
:class:`DeployableGraph` at batch 1.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from edgeav.errors import ExportError

PREFIX = "model."  # the captured wrapper holds the model under ``model``: node module paths start with it
MAX_BATCH = 1024


class _RecordTrainingOutputs(nn.Module):
    """``forward(*x)`` → ``(model(*x), fields of model.forward_train(*x))`` computed by one pass."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.output_type: type | None = None
        self.field_names: tuple[str, ...] = ()

    def forward(self, *inputs: torch.Tensor) -> tuple[Any, tuple[Any, ...]]:
        inner = getattr(self.model, "forward_train", None)
        if inner is None:
            out = self.model(*inputs)
            return out, (out,)
        seen: list[Any] = []

        def recording(*args: torch.Tensor) -> Any:
            result = inner(*args)
            seen.append(result)
            return result

        self.model.forward_train = recording  # an instance attribute shadows the method for this call only
        try:
            deployable = self.model(*inputs)
        finally:
            del self.model.forward_train
        if not seen:  # forward does not go through forward_train: train on the deployable output
            return deployable, (deployable,)
        result = seen[0]
        if dataclasses.is_dataclass(result):
            self.output_type = type(result)
            self.field_names = tuple(f.name for f in dataclasses.fields(result))
            return deployable, tuple(getattr(result, n) for n in self.field_names)
        return deployable, (result,)


@dataclass
class CapturedGraph:
    """An exported graph module and how to rebuild the model's training output from its second result."""

    graph: torch.fx.GraphModule
    output_type: type | None
    field_names: tuple[str, ...]

    def training_output(self, fields: Sequence[Any]) -> Any:
        if self.output_type is None:
            return fields[0]
        return self.output_type(**dict(zip(self.field_names, fields)))


def quantization_mode(model: nn.Module) -> nn.Module:
    """Train-mode BatchNorm (so QAT can fold it with batch statistics) and everything else in eval.

    ``model.train()`` runs first so that a model's own ``train`` override (a frozen trunk kept in eval)
    is respected; then stochastic layers (dropout, drop-path) are switched off: they would otherwise be
    baked into the captured graph.
    """
    model.train()
    for module in model.modules():
        if not isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.training = False
    return model


def batch_of(inputs: Sequence[torch.Tensor], n: int = 2) -> tuple[torch.Tensor, ...]:
    """``inputs`` repeated to batch ``n`` (≥ 2, so that torch.export keeps the batch dimension symbolic)."""
    return tuple(torch.cat([x] * n) for x in inputs)


def capture(model: nn.Module, example_inputs: Sequence[torch.Tensor], train_bn: bool) -> CapturedGraph:
    """Export ``model`` (its weights are shared, not copied) with a dynamic batch dimension.

    ``train_bn``: capture BatchNorm in training form (QAT); otherwise everything in eval (PTQ).
    """
    wrapper = _RecordTrainingOutputs(model)
    model.eval()
    with torch.no_grad():  # learn the training output's type (export traces a copy of the wrapper)
        wrapper(*(x[:1] for x in example_inputs))
    if train_bn:
        quantization_mode(model)
    batch = torch.export.Dim("batch", min=1, max=MAX_BATCH)
    example = batch_of(example_inputs)
    dynamic = tuple({0: batch} for _ in example)
    try:
        program = torch.export.export(wrapper, example, dynamic_shapes=(dynamic,))
    except Exception as exc:  # export errors span pages; the first line names the construct
        first = next((ln.strip() for ln in str(exc).splitlines() if ln.strip()), type(exc).__name__)
        raise ExportError(
            f"cannot capture {type(model).__name__} for quantization ({type(exc).__name__}: {first[:200]}); "
            "the model must export with torch.export at a dynamic batch size (fp32 `edgeav export` shows whether it exports at all)"
        ) from exc
    return CapturedGraph(program.module(), wrapper.output_type, wrapper.field_names)
