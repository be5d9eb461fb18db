"""Core ML fp16 packages keep the log-domain front end in fp32 (fp16 flushes a 1e-10 floor to 0 → −inf)."""
from __future__ import annotations

import pytest
import torch
from torch import nn

ct = pytest.importorskip("coremltools")

from export_targets.coreml.passes import fp16_outside_log_domain

pytestmark = pytest.mark.converter


class LogFrontEnd(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.spectrum = nn.Linear(16, 8)
        self.head = nn.Linear(8, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        power = self.spectrum(x) ** 2
        return self.head(torch.log(torch.clamp(power, min=1e-10)))


def test_ops_feeding_the_log_stay_fp32_and_the_rest_is_fp16() -> None:
    x = torch.randn(1, 16)
    program = torch.export.export(LogFrontEnd().eval(), (x,)).run_decompositions({})
    mlmodel = ct.convert(
        program, convert_to="mlprogram", minimum_deployment_target=ct.target.iOS16,
        compute_precision=ct.transform.FP16ComputePrecision(op_selector=fp16_outside_log_domain()),
        skip_model_load=True,
    )
    ops = list(mlmodel._mil_program.functions["main"].operations)
    log_index = next(i for i, op in enumerate(ops) if op.op_type == "log")
    before = [op for op in ops[:log_index] if op.op_type not in ("const", "cast")]
    after = [op for op in ops[log_index + 1:] if op.op_type == "linear"]
    assert before and all(op.outputs[0].dtype == ct.converters.mil.mil.types.fp32 for op in before)
    assert ops[log_index].outputs[0].dtype == ct.converters.mil.mil.types.fp32
    assert after and all(op.outputs[0].dtype == ct.converters.mil.mil.types.fp16 for op in after)
