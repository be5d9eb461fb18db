"""Verifying a freshly lowered artifact: its declared interface against the IOSpec, its outputs against PyTorch.

The pipeline calls :func:`verify_artifact` for every format it lowered and :func:`score_int8_artifact` for the
int8 accuracy gate; a failure is an ExportError saying whether the input, the model or the converter is at fault.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from edgeav.errors import EdgeAVError, ExportError
from edgeav.files import one_line
from edgeav.specs import IOSpec
from export_targets._quiet import captured_output
from export_targets.parity import ParityReport, measure_parity
from export_targets.runtime import Runner
from export_targets.target import ArtifactStructure, ExportTarget, TargetInfo, TensorInfo

Samples = list[tuple[torch.Tensor, ...]]
Outputs = list[list[np.ndarray]]

if TYPE_CHECKING:  # the int8 path is imported by whoever plans it
    from quantize.gate import AccuracyGate


def verify_artifact(
    target: ExportTarget, info: TargetInfo, dest: Path, io_spec: IOSpec, samples: Samples, reference: Outputs,
    *, precision: str, fp32_reference: Outputs | None = None, int8: bool = False,
) -> tuple[ArtifactStructure, ParityReport]:
    """Inspect ``dest`` against ``io_spec`` and, where its runtime works here, measure parity on ``samples``.

    ``reference`` is what the lowered module gives in PyTorch; ``fp32_reference`` (int8) the float model's,
    reported beside it. The runtime's chatter is kept off the terminal.
    """
    try:
        with captured_output():
            structure = target.inspect(dest)
            check_structure(structure, io_spec, info.name)
            skip = info.run_skip_reason()
            if skip:
                return structure, ParityReport.skipped(skip)
            runner = load_fresh(target, info, dest, io_spec, int8=int8)
            parity = measure_parity(runner.run, samples, reference, artifact=f"{info.name} artifact {dest.name}",
                                    precision=precision, fp32_reference=fp32_reference)
    except EdgeAVError:
        raise
    except Exception as exc:  # a runtime that cannot load or run the artifact
        raise ExportError(f"{info.name} artifact {dest.name} failed verification ({one_line(exc)}); re-export it, "
                          "and if it persists report the runtime's message") from exc
    return structure, parity


def load_fresh(target: ExportTarget, info: TargetInfo, dest: Path, io_spec: IOSpec, *, int8: bool = False) -> Runner:
    """Load an artifact this export has just written: a refusal is the converter's output failing its own
    runtime (e.g. an int8 kernel's constraint on scales), so the advice is not "re-export"."""
    try:
        return target.load(dest, io_spec)
    except ExportError as exc:
        cause = one_line(exc.__cause__) if exc.__cause__ is not None else str(exc)
        workaround = "leave the failing op's module float with --keep-fp32 PATTERN, or " if int8 else ""
        raise ExportError(
            f"{info.name}: the runtime refuses the {dest.name} just converted ({cause}); this is a conversion "
            f"problem, not the input: {workaround}export this format at --precision fp32, and report it"
        ) from exc


def score_int8_artifact(
    target: ExportTarget, info: TargetInfo, dest: Path, io_spec: IOSpec, gate: AccuracyGate,
    on_scoring: Callable[[], None] = lambda: None,
) -> dict[str, Any]:
    """The int8 gate's record for one artifact, scored on the gate's held-out split when it can run here;
    ExportError (from the gate) when it loses too much."""
    skip = gate.skip_reason() or info.run_skip_reason()
    if skip:
        return gate.skipped(skip)
    on_scoring()
    with captured_output():
        scores = gate.score(target.load(dest, io_spec))
    return gate.judge(info.name, scores)

def check_structure(structure: ArtifactStructure, io_spec: IOSpec, fmt: str) -> None:
    """ExportError unless the saved artifact's inputs/outputs match the IOSpec (count, names, shapes, dtypes)."""
    for kind, found, wanted in (("input", structure.inputs, io_spec.inputs), ("output", structure.outputs, io_spec.outputs)):
        if len(found) != len(wanted):
            raise ExportError(
                f"{fmt} artifact has {len(found)} {kind}s, the IOSpec has {len(wanted)} "
                f"({', '.join(t.name for t in wanted)}); the converter changed the interface"
            )
        by_name = {t.name: t for t in found}
        if set(by_name) == {t.name for t in wanted}:  # named formats: compare by name, not position
            found = tuple(by_name[t.name] for t in wanted)
        for i, (got, spec) in enumerate(zip(found, wanted)):
            problem = _mismatch(got, spec.name, spec.shape, spec.dtype)
            if problem:
                raise ExportError(
                    f"{fmt} artifact {kind} {i} ('{spec.name}') {problem}; the converter changed the interface — "
                    "fix the model's IOSpec or the lowering"
                )


def _mismatch(got: TensorInfo, name: str, shape: tuple[int, ...], dtype: str) -> str:
    if got.name is not None and got.name != name:
        return f"is named '{got.name}'"
    if tuple(got.shape) != tuple(shape):
        return f"has shape {tuple(got.shape)}, expected {tuple(shape)}"
    if got.dtype != dtype:
        return f"has dtype {got.dtype}, expected {dtype}"
    return ""


def check_reference(reference: Outputs, io_spec: IOSpec, model_name: str) -> None:
    """ExportError unless the model's eager outputs on every sample have the IOSpec's shapes and are finite
    (parity against a NaN reference would blame the converter for the model's fault)."""
    wanted = [tuple(t.shape) for t in io_spec.outputs]
    for i, outputs in enumerate(reference):
        shapes = [tuple(o.shape) for o in outputs]
        if shapes != wanted:
            raise ExportError(
                f"model '{model_name}' returns outputs of shapes {shapes} but its IOSpec says {wanted}; "
                "fix the model's io_spec"
            )
        for spec, out in zip(io_spec.outputs, outputs):
            if np.issubdtype(out.dtype, np.floating) and not np.all(np.isfinite(out)):
                raise ExportError(
                    f"model '{model_name}' returns NaN/inf in output '{spec.name}' on realistic sample {i} in "
                    "PyTorch, before any conversion; its weights are broken (a diverged checkpoint?): export a "
                    "checkpoint whose outputs are finite"
                )
