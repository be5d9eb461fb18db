"""``export_model``: one model to verified artifacts + manifests, all-or-nothing, one stage at a time.

Per format: rewrite (deep copy) -> lower -> inspect the saved artifact against the IOSpec -> run it on the
model's realistic samples and compare with PyTorch eager (or state why it cannot run here) -> manifest.
Everything is staged inside ``out_dir`` and published only when every format has passed.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from edgeav.errors import EdgeAVError, ExportError, UsageError
from edgeav.registry import ModelEntry
from edgeav.specs import IOSpec
from export_targets._quiet import CapturedOutput, captured_output
from export_targets.base import ArtifactStructure, ExportTarget, TargetInfo, TensorInfo, one_line, to_tensor
from export_targets.formats import check_installed, check_precision, get_target, resolve_targets
from export_targets.manifest import build_manifest, manifest_path, write_manifest
from export_targets.parity import ParityReport, eager_outputs, measure_parity
from export_targets.rewrites import hint_for, rewrite_for_target
from export_targets.staging import Staging

ProgressFn = Callable[[str, str], None]  # (format name, stage), stage in STAGES
STAGES = ("rewrite", "lower", "verify", "manifest", "done")


@dataclass(frozen=True)
class ExportResult:
    """One published artifact and how it fared."""

    format: str
    path: Path
    manifest_path: Path
    precision: str
    size_mb: float
    parity: ParityReport
    export_seconds: float
    verify_seconds: float
    rewrites: Mapping[str, int] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


def export_model(
    entry: ModelEntry,
    model: nn.Module,
    config_name: str | None,
    targets: str | Sequence[str],
    out_dir: Path | str,
    precision: str = "fp32",
    progress: ProgressFn | None = None,
    *,
    n_samples: int = 4,
    seed: int = 0,
    weights: Mapping[str, Any] | None = None,
) -> list[ExportResult]:
    """Export ``model`` (an instance of ``entry`` at ``config_name``) to every format in ``targets``.

    ``targets`` is a preset (android, ios, all), a format name, a comma list or a sequence of them.
    Raises an EdgeAVError subclass on any failure, leaving ``out_dir`` as it was.
    """
    infos = resolve_targets(targets if isinstance(targets, str) else list(targets))
    check_precision(precision, infos)
    check_installed(infos)
    if n_samples < 1:
        raise UsageError(f"--samples must be at least 1 (got {n_samples})")
    config_name = config_name or entry.default_config
    config = entry.config(config_name)
    io_spec = entry.io_spec(config)
    samples = [tuple(to_tensor(x) for x in s) for s in entry.samples(config, n_samples, seed)]
    for sample in samples:
        io_spec.check_inputs(sample)
    model.eval()
    reference = eager_outputs(model, samples)
    _check_reference(reference[0], io_spec, entry.name)
    job = _Job(entry, config_name, config, io_spec, samples, reference, precision,
               dict(weights or {"source": "as given"}), progress or (lambda _f, _s: None))

    with Staging(out_dir) as staging:
        staged = [job.export_one(info, model, staging) for info in infos]
        staging.commit()
    out = Path(out_dir)
    return [
        ExportResult(
            format=r.format, path=out / r.path.name, manifest_path=out / r.manifest_path.name,
            precision=r.precision, size_mb=r.size_mb, parity=r.parity, export_seconds=r.export_seconds,
            verify_seconds=r.verify_seconds, rewrites=r.rewrites, warnings=r.warnings,
        )
        for r in staged
    ]


@dataclass
class _Job:
    entry: ModelEntry
    config_name: str
    config: Any
    io_spec: IOSpec
    samples: list[tuple[torch.Tensor, ...]]
    reference: list[list[np.ndarray]]
    precision: str
    weights: dict[str, Any]
    progress: ProgressFn

    def export_one(self, info: TargetInfo, model: nn.Module, staging: Staging) -> ExportResult:
        self.progress(info.name, "rewrite")
        target = get_target(info.name)
        variant, rewrites, warnings = rewrite_for_target(model, info.name)
        artifact_precision = info.precisions[self.precision]
        name = f"{self.entry.name}_{self.config_name}_{artifact_precision}{info.suffix}"
        dest = staging.path(name)

        self.progress(info.name, "lower")
        start = time.perf_counter()
        log = CapturedOutput()
        try:
            with captured_output() as log:
                lowering = target.lower(variant, self.samples[0], self.io_spec, self.precision, dest)
        except EdgeAVError:
            raise
        except Exception as exc:  # converters raise anything; turn it into one line with a fix
            raise ExportError(_lowering_failure(info, exc, log)) from exc
        export_seconds = time.perf_counter() - start

        self.progress(info.name, "verify")
        start = time.perf_counter()
        try:
            with captured_output():
                structure, parity = self._verify(target, info, dest, artifact_precision)
        except EdgeAVError:
            raise
        except Exception as exc:  # a runtime that cannot load or run the artifact
            raise ExportError(f"{info.name} artifact {name} failed verification ({one_line(exc)}); re-export it, "
                              "and if it persists report the runtime's message") from exc
        verify_seconds = time.perf_counter() - start

        self.progress(info.name, "manifest")
        warnings = [*warnings, *lowering.warnings]
        manifest = build_manifest(
            model_name=self.entry.name, config_name=self.config_name, config=self.config,
            task=self.entry.task, info=info, requested_precision=self.precision, artifact=dest,
            io_spec=self.io_spec, structure=structure, weights=self.weights, rewrites=rewrites,
            warnings=warnings, lowering={**lowering.details, **structure.details},
            ops=structure.ops or lowering.ops, parity=parity,
            export_seconds=export_seconds, verify_seconds=verify_seconds,
        )
        mpath = staging.path(manifest_path(dest).name)
        write_manifest(manifest, mpath)
        self.progress(info.name, "done")
        return ExportResult(
            format=info.name, path=dest, manifest_path=mpath, precision=artifact_precision,
            size_mb=manifest["size_bytes"] / 1e6, parity=parity, export_seconds=export_seconds,
            verify_seconds=verify_seconds, rewrites=rewrites, warnings=tuple(warnings),
        )

    def _verify(
        self, target: ExportTarget, info: TargetInfo, dest: Path, artifact_precision: str
    ) -> tuple[ArtifactStructure, ParityReport]:
        structure = target.inspect(dest)
        check_structure(structure, self.io_spec, info.name)
        skip = info.run_skip_reason()
        if skip:
            return structure, ParityReport.skipped(skip)
        runner = target.load(dest, self.io_spec)
        parity = measure_parity(
            runner.run, self.samples, self.reference,
            artifact=f"{info.name} artifact {dest.name}", precision=artifact_precision,
        )
        return structure, parity


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


def _check_reference(outputs: list[np.ndarray], io_spec: IOSpec, model_name: str) -> None:
    shapes = [tuple(o.shape) for o in outputs]
    wanted = [tuple(t.shape) for t in io_spec.outputs]
    if shapes != wanted:
        raise ExportError(
            f"model '{model_name}' returns outputs of shapes {shapes} but its IOSpec says {wanted}; "
            "fix the registry entry's io_spec"
        )


def _lowering_failure(info: TargetInfo, exc: BaseException, log: CapturedOutput) -> str:
    hint = hint_for(str(exc)) or hint_for(log.text)
    fix = f"fix: {hint}" if hint else f"try another --target to see whether the problem is {info.name}-specific"
    return f"{info.name} lowering failed ({one_line(exc)}); {fix}"
