"""DistributedDataParallel under torchrun with gloo: two ranks on this CPU end where one process ends.

Each rank takes its half of every global batch and DDP averages the gradients, so (no BatchNorm in the net)
the final weights of the 2-rank run equal those of a 1-process run with the same global batch; only rank 0
writes the checkpoint.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.train.ddp_worker import TinySegNet

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def _run(argv: list[str], tmp: Path) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]


def test_two_gloo_ranks_match_one_process(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    _run([sys.executable, "-m", "tests.train.ddp_worker", str(one)], tmp_path)
    torchrun = Path(sys.executable).with_name("torchrun")
    _run([str(torchrun), "--standalone", "--nproc_per_node", "2", "-m", "tests.train.ddp_worker", str(two)], tmp_path)
    a = torch.load(one / "last.pt", weights_only=False)
    b = torch.load(two / "last.pt", weights_only=False)
    assert a["step"] == b["step"] == 5
    for key, value in a["model"].items():
        torch.testing.assert_close(b["model"][key], value, atol=1e-5, rtol=1e-4)
    torch.manual_seed(0)
    init = TinySegNet().state_dict()  # the weights both runs started from: training must have moved them
    assert all((a["model"][k] - v).abs().max() > 1e-3 for k, v in init.items())
    assert sorted(p.name for p in two.iterdir() if p.suffix == ".pt") == ["last.pt"]
