"""Run folders of `edgeav train`: one run per folder, never overwritten by accident, and the exact command
that continues one."""
from __future__ import annotations

import argparse
import json
import shlex
from collections.abc import Callable
from pathlib import Path

from edgeav.errors import StorageError, UsageError
from edgeav.files import ensure_writable_dir, one_line, write_text_atomically

# What a run leaves in its folder (checkpoints besides these: step_*.pt).
RUN_FILES = ("last.pt", "train_log.jsonl", "evals.jsonl")
STEP_LOGS = ("train_log.jsonl", "evals.jsonl")


def run_files(out: Path) -> list[Path]:
    """The files of a training run already in ``out`` (empty when there is none)."""
    if not out.is_dir():
        return []
    return [out / name for name in RUN_FILES if (out / name).exists()] + sorted(out.glob("step_*.pt"))


def prepare_run_folder(out: Path, resume: Path | None, overwrite: bool) -> None:
    """Refuse an ``out`` that holds another run unless ``resume`` continues it there or ``overwrite``
    (then its run files go); make sure ``out`` can be written before any work starts."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; pass a folder for the run")
    existing = run_files(out)
    continuing = resume is not None and Path(resume).resolve().parent == out.resolve()
    if existing and not continuing:
        if not overwrite:
            names = ", ".join(p.name for p in existing[:4])
            raise UsageError(
                f"--out {out} already holds a run ({names}); continue it with --resume {out / 'last.pt'}, "
                "choose another --out, or pass --overwrite to replace it"
            )
        for path in existing:
            path.unlink()
    try:
        ensure_writable_dir(out, "--out")
    except OSError as exc:  # what storage_errors does not map (e.g. ENOENT creating a folder under /proc)
        raise StorageError(f"{out}: cannot be created or written ({one_line(exc)}); choose a writable --out") from None


def trim_logs(out: Path, step: int) -> None:
    """Drop the log rows past ``step`` (written after the checkpoint a run resumes from), so a resumed
    run's logs read as one run instead of interleaving two."""
    for name in STEP_LOGS:
        path = out / name
        if not path.exists():
            continue
        rows = [line for line in path.read_text().splitlines() if line.strip()]
        kept = [line for line in rows if json.loads(line).get("step", 0) <= step]
        if len(kept) != len(rows):
            write_text_atomically(path, "".join(line + "\n" for line in kept))


def resume_command(args: argparse.Namespace, checkpoint: Path, define: Callable[[argparse.ArgumentParser], None],
                   verb: str = "train") -> str:
    """The `edgeav VERB ...` command line of ``args`` (flags left at their default omitted) with
    ``--resume checkpoint``: what a user pastes to continue the run."""
    parser = argparse.ArgumentParser(add_help=False)
    define(parser)
    words = ["edgeav", verb]
    for action in parser._actions:
        if not action.option_strings or action.dest in ("resume", "overwrite"):
            continue
        value = getattr(args, action.dest, action.default)
        if value == action.default and not action.required:
            continue
        flag = max(action.option_strings, key=len)
        words += [flag] if isinstance(action, argparse._StoreTrueAction) else [flag, str(value)]
    return shlex.join(words + ["--resume", str(checkpoint)])
