"""The one parity check: an artifact's outputs against PyTorch eager on the same realistic samples."""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from edgeav.errors import ExportError, ParityError
from export_targets.runtime import to_numpy, to_tensor

# Minimum SQNR (dB) per precision the artifact computes in.
# int8 artifacts are compared with their own quantized graph run in PyTorch (same arithmetic, different
# kernels and rounding); see QUANTIZED_ALLOWANCE_DB for when that comparison alone is too strict.
MIN_SQNR_DB: dict[str, float] = {"fp32": 40.0, "fp16": 30.0, "int8": 25.0, "w8a16": 25.0}
# An int8 kernel and PyTorch's Q/DQ simulation round differently (requantisation, table-driven activations):
# one step flipped early moves every later tensor by about a quantisation step, so a correct artifact can sit
# below the floor against its own graph (measured: small config 21–29 dB, paper-size LightAVSeg 23.8 dB
# (.pte) and 22.7 dB (.tflite), both runtimes alike). Such an artifact still passes when it is about as
# close to the fp32 model as its graph is: its error against fp32 at most twice the graph's in amplitude.
QUANTIZED_ALLOWANCE_DB = 6.0


@dataclass(frozen=True)
class ParityReport:
    """Max abs error and SQNR over every output element of every sample (or why it was skipped)."""

    status: str  # "passed" | "skipped"
    samples: int = 0
    max_abs_error: float | None = None
    sqnr_db: float | None = None  # math.inf when bit-exact
    min_sqnr_db: float | None = None
    reason: str = ""
    # Quantized artifacts: their reference graph's SQNR against the fp32 model, and the artifact's own.
    quantization_sqnr_db: float | None = None
    fp32_sqnr_db: float | None = None

    @classmethod
    def skipped(cls, reason: str) -> ParityReport:
        return cls(status="skipped", reason=reason)

    def to_dict(self) -> dict[str, Any]:
        sqnr = self.sqnr_db
        return {
            "status": self.status,
            "samples": self.samples,
            "max_abs_error": self.max_abs_error,
            "sqnr_db": "inf" if sqnr is not None and math.isinf(sqnr) else sqnr,
            "min_sqnr_db": self.min_sqnr_db,
            "reason": self.reason,
            **({} if self.quantization_sqnr_db is None else {"quantization_sqnr_db": self.quantization_sqnr_db,
                                                              "fp32_sqnr_db": self.fp32_sqnr_db}),
        }

    def summary(self) -> str:
        if self.status == "skipped":
            return f"skipped: {self.reason}"
        return f"{self.max_abs_error:.2e} / {self.sqnr_db:.1f} dB"


def flatten_outputs(out: Any) -> list[torch.Tensor]:
    """A model's outputs as a list of tensors; a plain tensor or a plain tuple/list of tensors."""
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, (tuple, list)) and not hasattr(out, "_fields"):
        if all(isinstance(o, torch.Tensor) for o in out):
            return list(out)
    raise ExportError(
        f"the model returns {type(out).__name__}; exported graphs need a tensor or a plain tuple of tensors "
        "(no namedtuples, dicts or None): return a tuple from forward()"
    )


@torch.no_grad()
def eager_outputs(model: nn.Module, samples: Sequence[tuple[torch.Tensor, ...]]) -> list[list[np.ndarray]]:
    """The reference: PyTorch eager outputs for each sample, as numpy."""
    return [[to_numpy(t) for t in flatten_outputs(model(*(to_tensor(x) for x in s)))] for s in samples]


def sqnr_db(reference: np.ndarray, actual: np.ndarray) -> float:
    """10·log10(signal power / noise power); inf when identical."""
    ref = reference.astype(np.float64)
    noise = float(np.sum((ref - actual.astype(np.float64)) ** 2))
    signal = float(np.sum(ref**2))
    if noise == 0.0:
        return math.inf
    if signal == 0.0:
        return -math.inf
    return 10.0 * math.log10(signal / noise)


