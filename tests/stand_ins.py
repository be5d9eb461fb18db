"""Stand-in converters for export tests: each format is replaced by an in-memory 'lowering' that keeps the module,
so the pipeline's mechanics (staging, verification, manifests, errors) run in milliseconds.

Shared by export and bench tests (tests/ is on sys.path through its conftest.py); import the fixtures into a
test module: ``from stand_ins import StandIn, export, stand_ins, standin_structure, visible``.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import torch

from export_targets import pipeline
from export_targets.formats import format_info
from export_targets.request import ExportRequest, ExportSubject
from export_targets.target import ArtifactStructure, ExportTarget, LoweringReport, TensorInfo


class StandIn(ExportTarget):
    """'Lowers' by keeping the module; its runner is eager PyTorch plus optional noise."""

    noise = 0.0
    fail_with: Exception | None = None
    input_shape_override: tuple[int, ...] | None = None

    def __init__(self, name: str) -> None:
        self.info = format_info(name)
        self.model: torch.nn.Module | None = None
        self.io = None

    def lower(self, request) -> LoweringReport:
        model, example_inputs, io_spec, precision, dest = request.fields()
        if dest.suffix == ".mlpackage":
            dest.mkdir()
            (dest / "Manifest.json").write_text("{}")
        else:
            dest.write_bytes(b"artifact of " + self.info.name.encode())
        if self.fail_with is not None:
            raise self.fail_with
        self.model, self.io = model, io_spec
        return LoweringReport(details={"stand_in": True}, ops=("conv",))

    def inspect(self, path: Path) -> ArtifactStructure:
        ins = [TensorInfo(t.name, t.shape, t.dtype) for t in self.io.inputs]
        if self.input_shape_override:
            ins[0] = dataclasses.replace(ins[0], shape=self.input_shape_override)
        outs = tuple(TensorInfo(t.name, t.shape, t.dtype) for t in self.io.outputs)
        return ArtifactStructure(inputs=tuple(ins), outputs=outs, ops=())

    def load(self, path: Path, io_spec=None):
        outer = self

        class Runner:
            def run(self, inputs: Sequence[torch.Tensor]) -> list[np.ndarray]:
                with torch.no_grad():
                    out = outer.model(*inputs).numpy()
                return [out + outer.noise * np.random.default_rng(0).standard_normal(out.shape).astype(np.float32)]

        return Runner()


@pytest.fixture
def stand_ins(monkeypatch: pytest.MonkeyPatch) -> dict[str, StandIn]:
    made: dict[str, StandIn] = {}

    def get_target(name: str) -> StandIn:
        made[name] = made.get(name) or StandIn(name)
        return made[name]

    monkeypatch.setattr(pipeline, "get_target", get_target)
    monkeypatch.setattr(StandIn, "fail_with", None)
    return made


def export(entry, out: Path, targets: str = "android", weights=None, **kw):
    subject = ExportSubject.from_entry(entry, entry.build(), weights=weights)
    return pipeline.export_model(subject, ExportRequest(targets, out, samples=2, jobs=1), **kw)


def visible(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir()) if out.exists() else []


@pytest.fixture
def standin_structure(monkeypatch: pytest.MonkeyPatch, tiny_av_entry) -> None:
    """Opening a stand-in artifact reads the stand-in's declared I/O (as real runtimes read an artifact's) and
    loads a ("runner", threads) marker instead of a runtime."""
    spec = tiny_av_entry.io_spec(tiny_av_entry.config("small"))

    def inspect(self, path):
        target = StandIn(self.info.name)
        target.io = spec
        return target.inspect(path)

    monkeypatch.setattr(ExportTarget, "inspect", inspect)
    monkeypatch.setattr(ExportTarget, "load", lambda self, path, io_spec=None, threads=None: ("runner", threads))
