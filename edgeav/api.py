"""The Python API (layer 6, beside the CLI): load, export and benchmark from a script.

    import edgeav
    model = edgeav.load_model("lightavseg", "small", checkpoint="runs/ref/last.pt")
    results = edgeav.export(model, target="android", out="dist")          # .pte + .tflite, verified, manifests
    report = edgeav.bench(results, runs=20)                                # time them on this host

The same :class:`~export_targets.request.ExportRequest` as `edgeav export` (so the same one-line refusals),
the same rewrites, lowering, parity check and manifest. A model outside the registry — a fine-tuned or custom
audio-visual ``nn.Module`` — declares its inputs with an :class:`~edgeav.specs.IOSpec` and gives realistic
samples (a function ``(n, seed) -> [input tuple, ...]`` or the tensors themselves):

    edgeav.export(my_module, target="executorch,litert", io_spec=spec, samples=[(frames, audio)],
                  task="segmentation", name="mynet")
"""
from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from edgeav.errors import UsageError
from edgeav.registry import LoadedModel
from edgeav.registry import load_model as _load_model
from edgeav.specs import IOSpec
from edgeav.tasks import get_task

Samples = Callable[[int, int], list[tuple[torch.Tensor, ...]]] | Sequence[tuple[torch.Tensor, ...]] | tuple[torch.Tensor, ...]


def load_model(name: str, config: str | None = None, checkpoint: str | Path | None = None, *,
               seed: int = 0) -> LoadedModel:
    """A registry model at ``config`` with ``checkpoint`` loaded strictly (``.model`` is the ``nn.Module``).

    Without a checkpoint the weights are the registry's initialisation under ``torch.manual_seed(seed)``.
    """
    return _load_model(name, config, checkpoint, seed=seed)


def export(
    model: str | LoadedModel | nn.Module,
    target: str | Sequence[str] = "android",
    out: str | Path = "dist",
    *,
    precision: str = "fp32",
    config: Any = None,
    checkpoint: str | Path | None = None,
    io_spec: IOSpec | None = None,
    samples: Samples | None = None,
    task: str | None = None,
    name: str | None = None,
    progress: Callable[[str, str], None] | None = None,
    **options: Any,
) -> list[Any]:
    """Export ``model`` to ``target`` in ``out``: verified artifacts, each with its manifest; the ExportResults.

    ``model`` is a registry name (with ``config``/``checkpoint``), a :func:`load_model` result, or your own
    ``nn.Module`` with ``io_spec``, ``samples`` and ``task`` ("segmentation" or "saliency"; ``name`` names the
    artifacts, ``config`` is recorded in the manifest); ``samples`` as a number is the parity check's count.
    ``options`` are the other ExportRequest fields (``seed``, ``jobs``; at int8 ``data``, ``qat_checkpoint``,
    ``max_drop``, ``force``, ``keep_fp32``, ``precision_by_cost`` ("host" or "arm[:CPU]") ...). Raises an
    EdgeAVError subclass with a one-line message; nothing is written then.
    """
    from export_targets.pipeline import export_model
    from export_targets.request import ExportRequest

    if isinstance(samples, int):  # a count: how many realistic samples the parity check runs
        options["samples"], samples = samples, None
    if isinstance(model, nn.Module):  # lowering workers are spawned: a class from a notebook cannot be sent there
        options.setdefault("jobs", 1)
    request = ExportRequest(target if isinstance(target, str) else tuple(target), Path(out), precision, **options)
    for notice in request.notices:
        warnings.warn(notice, stacklevel=2)
    subject = _subject(model, request.seed, config=config, checkpoint=checkpoint, io_spec=io_spec, samples=samples,
                       task=task, name=name)
    cost = None
    if request.precision_by_cost:
        from bench.devices.cost_probes import cost_probe_for

        cost = cost_probe_for(request.precision_by_cost)
    return export_model(subject, request, progress, int8=request.plan_int8(subject, cost))


def bench(targets: str | Path | Any | Iterable[str | Path | Any], **options: Any) -> Any:
    """Time artifacts (paths, ExportResults, or ``eager:MODEL[:CONFIG]``) on a device; the BenchReport.

    ``options`` are the BenchRequest fields: ``device`` ("host", "adb[:SERIAL]"), ``threads``, ``runs``,
    ``warmup``, ``per_op``, ``compare``, ``eager``, ``profiles``, ``calibration``.
    """
    from bench.request import BenchRequest, benchmark

    items = [targets] if isinstance(targets, (str, Path)) or hasattr(targets, "manifest_path") else list(targets)
    return benchmark(BenchRequest(tuple(getattr(t, "path", t) for t in items), **options))


def _subject(model: str | LoadedModel | nn.Module, seed: int, *, config: Any, checkpoint: str | Path | None,
             io_spec: IOSpec | None, samples: Samples | None, task: str | None, name: str | None) -> Any:
    """What ``export`` exports, from whichever of the three forms ``model`` takes."""
    from export_targets.request import ExportSubject

    registry_only = {"io_spec": io_spec, "samples": samples, "task": task, "name": name}
    if isinstance(model, (str, LoadedModel)):
        given = [k for k, v in registry_only.items() if v is not None]
        if given:
            raise UsageError(f"{', '.join(given)} describe your own nn.Module; a registry model declares its own")
        if isinstance(model, LoadedModel):
            if config is not None or checkpoint is not None:
                raise UsageError("this model is already loaded; pass config/checkpoint to edgeav.load_model instead")
            return ExportSubject.from_registry(model)
        return ExportSubject.from_registry(_load_model(model, config, checkpoint, seed=seed))
    if not isinstance(model, nn.Module):
        raise UsageError(f"model is a {type(model).__name__}; pass a registry name, edgeav.load_model(...) or an nn.Module")
    if checkpoint is not None:
        raise UsageError("checkpoint= loads registry models; load your module's weights with load_state_dict first")
    if io_spec is None or samples is None or task is None:
        missing = [k for k in ("io_spec", "samples", "task") if registry_only[k] is None]
        raise UsageError(f"your own nn.Module needs {', '.join(missing)}: its inputs/outputs (edgeav.specs.IOSpec), "
                         "realistic input tuples, and task='segmentation' or 'saliency'")
    get_task(task)  # an unknown task is refused here, before anything is built
    label = name or type(model).__name__.lower()
    return ExportSubject(name=label, model=model, io_spec=io_spec, samples=_sample_fn(samples), task=task,
                         config=config, weights={"source": "user module", "class": _qualified(model)})


def _sample_fn(samples: Samples) -> Callable[[int, int], list[tuple[torch.Tensor, ...]]]:
    """``samples`` as the pipeline's ``(n, seed) -> tuples``: given tensors are used as they are (at most n)."""
    if callable(samples):
        return samples
    given = [samples] if isinstance(samples, tuple) and all(isinstance(t, torch.Tensor) for t in samples) else list(samples)
    if not given:
        raise UsageError("samples is empty; pass at least one input tuple in IOSpec order")
    return lambda n, _seed: [tuple(s) for s in given[:n]]


def _qualified(model: nn.Module) -> str:
    cls = type(model)
    return f"{cls.__module__}.{cls.__qualname__}"
