"""``export_model``: one model to verified artifacts + manifests, all-or-nothing, one stage at a time.

Per format: rewrite (deep copy) -> lower -> verify the saved artifact (export_targets/verify.py: its interface
against the IOSpec, its outputs against PyTorch eager on realistic samples) -> manifest.
Everything is staged inside ``out_dir`` and published only when every format has passed.
"""
from __future__ import annotations

import ctypes
import dataclasses
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from edgeav.errors import EdgeAVError, ExportError, StorageError, UsageError
from edgeav.files import one_line, os_error_message, storage_errors
from edgeav.models.rewrites import hint_for, rewrite_for_target
from edgeav.specs import IOSpec
from export_targets._quiet import CapturedOutput, captured_output
from export_targets.formats import format_info, get_target
from export_targets.manifest import build_manifest, manifest_path, write_manifest
from export_targets.parity import ParityReport, eager_outputs
from export_targets.request import ExportRequest, ExportSubject
from export_targets.runtime import to_tensor
from export_targets.staging import Staging
from export_targets.target import LoweringReport, LoweringRequest, TargetInfo
from export_targets.verify import check_reference, score_int8_artifact, verify_artifact

if TYPE_CHECKING:  # the int8 path is imported by whoever plans it
    from quantize.plan import Int8Plan

ProgressFn = Callable[[str, str], None]  # (format name, stage), stage in STAGES

STAGES = ("lower", "verify", "manifest", "done")
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


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
    accuracy: Mapping[str, Any] = field(default_factory=dict)  # int8: the gate's record (quantize/gate.py)


def export_model(
    subject: ExportSubject,
    request: ExportRequest,
    progress: ProgressFn | None = None,
    *,
    int8: Int8Plan | None = None,
) -> list[ExportResult]:
    """Export ``subject`` to every format of ``request`` (already validated when it was built).

    ``request.jobs`` > 1 lowers formats concurrently in that many worker processes (converters are
    single-threaded Python; on two cores this nearly halves the wall time of ``--target all``); verification
    and manifests always run here, one format at a time.
    ``int8`` (required for ``precision="int8"``, see :func:`quantize.plan.plan_int8`): the quantized
    model; each format lowers its recipe's graph, parity is measured against that graph in PyTorch, and
    the artifact's task metric on the held-out split is gated against fp32.
    Raises an EdgeAVError subclass on any failure, leaving ``out_dir`` as it was.
    """
    if request.precision == "int8" and int8 is None:
        raise UsageError("int8 export needs a quantized model: pass --qat-checkpoint or --data to calibrate")
    samples = [tuple(to_tensor(x) for x in s) for s in subject.samples(request.samples, request.seed)]
    for sample in samples:
        subject.io_spec.check_inputs(sample)
    subject.model.eval()
    reference = eager_outputs(subject.model, samples)
    check_reference(reference, subject.io_spec, subject.name)
    prepared = PreparedExport(subject, request, samples, reference, progress or (lambda _f, _s: None), int8)

    with Staging(request.out_dir) as staging:
        lowered = lower_all(prepared, request.formats, staging, request.effective_jobs)
        staged = [prepared.finish(info, staging, lowered[info.name]) for info in request.formats]
        staging.commit()
    out = request.out_dir
    return [dataclasses.replace(r, path=out / r.path.name, manifest_path=out / r.manifest_path.name) for r in staged]


@dataclass(frozen=True)
class _Lowered:
    """What lowering one format produced (picklable: it crosses the worker boundary)."""

    report: LoweringReport
    rewrites: dict[str, int]
    warnings: tuple[str, ...]
    seconds: float


def lower_all(prepared: PreparedExport, infos: Sequence[TargetInfo], staging: Staging, jobs: int) -> dict[str, _Lowered]:
    """Lower every format into the staging folder, in ``jobs`` worker processes when jobs > 1.

    Slowest formats go first so that a two-worker pool finishes together. A worker's EdgeAVError comes
    back as itself; the first failure (or a signal, see export_targets/staging.py) cancels what has not started
    and stops the workers still lowering, before the staging folder they write into is removed.
    """
    order = sorted(infos, key=lambda i: -i.lowering_cost)

    def request(info: TargetInfo) -> tuple[Any, ...]:  # lower_format's arguments after the TargetInfo
        p = prepared
        return p.module_for(info), p.samples[0], p.io_spec, p.request.precision, staging.path(p.artifact_name(info))

    if jobs <= 1 or len(order) == 1:
        out = {}
        for info in order:
            prepared.progress(info.name, "lower")
            out[info.name] = lower_format(info, *request(info))
        return out
    ctx = multiprocessing.get_context("spawn")  # fork after torch/converter imports is unsafe
    with ProcessPoolExecutor(max_workers=min(jobs, len(order)), mp_context=ctx, initializer=_die_with_parent,
                             initargs=(os.getpid(),)) as pool:
        futures = {}
        for info in order:
            prepared.progress(info.name, "lower")
            futures[pool.submit(_lower_in_worker, info.name, *request(info))] = info.name
        out = {}
        try:
            for future in as_completed(futures):
                out[futures[future]] = future.result()
        except BaseException:
            _stop_workers(pool)
            raise
    return out


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Cancel what has not started and terminate the workers still lowering (their half-written artifacts are in
    the staging folder, removed next); the pool's exit then joins them."""
    processes = list((getattr(pool, "_processes", None) or {}).values())  # no public way to stop a running task
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout=10)


