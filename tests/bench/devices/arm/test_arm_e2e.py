"""The one ARM end-to-end check: setup, then a tiny .pte through the cross-built runner under qemu."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from export_targets.formats import open_artifact
from export_targets.runtime import to_numpy


def _run(tc, pte: Path, inputs: list[Path], out: Path, log: Path) -> tuple[str, str]:
    log.unlink(missing_ok=True)
    cmd = tc.runner_command(str(pte), "--threads", "1", "--warmup", "1", "--runs", "2", "--markers",
                            "--output", str(out), *map(str, inputs), plugin_log=log)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=tc.env(), check=False, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout, log.read_text()


@pytest.mark.slow
def test_a_tiny_pte_runs_on_arm_with_host_parity_and_repeatable_instruction_counts(
        arm_device, tiny_artifacts, tiny_av_entry, tmp_path) -> None:
    pte = tiny_artifacts["executorch"]
    config = tiny_av_entry.config(tiny_av_entry.default_config)
    inputs = tiny_av_entry.samples(config, 1, 0)[0]
    files = []
    for i, x in enumerate(inputs):
        files.append(tmp_path / f"in{i}.bin")
        to_numpy(x).astype("<f4").tofile(files[-1])
    host = open_artifact(pte, threads=1).run(inputs)[0]

    counts = []
    for rep in range(2):
        stdout, log = _run(arm_device, pte, files, tmp_path / "out.bin", tmp_path / f"plugin{rep}.log")
        arm = np.fromfile(tmp_path / "out.bin", dtype="<f4").reshape(host.shape)
        assert np.abs(arm - host).max() <= 1e-5  # ARM XNNPACK NEON kernels vs the host's x86 ones
        delta = re.search(r"^marker 2 insns \d+ delta (\d+)$", log, re.M)
        events = [ln.split(" ", 2)[2] for ln in stdout.splitlines() if ln.startswith("edgeav_runner event ")]
        assert delta and int(delta.group(1)) > 0 and "Method::execute" in events
        assert len(events) == log.count("\nregion ") + log.startswith("region ")  # one region per event
        counts.append(int(delta.group(1)))
    assert counts[0] == counts[1]  # fixed cpu model, fake cpuinfo, one thread: the same count every run
