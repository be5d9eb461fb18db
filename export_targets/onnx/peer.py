"""The ONNX Runtime int8 *peer*: the fp32 ``.onnx`` through ORT's own static quantization (QDQ).

Not an edgeav int8 format: it is what a user who already has the fp32 ONNX would pick instead of
edgeav's int8 (``onnxruntime.quantization.quantize_static``, QDQ format, int8 weights per channel and
int8 activations, min-max calibration). The mission benchmark times it beside edgeav's int8 artifacts,
calibrated on the same batches. The artifact gets the fp32 manifest with ``precision: int8-ort`` and a
``quantization`` record saying how it was made.
"""
from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from edgeav.errors import ExportError, MissingDependencyError
from edgeav.files import one_line, write_json_atomically

PRECISION = "int8-ort"
# QDQ around every op ORT's CPU provider runs in int8; the rest stays float between DQ and Q.
SETTINGS = {"quant_format": "QDQ", "per_channel": True, "activation_type": "QInt8", "weight_type": "QInt8",
            "calibrate_method": "MinMax", "reduce_range": False}


class _Feeds:
    """ORT's CalibrationDataReader protocol over named numpy feeds."""

    def __init__(self, feeds: Iterable[dict[str, np.ndarray]]) -> None:
        self._it: Iterator[dict[str, np.ndarray]] = iter(feeds)

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._it, None)


def ort_static_int8(fp32: Path, feeds: Sequence[dict[str, np.ndarray]], dest: Path,
                    exclude_nodes: Sequence[str] = ()) -> Path:
    """Write ``dest``: ``fp32`` quantized by ORT (QDQ, settings above), calibrated on ``feeds``; its manifest beside it.

    ``feeds``: calibration inputs by graph input name, batch 1 each (the graph's static batch).
    """
    try:
        from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
        from onnxruntime.quantization.shape_inference import quant_pre_process
    except ImportError as exc:
        raise MissingDependencyError("no onnxruntime.quantization; install it with: pip install 'edgeav[onnx]'") from exc
    if not feeds:
        raise ExportError("the ORT int8 peer needs calibration inputs; pass --data with a train split")
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="edgeav-ort-q-") as tmp:
        pre = Path(tmp) / "pre.onnx"
        try:
            quant_pre_process(str(fp32), str(pre), skip_symbolic_shape=True)
            quantize_static(str(pre), str(dest), _Feeds(feeds), quant_format=QuantFormat.QDQ, per_channel=True,
                            activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                            calibrate_method=CalibrationMethod.MinMax, nodes_to_exclude=list(exclude_nodes))
        except Exception as exc:  # ORT raises plain Exceptions and its own types from C++
            raise ExportError(f"ONNX Runtime could not quantize {fp32.name} ({one_line(exc)})") from exc
    _write_manifest(fp32, dest, len(feeds), exclude_nodes)
    return dest


def _write_manifest(fp32: Path, dest: Path, samples: int, excluded: Sequence[str]) -> None:
    manifest: dict[str, Any] = json.loads(fp32.with_name(fp32.name + ".json").read_text())
    data = dest.read_bytes()
    manifest.update(artifact=dest.name, precision=PRECISION, size_bytes=len(data), sha256=hashlib.sha256(data).hexdigest(),
                    quantization={"tool": "onnxruntime.quantization.quantize_static", **SETTINGS,
                                  "calibration_samples": samples, "nodes_excluded": list(excluded),
                                  "source": fp32.name, "role": "peer (what ONNX Runtime itself offers)"})
    manifest.pop("parity", None)  # measured for the fp32 graph, not this one
    write_json_atomically(dest.with_name(dest.name + ".json"), manifest)

