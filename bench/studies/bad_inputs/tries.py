"""The 46 tries: what is broken, the command a user would type, and what they must see.

``expect``: "error" (exit 2 and one `edgeav: error:` line naming ``subject`` and every ``mentions``),
"ok" (exit 0; ``check`` says the result is right), "either" (a one-line error, or success with a warning,
both naming ``subject``). ``check`` returns "" or "<verdict>: why" (lost / silent / misleading).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.studies.bad_inputs import workspace as w
from edgeav.files import sha256_file
from bench.studies.bad_inputs.workspace import SMALL, TRAIN_FAST, Outcome, Workspace


@dataclass(frozen=True)
class Command:
    argv: list
    subject: str = ""  # what the message must name (a file name, a flag)
    send: tuple | None = None  # (signal, ready) for the interrupt tries


Check = Callable[[Workspace, Path, Outcome], str]


@dataclass(frozen=True)
class Try:
    name: str
    area: str
    expect: str
    prepare: Callable[[Workspace, Path], Command]
    mentions: tuple[str, ...] = ()
    check: Check | None = None


def sha(path: Path) -> str:
    return sha256_file(path) if path.exists() else ""


def keeps_checkpoint(ws: Workspace, d: Path, out: Outcome) -> str:
    """Lost work = steps were trained (logged) and no checkpoint holds them; refusing up front loses nothing."""
    log = d / "run" / "train_log.jsonl"
    trained = log.exists() and log.read_text().strip() != ""
    return "lost: no checkpoint of the completed steps" if trained and not (d / "run" / "last.pt").exists() else ""


def names_existing_checkpoint(ws: Workspace, d: Path, out: Outcome) -> str:
    if not (d / "run" / "last.pt").exists():
        return "lost: no checkpoint after the interrupt"
    return "" if "--resume" in out.text else "misleading: the message does not say how to --resume"


def run_untouched(ws: Workspace, d: Path, out: Outcome) -> str:
    return "" if sha(d / "run" / "last.pt") == sha(ws.checkpoint) else "lost: the existing run's last.pt was replaced"


def no_file(name: str) -> Check:
    return lambda ws, d, out: f"silent: {name} was written" if list(d.rglob(name)) else ""


def _on_corrupted_copy(argv_of: Callable[[Workspace, Path, Path], list]) -> Callable:
    """A try factory: copy the dataset, corrupt one file with ``corrupt(data(root))``, run ``argv_of(ws, d, root)``;
    the message must name the corrupted file."""
    def factory(data: Callable[[Path], Path], corrupt: Callable[[Path], Path]) -> Callable[[Workspace, Path], Command]:
        def prepare(ws: Workspace, d: Path) -> Command:
            root = ws.data_copy(d)
            bad = corrupt(data(root))
            return Command(argv_of(ws, d, root), bad.name)
        return prepare
    return factory


# `edgeav train`, `edgeav data check` and `edgeav eval` on a copy of the dataset with one file corrupted
train = _on_corrupted_copy(lambda ws, d, root: ["train", *SMALL, "--data", ws.spec(root), *TRAIN_FAST, "--out", d / "run"])
check_data = _on_corrupted_copy(lambda ws, d, root: ["data", "check", root])
evaluate = _on_corrupted_copy(lambda ws, d, root: ["eval", *SMALL, "--checkpoint", ws.checkpoint, "--data", ws.spec(root)])


def resume(*changed: str, subject: str) -> Callable[[Workspace, Path], Command]:
    def prepare(ws: Workspace, d: Path) -> Command:
        run = ws.run_copy(d)
        argv = ["train", *SMALL, "--data", ws.spec(ws.base), *TRAIN_FAST, "--out", run, "--resume", run / "last.pt"]
        for flag, value in zip(changed[::2], changed[1::2]):
            if flag in argv:
                argv[argv.index(flag) + 1] = value
            else:
                argv += [flag, value]
        return Command(argv, subject)
    return prepare


def scaled(factor: float) -> Callable[[np.ndarray, int], tuple[np.ndarray, int]]:
    return lambda x, rate: ((x * factor).astype(np.float32), rate)


def cut(seconds: float) -> Callable[[np.ndarray, int], tuple[np.ndarray, int]]:
    return lambda x, rate: ((x[: int(seconds * rate)] * 32767).astype(np.int16), rate)


def nan_wav(x: np.ndarray, rate: int) -> tuple[np.ndarray, int]:
    y = x.astype(np.float32)
    y[::100] = np.nan
    return y, rate


def stereo_44k(x: np.ndarray, rate: int) -> tuple[np.ndarray, int]:
    n = int(len(x) * 44100 / rate)
    y = np.interp(np.linspace(0, len(x) - 1, n), np.arange(len(x)), x)
    return (np.stack([y, y], 1) * 32767).astype(np.int16), 44100


def float_wav(x: np.ndarray, rate: int) -> tuple[np.ndarray, int]:
    return x.astype(np.float32), rate


val_frame = lambda root: w.frame(root, "val")  # noqa: E731 - the table reads better with these
test_frame = lambda root: w.frame(root, "test")  # noqa: E731
train_frame = lambda root: w.frame(root, "train")  # noqa: E731
val_wav = lambda root: w.wav(root, "val")  # noqa: E731
test_wav = lambda root: w.wav(root, "test")  # noqa: E731
train_wav = lambda root: w.wav(root, "train")  # noqa: E731
train_mask = lambda root: w.mask(root, "train")  # noqa: E731


def delete(path: Path) -> Path:
    path.unlink()
    return path