def _flattened_outputs(run: Callable[[tuple[torch.Tensor, ...]], Sequence[np.ndarray]],
                       samples: Sequence[tuple[torch.Tensor, ...]], reference: Sequence[Sequence[np.ndarray]],
                       artifact: str) -> tuple[np.ndarray, np.ndarray]:
    """Every reference and artifact output, flattened sample by sample, output by output; ParityError when
    the artifact returns another number of outputs or another size."""
    refs: list[np.ndarray] = []
    acts: list[np.ndarray] = []
    for i, (sample, ref_outs) in enumerate(zip(samples, reference)):
        outs = list(run(sample))
        if len(outs) != len(ref_outs):
            raise ParityError(
                f"{artifact}: returned {len(outs)} outputs on sample {i}, PyTorch returns {len(ref_outs)}; "
                "the graph's outputs were reordered or dropped — re-export"
            )
        for j, (ref, out) in enumerate(zip(ref_outs, outs)):
            out = np.asarray(out)
            if out.size != ref.size:
                raise ParityError(
                    f"{artifact}: output {j} has shape {tuple(out.shape)}, PyTorch gives {tuple(ref.shape)}; "
                    "check the output layout (NCHW vs NHWC) of the converter"
                )
            refs.append(ref.reshape(-1))
            acts.append(out.reshape(-1))
    return np.concatenate(refs), np.concatenate(acts)


def measure_parity(
    run: Callable[[tuple[torch.Tensor, ...]], Sequence[np.ndarray]],
    samples: Sequence[tuple[torch.Tensor, ...]],
    reference: Sequence[Sequence[np.ndarray]],
    *,
    artifact: str,
    precision: str,
    fp32_reference: Sequence[Sequence[np.ndarray]] | None = None,
) -> ParityReport:
    """Run ``run`` on each sample, compare with ``reference``; ParityError below the precision's SQNR floor.

    For a quantized artifact, ``reference`` is its quantized graph in PyTorch and ``fp32_reference`` the
    fp32 model's outputs: below the floor against its graph, the artifact still passes if its SQNR against
    fp32 is within QUANTIZED_ALLOWANCE_DB of the graph's.
    """
    ref_all, act_all = _flattened_outputs(run, samples, reference, artifact)
    if not np.all(np.isfinite(ref_all)):  # NaN compares False with any floor: it would pass unseen
        raise ParityError(f"{artifact}: the PyTorch reference it is compared with contains NaN/inf (the model or "
                          "its quantized graph, not the converter); export a checkpoint whose outputs are finite")
    if not np.all(np.isfinite(act_all)):
        raise ParityError(f"{artifact}: outputs contain NaN/inf where PyTorch is finite; look for log/div of 0")
    max_abs = float(np.max(np.abs(ref_all.astype(np.float64) - act_all.astype(np.float64))))
    sqnr = sqnr_db(ref_all, act_all)
    floor = MIN_SQNR_DB.get(precision, MIN_SQNR_DB["fp32"])
    quantization_sqnr = fp32_sqnr = None
    if fp32_reference is not None:  # flattened in the order of ref_all: sample by sample, output by output
        fp32_all = np.concatenate([out.reshape(-1) for sample_outs in fp32_reference for out in sample_outs])
        quantization_sqnr, fp32_sqnr = sqnr_db(fp32_all, ref_all), sqnr_db(fp32_all, act_all)
    close_to_fp32 = fp32_sqnr is not None and fp32_sqnr >= quantization_sqnr - QUANTIZED_ALLOWANCE_DB
    if sqnr < floor and not close_to_fp32:
        against = "" if fp32_sqnr is None else (
            f" against its quantized graph, and {fp32_sqnr:.1f} dB against fp32 where the graph has "
            f"{quantization_sqnr:.1f} dB (allowed: {QUANTIZED_ALLOWANCE_DB:g} dB less)")
        raise ParityError(
            f"{artifact}: SQNR {sqnr:.1f} dB < {floor:.3g} dB required for {precision}{against} (max abs error "
            f"{max_abs:.3g} over {len(samples)} samples); try: look for an op the "
            "runtime computes differently (edgeav lists rewrites/checks in the manifest), or export ONNX to "
            "see whether the difference is converter-specific"
        )
    return ParityReport(
        status="passed", samples=len(samples), max_abs_error=max_abs, sqnr_db=sqnr, min_sqnr_db=floor,
        quantization_sqnr_db=quantization_sqnr, fp32_sqnr_db=fp32_sqnr,
    )
