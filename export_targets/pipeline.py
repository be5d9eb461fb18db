"""``export_model``: one model to verified artifacts + manifests, all-or-nothing, one stage at a time.

Per format: rewrite (deep copy) -> lower -> inspect the saved artifact against the IOSpec -> run it on the
model's realistic samples and compare with PyTorch eager (or state why it cannot run here) -> manifest.
Everything is staged inside ``out_dir`` and published only when every format has passed.
"""
from __future__ import annotations

import dataclasses
import multiprocessing
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from edgeav.errors import EdgeAVError, ExportError, UsageError
from edgeav.files import one_line
from edgeav.registry import ModelEntry
from edgeav.specs import IOSpec
from export_targets._quiet import CapturedOutput, captured_output
from export_targets.base import (
    ArtifactStructure,
    ExportTarget,
    LoweringReport,
    LoweringRequest,
    TargetInfo,
    TensorInfo,
    to_tensor,
)
from export_targets.formats import (
    check_installed,
    check_precision,
    format_info,
    get_target,
    resolve_targets,
)
from export_targets.int8 import Int8Plan, score_artifact
from export_targets.manifest import build_manifest, manifest_path, write_manifest
from export_targets.parity import ParityReport, eager_outputs, measure_parity
from export_targets.rewrites import hint_for, rewrite_for_target
from export_targets.staging import Staging

ProgressFn = Callable[[str, str], None]  # (format name, stage), stage in STAGES

STAGES = ("lower", "verify", "manifest", "done")


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
    accuracy: Mapping[str, Any] = field(default_factory=dict)  # int8: the gate's record (see int8.py)


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
    jobs: int = 1,
    int8: Int8Plan | None = None,
) -> list[ExportResult]:
    """Export ``model`` (an instance of ``entry`` at ``config_name``) to every format in ``targets``.

    ``targets`` is a preset (android, ios, all), a format name, a comma list or a sequence of them.
    ``jobs`` > 1 lowers formats concurrently in that many worker processes (converters are single-threaded
    Python; on two cores this nearly halves the wall time of ``--target all``); verification and
    manifests always run here, one format at a time.
    ``int8`` (required for ``precision="int8"``, see :func:`export_targets.int8.plan_int8`): the quantized
    model; each format lowers its recipe's graph, parity is measured against that graph in PyTorch, and
    the artifact's task metric on the held-out split is gated against fp32.
    Raises an EdgeAVError subclass on any failure, leaving ``out_dir`` as it was.
    """
    infos = resolve_targets(targets if isinstance(targets, str) else list(targets), precision)
    check_precision(precision, infos)
    check_installed(infos)
    if n_samples < 1:
        raise UsageError(f"--samples must be at least 1 (got {n_samples})")
    if jobs < 1:
        raise UsageError(f"--jobs must be at least 1 (got {jobs})")
    if precision == "int8" and int8 is None:
        raise UsageError("int8 export needs a quantized model: pass --qat-checkpoint or --data to calibrate")
    if int8 is not None:
        jobs = 1  # quantized graphs reference torchao's op library: lower them here, not in spawned workers
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
               dict(weights or {"source": "as given"}), progress or (lambda _f, _s: None), model, int8)

    with Staging(out_dir) as staging:
        lowered = lower_all(job, infos, staging, jobs)
        staged = [job.finish(info, staging, lowered[info.name]) for info in infos]
        staging.commit()
    out = Path(out_dir)
    return [dataclasses.replace(r, path=out / r.path.name, manifest_path=out / r.manifest_path.name) for r in staged]


@dataclass(frozen=True)
class _Lowered:
    """What lowering one format produced (picklable: it crosses the worker boundary)."""

    report: LoweringReport
    rewrites: dict[str, int]
    warnings: tuple[str, ...]
    seconds: float


def lower_all(job: _Job, infos: Sequence[TargetInfo], staging: Staging, jobs: int) -> dict[str, _Lowered]:
    """Lower every format into the staging folder, in ``jobs`` worker processes when jobs > 1.

    Slowest formats go first so that a two-worker pool finishes together. A worker's EdgeAVError comes
    back as itself; the first failure cancels what has not started.
    """
    order = sorted(infos, key=lambda i: -i.lowering_cost)

    def request(info: TargetInfo) -> tuple[Any, ...]:  # lower_format's arguments after the TargetInfo
        return job.module_for(info), job.samples[0], job.io_spec, job.precision, staging.path(job.artifact_name(info))

    if jobs <= 1 or len(order) == 1:
        out = {}
        for info in order:
            job.progress(info.name, "lower")
            out[info.name] = lower_format(info, *request(info))
        return out
    ctx = multiprocessing.get_context("spawn")  # fork after torch/converter imports is unsafe
    with ProcessPoolExecutor(max_workers=min(jobs, len(order)), mp_context=ctx) as pool:
        futures = {}
        for info in order:
            job.progress(info.name, "lower")
            futures[pool.submit(_lower_in_worker, info.name, *request(info))] = info.name
        out = {}
        try:
            for future in as_completed(futures):
                out[futures[future]] = future.result()
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return out


