"""One trainer for every model: AdamW + poly decay, clipping, checkpoints, exact resume, evaluation, DDP.

Determinism: the sample order of step ``s`` is a function of (seed, s) alone — epoch ``e`` draws its own
permutation from ``seed`` and ``e`` — and the RNG that drives dropout/drop-path is re-seeded from
(seed, s) at every step. A run resumed from a checkpoint therefore replays exactly the loss curve of an
uninterrupted run (tested on the small config).

Under ``torchrun`` (WORLD_SIZE > 1) the model is wrapped in DistributedDataParallel and each rank takes
its slice of every global batch; checkpoints and logs are written by rank 0 only.
"""
from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import Dataset, default_collate

from edgeav.checkpoints import check_fits, save_atomically
from edgeav.errors import CheckpointError, DataError, Interrupted, TrainingError
from edgeav.files import storage_errors
from edgeav.registry import Objective
from edgeav.train.evaluate import evaluate
from edgeav.train.interrupts import stop_requests
from edgeav.train.objective import TrainingForward
from edgeav.train.resume import changes, check_identity, read_training_checkpoint, schedule_note
from edgeav.train.samples import annotated_only


@dataclass(frozen=True)
class TrainConfig:
    steps: int
    batch_size: int = 8
    lr: float = 2e-4
    weight_decay: float = 0.01
    poly_power: float = 0.9  # lr = base · (1 − step/steps)^power, as in the AVS papers
    warmup_steps: int = 0
    grad_clip: float = 1.0
    eval_every: int = 0  # 0: only at the end
    checkpoint_every: int = 0  # 0: only at the end
    seed: int = 0
    eval_batch_size: int = 8


@dataclass
class TrainState:
    step: int = 0
    history: list[dict[str, float]] = field(default_factory=list)  # one row per step (loss parts, lr)
    evals: list[dict[str, float]] = field(default_factory=list)


def poly_lr(cfg: TrainConfig, step: int) -> float:
    """Learning rate at ``step`` (0-based): linear warm-up, then polynomial decay to 0 at ``cfg.steps``."""
    if cfg.warmup_steps and step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    return cfg.lr * (1.0 - step / max(cfg.steps, 1)) ** cfg.poly_power


def batch_indices(num_samples: int, batch_size: int, seed: int, step: int) -> list[int]:
    """The global batch of ``step``: consecutive slices of per-epoch permutations seeded by (seed, epoch)."""
    out: list[int] = []
    start = step * batch_size
    while len(out) < batch_size:
        epoch, offset = divmod(start + len(out), num_samples)
        perm = torch.randperm(num_samples, generator=torch.Generator().manual_seed(seed * 100_003 + epoch))
        take = min(batch_size - len(out), num_samples - offset)
        out.extend(perm[offset : offset + take].tolist())
    return out