def lower_format(
    info: TargetInfo, model: nn.Module, example: tuple[torch.Tensor, ...], io_spec: IOSpec, precision: str, dest: Path
) -> _Lowered:
    """Rewrite a copy of ``model`` for ``info`` and lower it to ``dest`` (in a worker when jobs > 1)."""
    target = get_target(info.name)
    variant, rewrites, warnings = rewrite_for_target(model, info.rewrites, info.checks)
    start = time.perf_counter()
    log = CapturedOutput()
    try:
        with captured_output() as log:
            report = target.lower(LoweringRequest(variant, example, io_spec, precision, dest))
    except EdgeAVError:
        raise
    except Exception as exc:  # converters raise anything; turn it into one line with a fix
        disk = os_error_message(exc, dest.parent.parent)  # the staging folder's parent: --out
        if disk is not None:  # disk full / permission: another --target would fail the same way
            raise StorageError(f"{info.name} lowering could not write its artifact: {disk}") from exc
        raise ExportError(_lowering_failure(info, exc, log)) from exc
    return _Lowered(report, rewrites, tuple(warnings), time.perf_counter() - start)


def _die_with_parent(parent: int) -> None:
    """A worker's first act: die when its export does, even SIGKILLed (a timeout, the OOM killer), instead of
    lowering on as an orphan into a staging folder nobody will publish (Linux: PR_SET_PDEATHSIG)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the export died before the line above ran
        os._exit(1)


def _lower_in_worker(format_name: str, *args: Any) -> _Lowered:
    torch.set_num_threads(1)  # each worker owns one core
    return lower_format(format_info(format_name), *args)  # TargetInfo holds mappingproxies: send its name


@dataclass
class PreparedExport:
    """One model ready to lower to each format: its samples checked, its eager reference outputs computed."""

    subject: ExportSubject
    request: ExportRequest
    samples: list[tuple[torch.Tensor, ...]]
    reference: list[list[np.ndarray]]
    progress: ProgressFn
    int8: Int8Plan | None = None

    @property
    def io_spec(self) -> IOSpec:
        return self.subject.io_spec

    def module_for(self, info: TargetInfo) -> nn.Module:
        """What ``info`` lowers: the model, or at int8 its recipe's quantized graph."""
        model = self.subject.model
        return model if self.int8 is None else self.int8.module_for(info.name, model)

    def reference_for(self, info: TargetInfo) -> list[list[np.ndarray]]:
        """Parity compares an int8 artifact with its own quantized graph in PyTorch (the recipe's
        arithmetic), not with fp32: the task-metric gate is what measures the quantization loss."""
        module = self.module_for(info)
        return self.reference if module is self.subject.model else eager_outputs(module, self.samples)

    def artifact_name(self, info: TargetInfo) -> str:
        s = self.subject
        return f"{s.name}_{s.config_name}_{info.precisions[self.request.precision]}{info.suffix}"

    def finish(self, info: TargetInfo, staging: Staging, lowered: _Lowered) -> ExportResult:
        """Verify a lowered artifact against PyTorch and write its manifest."""
        target = get_target(info.name)
        precision = info.precisions[self.request.precision]
        dest = staging.path(self.artifact_name(info))
        self.progress(info.name, "verify")
        start = time.perf_counter()
        reference = self.reference_for(info)
        structure, parity = verify_artifact(
            target, info, dest, self.io_spec, self.samples, reference, precision=precision,
            fp32_reference=None if reference is self.reference else self.reference, int8=self.int8 is not None,
        )
        verify_seconds = time.perf_counter() - start

        self.progress(info.name, "manifest")
        warnings = [*lowered.warnings, *lowered.report.warnings]
        extra = {} if self.int8 is None else {
            "quantization": self.int8.manifest_record(info.name),
            "accuracy": score_int8_artifact(target, info, dest, self.io_spec, self.int8.gate,
                                            on_scoring=lambda: self.progress(info.name, "verify")),
        }
        s = self.subject
        manifest = build_manifest(
            model_name=s.name, config_name=s.config_name, config=s.config, task=s.task, info=info,
            requested_precision=self.request.precision, artifact=dest, io_spec=self.io_spec, structure=structure,
            weights=dict(s.weights), rewrites=lowered.rewrites, warnings=warnings,
            lowering={**lowered.report.details, **structure.details}, ops=structure.ops or lowered.report.ops,
            parity=parity, export_seconds=lowered.seconds, verify_seconds=verify_seconds, **extra,
        )
        mpath = staging.path(manifest_path(dest).name)
        with storage_errors(self.request.out_dir):
            write_manifest(manifest, mpath)
        self.progress(info.name, "done")
        return ExportResult(
            format=info.name, path=dest, manifest_path=mpath, precision=precision,
            size_mb=manifest["size_bytes"] / 1e6, parity=parity, export_seconds=lowered.seconds,
            verify_seconds=verify_seconds, rewrites=lowered.rewrites, warnings=tuple(warnings),
            accuracy=extra.get("accuracy", {}),
        )


def _lowering_failure(info: TargetInfo, exc: BaseException, log: CapturedOutput) -> str:
    hint = hint_for(str(exc)) or hint_for(log.text)
    fix = f"fix: {hint}" if hint else f"try another --target to see whether the problem is {info.name}-specific"
    return f"{info.name} lowering failed ({one_line(exc)}); {fix}"