def lower_format(
    info: TargetInfo, model: nn.Module, example: tuple[torch.Tensor, ...], io_spec: IOSpec, precision: str, dest: Path
) -> _Lowered:
    """Rewrite a copy of ``model`` for ``info`` and lower it to ``dest`` (in a worker when jobs > 1)."""
    target = get_target(info.name)
    variant, rewrites, warnings = rewrite_for_target(model, info.name)
    start = time.perf_counter()
    log = CapturedOutput()
    try:
        with captured_output() as log:
            report = target.lower(LoweringRequest(variant, example, io_spec, precision, dest))
    except EdgeAVError:
        raise
    except Exception as exc:  # converters raise anything; turn it into one line with a fix
        raise ExportError(_lowering_failure(info, exc, log)) from exc
    return _Lowered(report, rewrites, tuple(warnings), time.perf_counter() - start)


def _lower_in_worker(format_name: str, *args: Any) -> _Lowered:
    torch.set_num_threads(1)  # each worker owns one core
    return lower_format(format_info(format_name), *args)  # TargetInfo holds mappingproxies: send its name


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
    model: nn.Module
    int8: Int8Plan | None = None

    def module_for(self, info: TargetInfo) -> nn.Module:
        """What ``info`` lowers: the model, or at int8 its recipe's quantized graph."""
        return self.model if self.int8 is None else self.int8.module_for(info.name, self.model)

    def reference_for(self, info: TargetInfo) -> list[list[np.ndarray]]:
        """Parity compares an int8 artifact with its own quantized graph in PyTorch (the recipe's
        arithmetic), not with fp32: the task-metric gate is what measures the quantization loss."""
        module = self.module_for(info)
        return self.reference if module is self.model else eager_outputs(module, self.samples)

    def artifact_name(self, info: TargetInfo) -> str:
        return f"{self.entry.name}_{self.config_name}_{info.precisions[self.precision]}{info.suffix}"

    def finish(self, info: TargetInfo, staging: Staging, lowered: _Lowered) -> ExportResult:
        """Verify a lowered artifact against PyTorch and write its manifest."""
        target = get_target(info.name)
        artifact_precision = info.precisions[self.precision]
        name = self.artifact_name(info)
        dest = staging.path(name)
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
        warnings = [*lowered.warnings, *lowered.report.warnings]
        extra = {} if self.int8 is None else {
            "quantization": self.int8.manifest_record(info.name),
            "accuracy": self._gate(target, info, dest),
        }
        manifest = build_manifest(
            model_name=self.entry.name, config_name=self.config_name, config=self.config,
            task=self.entry.task, info=info, requested_precision=self.precision, artifact=dest,
            io_spec=self.io_spec, structure=structure, weights=self.weights, rewrites=lowered.rewrites,
            warnings=warnings, lowering={**lowered.report.details, **structure.details},
            ops=structure.ops or lowered.report.ops, parity=parity,
            export_seconds=lowered.seconds, verify_seconds=verify_seconds, **extra,
        )
        mpath = staging.path(manifest_path(dest).name)
        write_manifest(manifest, mpath)
        self.progress(info.name, "done")
        return ExportResult(
            format=info.name, path=dest, manifest_path=mpath, precision=artifact_precision,
            size_mb=manifest["size_bytes"] / 1e6, parity=parity, export_seconds=lowered.seconds,
            verify_seconds=verify_seconds, rewrites=lowered.rewrites, warnings=tuple(warnings),
            accuracy=extra.get("accuracy", {}),
        )

    def _verify(
        self, target: ExportTarget, info: TargetInfo, dest: Path, artifact_precision: str
    ) -> tuple[ArtifactStructure, ParityReport]:
        structure = target.inspect(dest)
        check_structure(structure, self.io_spec, info.name)
        skip = info.run_skip_reason()
        if skip:
            return structure, ParityReport.skipped(skip)
        runner = self._load_fresh(target, info, dest)
        reference = self.reference_for(info)
        parity = measure_parity(
            runner.run, self.samples, reference,
            artifact=f"{info.name} artifact {dest.name}", precision=artifact_precision,
            fp32_reference=None if reference is self.reference else self.reference,
        )
        return structure, parity

    def _load_fresh(self, target: ExportTarget, info: TargetInfo, dest: Path) -> Any:
        """Load an artifact this export has just written: a refusal is the converter's output failing its own
        runtime (e.g. an int8 kernel's constraint on scales), so the advice is not "re-export"."""
        try:
            return target.load(dest, self.io_spec)
        except ExportError as exc:
            cause = one_line(exc.__cause__) if exc.__cause__ is not None else str(exc)
            workaround = "leave the failing op's module float with --keep-fp32 PATTERN, or " if self.int8 else ""
            raise ExportError(
                f"{info.name}: the runtime refuses the {dest.name} just converted ({cause}); this is a conversion "
                f"problem, not the input: {workaround}export this format at --precision fp32, and report it"
            ) from exc

    def _gate(self, target: ExportTarget, info: TargetInfo, dest: Path) -> dict[str, Any]:
        """Score the int8 artifact itself on the held-out split; ExportError past --max-drop (see int8.py)."""
        assert self.int8 is not None
        if self.int8.eval_set is None:
            return self.int8.gate(info.name, None, "no --data to evaluate on")
        skip = info.run_skip_reason()
        if skip:
            return self.int8.gate(info.name, None, skip)
        self.progress(info.name, "verify")
        with captured_output():
            scores = score_artifact(target.load(dest, self.io_spec), self.int8.eval_set)
        return self.int8.gate(info.name, scores)


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
