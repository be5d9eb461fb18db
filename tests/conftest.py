"""Shared fixtures: TinyAV as a ModelEntry (the model lives in tiny_av.py), the registry holding only it, and
one trained small LightAVSeg per session."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from edgeav import registry
from edgeav.registry import ModelEntry
from tiny_av import SAMPLE_RATE, TINY_AV, TinyAV, TinyAVConfig, tiny_av_io_spec, tiny_av_samples  # noqa: F401

# One intra-op thread for the whole suite: on a shared 2-core machine OpenMP threads that spin-wait on
# an oversubscribed CPU make small ops 10-20x slower; EDGEAV_TEST_THREADS overrides it.
torch.set_num_threads(int(os.environ.get("EDGEAV_TEST_THREADS", "1")))
torch.set_flush_denormal(True)


@pytest.fixture(scope="session")
def tiny_av_entry() -> ModelEntry:
    return TINY_AV


@pytest.fixture
def registry_with_tiny_av(monkeypatch: pytest.MonkeyPatch) -> ModelEntry:
    """The registry holding only TinyAV (real model modules are not imported)."""
    monkeypatch.setattr(registry, "_REGISTRY", {TINY_AV.name: TINY_AV})
    monkeypatch.setattr(registry, "_discovered", True)
    return TINY_AV


# One trained checkpoint per session, shared by the int8, bench and artifact tests that need a model whose
# accuracy can be lost (an untrained model scores ~0 whatever quantization does, so its gate proves nothing).
@dataclass(frozen=True)
class TrainedRun:
    checkpoint: Path
    data: str  # the --data spec it was trained on; its test split is held out


@pytest.fixture(scope="session")
def trained_lightavseg_small(tmp_path_factory: pytest.TempPathFactory) -> TrainedRun:
    """The small LightAVSeg after 120 steps on built-in scenes (under a minute on one quiet core)."""
    from edgeav.cli.main import main

    data = "synthetic-ms3:scenes=24,image_size=64"
    run = tmp_path_factory.mktemp("trained") / "lightavseg-small"
    code = main(["train", "--model", "lightavseg", "--config", "small", "--data", data, "--steps", "120",
                 "--batch-size", "8", "--lr", "1e-3", "--out", str(run)])
    assert code == 0
    return TrainedRun(run / "last.pt", data)
