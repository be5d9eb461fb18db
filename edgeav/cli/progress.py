"""Running a trainer under a progress bar with a JSON-lines step log (shared by `edgeav train` and `distill`)."""
from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from edgeav.train.trainer import Trainer, TrainState


def fit_with_progress(trainer: Trainer, label: str, log_path: Path, console: Console) -> TrainState:
    """``trainer.fit()`` with a bar (loss, samples/s) on ``console``; every step's row appended to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    batch = trainer.cfg.batch_size
    with Progress(TextColumn(f"[bold]{label}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TextColumn("{task.description}"), TimeElapsedColumn(), TimeRemainingColumn(), console=console) as bar, \
            open(log_path, "a") as log:
        task = bar.add_task("", total=trainer.cfg.steps, completed=trainer.state.step)

        def on_step(state: TrainState, row: dict) -> None:
            log.write(json.dumps(row) + "\n")
            log.flush()
            rate = row["step"] / max(row["seconds"], 1e-9) * batch
            bar.update(task, completed=state.step, description=f"loss {row['loss']:.3f}  {rate:.1f} samples/s")

        trainer.on_step = on_step
        return trainer.fit()
