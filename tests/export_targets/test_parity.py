"""One parity check: max abs error and SQNR over all samples; fp32 below 40 dB fails loudly."""
from __future__ import annotations

import math
from collections import namedtuple

import numpy as np
import pytest
import torch

from edgeav.errors import ExportError, ParityError
from export_targets.parity import (
    MIN_SQNR_DB,
    QUANTIZED_ALLOWANCE_DB,
    flatten_outputs,
    measure_parity,
    sqnr_db,
)

SAMPLES = [(torch.zeros(1),), (torch.zeros(1),)]
REFERENCE = [[np.linspace(0, 1, 100, dtype=np.float32)], [np.linspace(1, 2, 100, dtype=np.float32)]]


def run_with_noise(scale: float):
    calls = iter(REFERENCE)
    rng = np.random.default_rng(0)
    return lambda _sample: [r + scale * rng.standard_normal(r.shape).astype(np.float32) for r in next(calls)]


def test_sqnr_matches_definition() -> None:
    ref = np.ones(10)
    assert sqnr_db(ref, ref * 1.1) == pytest.approx(20.0)  # noise 0.1 -> 10*log10(1/0.01)
    assert math.isinf(sqnr_db(ref, ref))


def test_small_error_passes_with_figures() -> None:
    report = measure_parity(run_with_noise(1e-6), SAMPLES, REFERENCE, artifact="x.pte", precision="fp32")
    assert report.status == "passed" and report.samples == 2
    assert 0 < report.max_abs_error < 1e-5 and report.sqnr_db > 100
    assert report.min_sqnr_db == MIN_SQNR_DB["fp32"] == 40.0


def test_fp32_below_40_db_raises_with_artifact_figure_and_advice() -> None:
    with pytest.raises(ParityError) as info:
        measure_parity(run_with_noise(0.1), SAMPLES, REFERENCE, artifact="m.tflite", precision="fp32")
    msg = str(info.value)
    assert "m.tflite" in msg and "dB < 40 dB required for fp32" in msg and "try:" in msg
    assert "\n" not in msg


def test_wrong_output_count_is_a_parity_error() -> None:
    with pytest.raises(ParityError, match="returned 0 outputs"):
        measure_parity(lambda s: [], SAMPLES, REFERENCE, artifact="a", precision="fp32")


def test_exact_match_reports_inf_as_json_string() -> None:
    calls = iter(REFERENCE)
    report = measure_parity(lambda s: next(calls), SAMPLES, REFERENCE, artifact="a", precision="fp32")
    assert report.to_dict()["sqnr_db"] == "inf" and report.max_abs_error == 0.0


def test_namedtuple_outputs_are_rejected() -> None:
    Out = namedtuple("Out", "mask")
    with pytest.raises(ExportError, match="plain tuple"):
        flatten_outputs(Out(torch.zeros(1)))
    assert len(flatten_outputs((torch.zeros(1), torch.ones(1)))) == 2


def test_quantized_artifact_below_the_floor_passes_only_as_close_to_fp32_as_its_graph() -> None:
    # ~22 dB from its graph (below the int8 floor). The graph is REFERENCE; fp32 is the graph plus noise.
    rng = np.random.default_rng(1)
    near = [[r + 0.05 * rng.standard_normal(r.shape).astype(np.float32) for r in s] for s in REFERENCE]  # ~28 dB
    far = [[r + 0.2 * rng.standard_normal(r.shape).astype(np.float32) for r in s] for s in REFERENCE]  # ~16 dB
    with pytest.raises(ParityError, match=r"against its quantized graph, and .* dB against fp32 where the graph"):
        measure_parity(run_with_noise(0.1), SAMPLES, REFERENCE, artifact="q.tflite", precision="int8",
                       fp32_reference=near)
    report = measure_parity(run_with_noise(0.1), SAMPLES, REFERENCE, artifact="q.tflite", precision="int8",
                            fp32_reference=far)
    assert report.sqnr_db < MIN_SQNR_DB["int8"]
    assert report.fp32_sqnr_db >= report.quantization_sqnr_db - QUANTIZED_ALLOWANCE_DB
    assert set(report.to_dict()) >= {"quantization_sqnr_db", "fp32_sqnr_db"}


def test_a_nan_reference_fails_instead_of_passing_unseen() -> None:
    nan_ref = [[np.full(100, np.nan, dtype=np.float32)], REFERENCE[1]]
    with pytest.raises(ParityError, match=r"^x\.pte: the PyTorch reference it is compared with contains NaN/inf"):
        measure_parity(lambda _s: [np.zeros(100, np.float32)], SAMPLES, nan_ref, artifact="x.pte", precision="int8")
