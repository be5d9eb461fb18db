"""The sweep's workspace: a dataset on disk, a trained checkpoint and exported artifacts, built once; every
try corrupts its own copy. Also the file corruptions the tries use and the command runner."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.io import wavfile

SMALL = ["--model", "lightavseg", "--config", "small"]
TRAIN_FAST = ["--steps", "2", "--batch-size", "2"]


@dataclass(frozen=True)
class Outcome:
    """What a user saw: exit code, both streams, seconds."""

    code: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def text(self) -> str:
        return self.stdout + self.stderr


def edgeav(argv: Sequence[str], cwd: Path, timeout: float = 900.0,
           send: tuple[int, Callable[[], bool]] | None = None) -> Outcome:
    """Run `edgeav ARGV` in a fresh process; ``send`` = (signal, ready): deliver it once ``ready()``."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0", "COLUMNS": "200"}
    cmd = [sys.executable, "-m", "edgeav.cli.main", *map(str, argv)]
    t0 = time.perf_counter()
    # its own session: a timeout kills the whole group (an export's --jobs workers included), not just the CLI
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    if send is not None:
        sig, ready = send
        while proc.poll() is None and not ready():
            time.sleep(0.2)
        if proc.poll() is None:
            proc.send_signal(sig)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        err += f"\n[sweep] killed after {timeout:.0f} s"
    return Outcome(proc.returncode, out, err, time.perf_counter() - t0)


class Workspace:
    """``root/base``: the pristine dataset; ``root/run``: a trained run; ``root/dist``: fp32 artifacts of it."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.base, self.run, self.dist = self.root / "base", self.root / "run", self.root / "dist"
        self._n = 0

    @property
    def checkpoint(self) -> Path:
        return self.run / "last.pt"

    def build(self, log: Callable[[str], None] = print) -> None:
        """The dataset and the trained run (the artifacts are exported on first use: most tries need none)."""
        self.log = log
        self._step(self.base / "Multi-sources", ["data", "make", "synthetic-ms3", "--out", self.base, "--scenes", "6", "--seed", "0"])
        self._step(self.checkpoint, ["train", *SMALL, "--data", self.spec(self.base), *TRAIN_FAST, "--out", self.run])

    def _step(self, done: Path, argv: list) -> None:
        if done.exists():
            return
        out = edgeav(argv, self.root, timeout=7200.0)  # the 4-format export takes long on a loaded machine
        if out.code != 0:
            raise RuntimeError(f"workspace step `edgeav {' '.join(map(str, argv))}` failed:\n{out.stderr[-2000:]}")
        getattr(self, "log", print)(f"workspace: {argv[0]} in {out.seconds:.0f} s")

    def fresh(self, name: str) -> Path:
        """An empty folder for one try."""
        self._n += 1
        path = self.root / "tries" / f"{self._n:02d}-{name}"
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path

    def data_copy(self, into: Path) -> Path:
        shutil.copytree(self.base, into / "data")
        return into / "data"

    def run_copy(self, into: Path) -> Path:
        shutil.copytree(self.run, into / "run")
        return into / "run"

    def artifact(self, suffix: str) -> Path:
        self._step(self.dist / "lightavseg_small_fp32.onnx", ["export", *SMALL, "--checkpoint", self.checkpoint,
                                                               "--target", "all", "--samples", "1", "--out", self.dist])
        (path,) = self.dist.glob(f"*{suffix}")
        return path

    @staticmethod
    def spec(data: Path) -> str:
        return f"avsbench-ms3:{data}"


# --------------------------------------------------------------------------- where things are in a dataset
def ms3(data: Path) -> Path:
    return data / "Multi-sources" / "ms3_data"


def frame(data: Path, split: str) -> Path:
    return sorted((ms3(data) / "visual_frames").glob(f"ms3_{split}_*/*.png"))[0]


def wav(data: Path, split: str) -> Path:
    return sorted((ms3(data) / "audio_wav" / split).glob("*.wav"))[0]


def mask(data: Path, split: str) -> Path:
    return sorted((ms3(data) / "gt_masks" / split).glob("*/*.png"))[0]


# --------------------------------------------------------------------------- corruptions
def truncate(path: Path, keep: float = 0.5) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def random_bytes(path: Path, n: int = 4096, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(np.random.default_rng(seed).bytes(n))
    return path


def rewrite_wav(path: Path, edit: Callable[[np.ndarray, int], tuple[np.ndarray, int]]) -> Path:
    """Read the WAV as float in [-1, 1], let ``edit`` change (samples, rate), write it back (dtype of the result)."""
    rate, x = wavfile.read(path)
    f = x.astype(np.float32) / (32768.0 if x.dtype == np.int16 else 1.0)
    y, new_rate = edit(f, rate)
    wavfile.write(path, new_rate, y)
    return path


def resize_png(path: Path, size: tuple[int, int]) -> Path:
    from PIL import Image

    with Image.open(path) as im:
        im.resize(size).save(path)
    return path


def wait_for(path: Path, predicate: Callable[[Path], bool] = Path.exists) -> Callable[[], bool]:
    return lambda: predicate(path)


def has_rows(path: Path, n: int = 1) -> bool:
    return path.exists() and len(path.read_text().splitlines()) >= n


SIGINT, SIGTERM = signal.SIGINT, signal.SIGTERM