def _world() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def init_distributed() -> torch.device:
    """Join the process group when launched by torchrun; pick CUDA when present."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend)
    if torch.cuda.is_available():
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        return torch.device("cuda", local)
    return torch.device("cpu")


class Trainer:
    """Trains ``model`` with ``objective`` on ``train_set`` (a FrameSamples-like dataset of dict samples)."""

    def __init__(
        self,
        model: nn.Module,
        objective: Objective,
        train_set: Dataset,
        cfg: TrainConfig,
        out_dir: Path,
        eval_set: Dataset | None = None,
        model_meta: dict[str, Any] | None = None,
        device: torch.device | None = None,
        on_step: Callable[[TrainState, dict[str, float]], None] | None = None,
    ) -> None:
        self.device = device or torch.device("cpu")
        # Denormal floats appear in early training (tiny BN/gradient values) and slow x86 CPU kernels
        # several-fold; flushing them to zero changes nothing measurable in the result.
        torch.set_flush_denormal(True)
        self.model = model.to(self.device)
        self.objective = objective
        self.train_set = train_set
        self.eval_set = eval_set
        self.cfg = cfg
        self.out_dir = Path(out_dir)
        self.model_meta = model_meta or {}
        self.on_step = on_step
        self.rank, self.world = _world()
        net: nn.Module = TrainingForward(self.model)
        if self.world > 1:
            net = nn.parallel.DistributedDataParallel(net, device_ids=[self.device.index] if self.device.type == "cuda" else None)
        self.net = net
        params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.state = TrainState()
        self.saved_step = 0  # the step of the newest checkpoint on disk
        self._in_step = False  # True while a step runs: weights may be mid-update
        # checkpoint path -> the command that continues the run (the CLI puts its own flags in)
        self.resume_command: Callable[[Path], str] = lambda path: f"--resume {path}"

    # ------------------------------------------------------------------ checkpoints
    def checkpoint_path(self, step: int | None = None) -> Path:
        return self.out_dir / ("last.pt" if step is None else f"step_{step:06d}.pt")

    def save(self) -> Path:
        """Write model, optimizer, step, configs and metrics atomically; ``last.pt`` points at the newest."""
        if self.rank != 0:
            self.saved_step = self.state.step
            return self.checkpoint_path()
        self.out_dir.mkdir(parents=True, exist_ok=True)
        payload = {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "step": self.state.step,
            "train_config": asdict(self.cfg),
            "model_meta": self.model_meta,
            "history": self.state.history,
            "evals": self.state.evals,
        }
        with storage_errors(self.out_dir, "--out"):  # disk full, read-only: one line naming the folder
            path = save_atomically(payload, self.checkpoint_path())
        self.saved_step = self.state.step
        return path

    def resume(self, path: Path, allow_changes: bool = False) -> list[str]:
        """Restore model, optimizer and step from a checkpoint written by :meth:`save`.

        Refuses (CheckpointError, one line) a checkpoint of another model/config, weights that do not fit,
        and — unless ``allow_changes`` — a run whose data or hyper-parameters differ from this trainer's.
        Returns notes on what changes (allowed changes, a moved end of the schedule), to show the user.
        """
        payload = read_training_checkpoint(path, self.device)
        check_identity(payload, self.model_meta, Path(path))
        check_fits(self.model, payload["model"], Path(path))
        changed = changes(payload, asdict(self.cfg), self.model_meta)
        if changed and not allow_changes:
            raise CheckpointError(
                f"--resume {path}: this call changes {'; '.join(changed)}; pass the run's values to continue it "
                "exactly, or --allow-changes to continue with the new ones"
            )
        self.model.load_state_dict(payload["model"])
        self.optimizer.load_state_dict(payload["optimizer"])
        self.state = TrainState(step=int(payload["step"]), history=list(payload.get("history", [])), evals=list(payload.get("evals", [])))
        self.saved_step = self.state.step
        note = schedule_note(payload, self.cfg.steps)
        return [f"continuing with {c}" for c in changed] + ([note] if note else [])

    # ------------------------------------------------------------------ loop
    def _batch(self, step: int) -> dict[str, Any]:
        idx = batch_indices(len(self.train_set), self.cfg.batch_size, self.cfg.seed, step)
        idx = idx[self.rank :: self.world]
        batch = annotated_only(default_collate([self.train_set[i] for i in idx]))
        if len(batch["annotated"]) == 0:
            raise DataError(f"step {step + 1}: no annotated sample in the batch; use a split whose clips are annotated alike")
        return {k: v.to(self.device) if torch.is_tensor(v) else v for k, v in batch.items()}

    def train_step(self, step: int) -> dict[str, float]:
        self.model.train()
        torch.manual_seed(self.cfg.seed * 1_000_003 + step)  # drop-path / dropout replay exactly on resume
        lr = poly_lr(self.cfg, step)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        batch = self._batch(step)
        parts = self.objective.loss(self.net, self.model, batch)
        self.optimizer.zero_grad(set_to_none=True)
        parts["loss"].backward()
        grad_norm = nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip) if self.cfg.grad_clip else torch.tensor(0.0)
        self.optimizer.step()
        row = {k: float(v.detach()) for k, v in parts.items()}
        row.update(step=step + 1, lr=lr, grad_norm=float(grad_norm))
        if not math.isfinite(row["loss"]):
            raise TrainingError(f"loss became {row['loss']} at step {step + 1}; lower --lr (or resume from the last checkpoint with a lower --lr)")
        return row

    def run_eval(self) -> dict[str, float]:
        assert self.eval_set is not None
        scores = evaluate(self.model, self.objective, self.eval_set, self.cfg.eval_batch_size, self.device)
        scores["step"] = self.state.step
        self.state.evals.append(scores)
        if self.rank == 0:
            with storage_errors(self.out_dir, "--out"):
                self.out_dir.mkdir(parents=True, exist_ok=True)
                with open(self.out_dir / "evals.jsonl", "a") as f:
                    f.write(json.dumps(scores) + "\n")
        return scores

    def fit(self) -> TrainState:
        """Train from the current step to ``cfg.steps``, evaluating and checkpointing as configured.

        Completed work is never lost: the final checkpoint is written before the final evaluation, and
        SIGINT/SIGTERM (or a file that cannot be read) stop after a checkpoint of the last completed step,
        with a message naming it and the command that continues the run.
        """
        t0 = time.perf_counter()
        with stop_requests() as stop:
            try:
                while self.state.step < self.cfg.steps:
                    self._one_step(t0)
                    if stop.requested:
                        raise Interrupted(self._stopped(f"{stop.signal_name}: stopped"))
                    self._checkpoint_and_eval()
            except KeyboardInterrupt:  # a second Ctrl-C, or one the handler could not catch
                raise Interrupted(self._stopped("interrupted", save=not self._in_step)) from None
            except DataError as exc:  # a file that cannot be read; raised before a step updates any weight
                raise DataError(f"{exc}; {self._stopped('training stopped')}") from None
        return self.state

    def _one_step(self, t0: float) -> None:
        self._in_step = True
        row = self.train_step(self.state.step)
        self.state.step += 1
        self._in_step = False
        row["seconds"] = time.perf_counter() - t0
        self.state.history.append(row)
        if self.on_step:
            self.on_step(self.state, row)

    def _checkpoint_and_eval(self) -> None:
        last = self.state.step == self.cfg.steps
        evaluate_now = self.eval_set is not None and (last or (self.cfg.eval_every and self.state.step % self.cfg.eval_every == 0))
        due = last or bool(self.cfg.checkpoint_every and self.state.step % self.cfg.checkpoint_every == 0)
        if due:
            self.save()  # before evaluating: an evaluation that fails cannot cost the steps done
        if evaluate_now:
            self.run_eval()  # a DataError here still saves the steps (fit's handler); others were saved just now
            if due:
                self.save()  # again, now holding the scores

    def _stopped(self, what: str, save: bool = True) -> str:
        """Save the last completed step (unless the weights may be mid-update) and say where and how to go on."""
        if save and self.state.step > self.saved_step:
            self.save()
        path = self.checkpoint_path()
        if self.saved_step == 0 or not path.exists():
            return f"{what} at step {self.state.step} of {self.cfg.steps}; no checkpoint was written yet"
        return (f"{what} at step {self.state.step} of {self.cfg.steps}; checkpoint of step {self.saved_step} saved at {path}; "
                f"continue with: {self.resume_command(path)}")
