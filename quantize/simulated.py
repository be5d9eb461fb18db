"""A PT2E-prepared graph behaving like the model it came from: ``forward`` (deployable), ``forward_train``
(the training output type), ``train``/``eval``, plus the QAT controls (freeze BatchNorm, freeze observers).

This is what calibration runs, what the existing :class:`edgeav.train.trainer.Trainer` fine-tunes, and
what ``convert`` turns into the int8 graph that the exporters lower.
"""
from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

import torch
from torch import nn

from quantize.capture import CapturedGraph


class SimulatedQuantModel(nn.Module):
    """Fake-quantized (QAT) or observed (PTQ) model over a captured graph."""

    def __init__(self, captured: CapturedGraph, prepared: torch.fx.GraphModule, cfg: Any = None) -> None:
        super().__init__()
        # Not "graph": ExecuTorch passes getattr(graph_module, "graph...") and would find the fx Graph instead.
        self.network = prepared
        self.captured = captured
        if cfg is not None:
            self.cfg = cfg  # objectives read hyper-parameters (e.g. the alignment temperature) from model.cfg
        self.bn_frozen = False
        self._graph_mode: bool | None = None  # the train/eval form the graph's BN ops are in now

    # ------------------------------------------------------------------ model faces
    def forward(self, *inputs: torch.Tensor) -> Any:
        return self.network(*inputs)[0]

    def forward_train(self, *inputs: torch.Tensor) -> Any:
        return self.captured.training_output(self.network(*inputs)[1])

    def train(self, mode: bool = True) -> SimulatedQuantModel:
        """Switch the graph's BatchNorm between batch and running statistics (once BN is frozen: always running).

        An exported graph cannot be switched with ``module.train()``; torchao rewrites its BN ops instead,
        which takes a graph pass — so it runs only when the form actually changes.
        """
        self.training = mode
        want_train = mode and not self.bn_frozen
        if want_train != self._graph_mode:
            from torchao.quantization.pt2e import (
                move_exported_model_to_eval,
                move_exported_model_to_train,
            )

            (move_exported_model_to_train if want_train else move_exported_model_to_eval)(self.network)
            self._graph_mode = want_train
        return self

    # ------------------------------------------------------------------ QAT controls
    def freeze_batchnorm(self) -> None:
        """Use (and stop updating) the running statistics: the folded weights stop moving with each batch."""
        self.bn_frozen = True
        self.train(self.training)

    def freeze_observers(self) -> None:
        """Stop updating quantization ranges; fake quantization stays on."""
        from torchao.quantization.pt2e import disable_observer

        self.network.apply(disable_observer)

    def observer_modules(self) -> Iterable[nn.Module]:
        from torchao.quantization.pt2e import ObserverBase
        from torchao.quantization.pt2e.fake_quantize import FakeQuantizeBase

        return (m for m in self.network.modules() if isinstance(m, (ObserverBase, FakeQuantizeBase)))

    # ------------------------------------------------------------------ the int8 graph
    def convert(self, fold_quantize: bool = True) -> SimulatedQuantModel:
        """The int8 model: BN folded, weights quantized, Q/DQ pairs where the observers were (a copy:
        this model stays usable). Its ``forward`` is the graph the exporters lower.

        ``fold_quantize``: store weights as int8 constants (ExecuTorch); LiteRT's converter needs the float
        weight followed by its quantize/dequantize pair instead."""
        from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e

        self.bn_frozen = True
        self.train(False)
        converted = SimulatedQuantModel(self.captured, convert_pt2e(copy.deepcopy(self.network), fold_quantize=fold_quantize), getattr(self, "cfg", None))
        converted.bn_frozen = True
        converted._graph_mode = False
        return converted.eval()
