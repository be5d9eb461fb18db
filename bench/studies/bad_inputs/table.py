"""The table of tries (46), grouped as the issue found them: lost work, silent results, tracebacks and
messages, and inputs that must simply work."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch

from bench.studies.bad_inputs import workspace as w
from bench.studies.bad_inputs.tries import (
    Command, Try, cut, delete, evaluate, float_wav, keeps_checkpoint, names_existing_checkpoint, nan_wav, no_file,
    resume, run_untouched, scaled, sha, stereo_44k, test_frame, test_wav, train, train_frame, train_mask, train_wav,
    val_frame, val_wav, check_data,
)
from bench.studies.bad_inputs.workspace import SMALL, TRAIN_FAST, Outcome, Workspace


def _interrupt(sig) -> callable:
    def prepare(ws: Workspace, d: Path) -> Command:
        run = d / "run"
        argv = ["train", *SMALL, "--data", ws.spec(ws.base), "--steps", "400", "--batch-size", "2", "--out", run]
        return Command(argv, "--resume", send=(sig, w.wait_for(run / "train_log.jsonl", w.has_rows)))
    return prepare


def _out_exists(ws: Workspace, d: Path) -> Command:
    run = ws.run_copy(d)
    return Command(["train", *SMALL, "--data", ws.spec(ws.base), *TRAIN_FAST, "--out", run], "--resume")


def _make_onto_existing(ws: Workspace, d: Path) -> Command:
    root = ws.data_copy(d)
    return Command(["data", "make", "synthetic-ms3", "--out", root, "--scenes", "3", "--seed", "1"], "--overwrite")


def _index_untouched(ws: Workspace, d: Path, out: Outcome) -> str:
    csv = "Multi-sources/ms3_meta_data.csv"
    return "" if sha(d / "data" / csv) == sha(ws.base / csv) else "lost: the dataset's index was rewritten"


def _two_exports(ws: Workspace, d: Path) -> Command:
    """Two exports into one --out at once (the second through the sweep's runner, the first in the background)."""
    import subprocess
    import sys

    argv = ["export", *SMALL, "--checkpoint", ws.checkpoint, "--target", "onnx", "--samples", "1", "--out", d / "dist"]
    _BACKGROUND[d] = subprocess.Popen([sys.executable, "-m", "edgeav.cli.main", *map(str, argv)], cwd=ws.root,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return Command(argv, "")


_BACKGROUND: dict[Path, "subprocess.Popen"] = {}  # the first export of a two-exports try, reaped by its check


def _pair_consistent(ws: Workspace, d: Path, out: Outcome) -> str:
    _BACKGROUND.pop(d).wait(timeout=3600)  # let the background export finish (and reap it)
    for artifact in (d / "dist").glob("*.onnx"):
        manifest = json.loads((d / "dist" / f"{artifact.name}.json").read_text())
        if manifest["sha256"] != sha(artifact):
            return "lost: the artifact and its manifest come from different exports"
    return "" if list((d / "dist").glob("*.onnx")) else "lost: no artifact published"


def _sigterm_export(ws: Workspace, d: Path) -> Command:
    out = d / "dist"
    argv = ["export", *SMALL, "--checkpoint", ws.checkpoint, "--target", "executorch", "--samples", "1", "--out", out]
    return Command(argv, "", send=(w.SIGTERM, lambda: any(out.glob(".edgeav-staging-*"))))


def _no_staging_left(ws: Workspace, d: Path, out: Outcome) -> str:
    left = list((d / "dist").glob(".edgeav-staging-*")) if (d / "dist").exists() else []
    half = [p for p in (d / "dist").glob("*.pte")] if (d / "dist").exists() else []
    if left:
        return f"lost: a staging folder is left behind ({left[0].name})"
    return "lost: a .pte without its manifest" if half and not Path(f"{half[0]}.json").exists() else ""


def _beside(suffix: str, manifest_of: str) -> callable:
    """A copy of the ``suffix`` artifact with another artifact's (or an edited) manifest beside it."""
    def prepare(ws: Workspace, d: Path) -> Command:
        src = ws.artifact(suffix)
        dst = d / src.name
        shutil.copy(src, dst)
        manifest = json.loads(Path(f"{ws.artifact(manifest_of)}.json").read_text())
        if manifest_of == suffix:  # stale: the same artifact exported at another input size
            manifest["io"]["inputs"][0]["shape"] = [1, 3, 128, 128]
        Path(f"{dst}.json").write_text(json.dumps(manifest))
        return Command(["bench", dst, "--runs", "2", "--warmup", "0", "--out", d / "bench"], dst.name)
    return prepare


def _corrupt_artifact(suffix: str, verb: str = "bench") -> callable:
    def prepare(ws: Workspace, d: Path) -> Command:
        src = ws.artifact(suffix)
        dst = d / src.name
        shutil.copy(Path(f"{src}.json"), Path(f"{dst}.json"))
        if src.is_dir():  # .mlpackage: a folder; break its model spec
            shutil.copytree(src, dst)
            spec = next(dst.rglob("*.mlmodel"))
            w.random_bytes(spec, 512)
        else:
            w.random_bytes(dst, max(4096, src.stat().st_size // 8))
        argv = ["bench", dst, "--runs", "2", "--warmup", "0", "--out", d / "bench"] if verb == "bench" else \
            ["eval", "--artifact", dst, "--data", ws.spec(ws.base)]
        return Command(argv, dst.name)
    return prepare


def _bench_keeps_results(ws: Workspace, d: Path) -> Command:
    good = ws.artifact(".onnx")
    bad = w.random_bytes(d / "broken.pte")
    shutil.copy(Path(f"{ws.artifact('.pte')}.json"), d / "broken.pte.json")
    return Command(["bench", good, bad, "--runs", "2", "--warmup", "0", "--out", d / "bench"], "broken.pte")


def _bench_json_has_both(ws: Workspace, d: Path, out: Outcome) -> str:
    path = d / "bench" / "bench.json"
    if not path.exists():
        return "lost: no bench.json for the artifact that ran"
    text = path.read_text()
    return "" if "broken.pte" in text and ws.artifact(".onnx").name in text else "lost: bench.json misses one artifact"


def _checkpoint_file(make) -> callable:
    def prepare(ws: Workspace, d: Path) -> Command:
        path = make(ws, d / "weights.pt")
        return Command(["eval", *SMALL, "--checkpoint", path, "--data", ws.spec(ws.base)], path.name)
    return prepare


def _other_model_state(ws: Workspace, path: Path) -> Path:
    from edgeav.registry import load_model

    torch.save(load_model("avesformer-r18", "small").model.state_dict(), path)
    return path


def _truncated_checkpoint(ws: Workspace, path: Path) -> Path:
    shutil.copy(ws.checkpoint, path)
    return w.truncate(path, 0.4)


def _nan_checkpoint(ws: Workspace, d: Path) -> Command:
    state = torch.load(ws.checkpoint, weights_only=False)
    weights = state["model"] if "model" in state else state
    next(v for k, v in weights.items() if k.endswith("weight") and v.dim() == 4).fill_(float("nan"))
    torch.save(weights, d / "nan.pt")
    return Command(["export", *SMALL, "--checkpoint", d / "nan.pt", "--target", "onnx", "--samples", "1",
                    "--out", d / "dist"], "NaN")


def _simple(argv_of, subject: str = "") -> callable:
    return lambda ws, d: Command(argv_of(ws, d), subject)


def _readable_wav(edit) -> callable:
    def prepare(ws: Workspace, d: Path) -> Command:
        root = ws.data_copy(d)
        for split in ("train", "val", "test"):
            w.rewrite_wav(w.wav(root, split), edit)
        return Command(["eval", *SMALL, "--checkpoint", ws.checkpoint, "--data", ws.spec(root)], "")
    return prepare


def _printed_paths_exist(ws: Workspace, d: Path, out: Outcome) -> str:
    import re

    paths = [Path(m) for m in re.findall(r"(/\S+\.pt)\b", out.text)]
    missing = [p for p in paths if not p.exists()]
    return f"misleading: it names {missing[0]}, which does not exist" if missing else ""


def _scores_ok(ws: Workspace, d: Path, out: Outcome) -> str:
    return "" if out.code == 0 and "mIoU" in out.stdout else "silent: no scores printed"


SAL = "synthetic-saliency:clips=2"
AVSS = "synthetic-avss:scenes=3,image_size=64"
MS3 = "synthetic-ms3:scenes=5,image_size=64"

TRIES: tuple[Try, ...] = (
    # ---- lost work
    Try("val-png-truncated", "training", "either", train(val_frame, w.truncate), check=keeps_checkpoint),
    Try("val-wav-deleted", "training", "either", train(val_wav, delete), check=keeps_checkpoint),
    Try("train-png-truncated", "training", "error", train(train_frame, w.truncate)),
    Try("train-into-existing-run", "training", "error", _out_exists, ("--overwrite",), check=run_untouched),
    Try("train-sigint", "training", "error", _interrupt(w.SIGINT), check=names_existing_checkpoint),
    Try("train-sigterm", "training", "error", _interrupt(w.SIGTERM), check=names_existing_checkpoint),
    Try("data-make-onto-dataset", "data", "error", _make_onto_existing, check=_index_untouched),
    Try("two-exports-one-out", "export", "either", _two_exports, check=_pair_consistent),
    Try("export-sigterm", "export", "error", _sigterm_export, check=_no_staging_left),
    # ---- silent results
    Try("manifest-of-another-artifact", "artifact", "error", _beside(".pte", ".tflite")),
    Try("stale-manifest", "artifact", "error", _beside(".onnx", ".onnx")),
    Try("bench-one-artifact-fails", "artifact", "error", _bench_keeps_results, check=_bench_json_has_both),
    Try("audio-x1000", "data", "error", check_data(train_wav, lambda p: w.rewrite_wav(p, scaled(1000.0)))),
    Try("wav-cut-to-0.3s", "data", "error", check_data(train_wav, lambda p: w.rewrite_wav(p, cut(0.3)))),
    Try("mask-wrong-size", "data", "error", check_data(train_mask, lambda p: w.resize_png(p, (100, 80)))),
    Try("resume-other-data", "training", "error", resume("--data", MS3, subject="--data")),
    Try("resume-other-lr", "training", "error", resume("--lr", "0.01", subject="lr")),
    Try("resume-other-batch-size", "training", "error", resume("--batch-size", "4", subject="batch")),
    Try("resume-finished-run", "training", "either", resume(subject=""), check=_printed_paths_exist),
    Try("quantize-binary-on-avss", "quantize", "error",
        _simple(lambda ws, d: ["quantize", *SMALL, "--checkpoint", ws.checkpoint, "--data", AVSS, "--method", "ptq",
                               "--calibration-batches", "1", "--out", d / "q"], "semantic"), check=no_file("quantized.pt")),
    # ---- tracebacks and wrong messages
    Try("eval-png-truncated", "data", "either", evaluate(test_frame, w.truncate)),
    Try("eval-wav-deleted", "data", "either", evaluate(test_wav, delete)),
    Try("check-png-truncated", "data", "error", check_data(train_frame, w.truncate)),
    Try("check-wav-nan", "data", "error", check_data(train_wav, lambda p: w.rewrite_wav(p, nan_wav))),
    Try("check-wav-random-bytes", "data", "error", check_data(train_wav, w.random_bytes)),
    Try("check-wav-deleted", "data", "error", check_data(train_wav, delete)),
    Try("train-on-saliency-data", "training", "error",
        _simple(lambda ws, d: ["train", *SMALL, "--data", SAL, *TRAIN_FAST, "--out", d / "run"], "saliency")),
    Try("eval-on-saliency-data", "training", "error",
        _simple(lambda ws, d: ["eval", *SMALL, "--checkpoint", ws.checkpoint, "--data", SAL], "saliency")),
    Try("quantize-on-saliency-data", "quantize", "error",
        _simple(lambda ws, d: ["quantize", *SMALL, "--checkpoint", ws.checkpoint, "--data", SAL, "--method", "ptq",
                               "--out", d / "q"], "saliency")),
    Try("saliency-model-on-segmentation-data", "training", "error",
        _simple(lambda ws, d: ["train", "--model", "dtfsal-s", "--config", "small", "--data", MS3, *TRAIN_FAST,
                               "--out", d / "run"], "segmentation")),
    Try("resume-across-configs", "training", "error", resume("--config", "paper", subject="config")),
    Try("out-not-writable", "training", "error",
        _simple(lambda ws, d: ["train", *SMALL, "--data", MS3, *TRAIN_FAST, "--out", "/proc/edgeav-run"], "/proc/edgeav-run")),
    Try("checkpoint-random-bytes", "checkpoint", "error", _checkpoint_file(lambda ws, p: w.random_bytes(p))),
    Try("checkpoint-truncated", "checkpoint", "error", _checkpoint_file(_truncated_checkpoint)),
    Try("checkpoint-of-another-model", "checkpoint", "error", _checkpoint_file(_other_model_state)),
    Try("disk-full", "data", "error",
        _simple(lambda ws, d: ["eval", *SMALL, "--checkpoint", ws.checkpoint, "--data", MS3, "--json", "/dev/full"],
                "/dev/full")),
    Try("pte-corrupt", "artifact", "error", _corrupt_artifact(".pte")),
    Try("tflite-corrupt", "artifact", "error", _corrupt_artifact(".tflite")),
    Try("onnx-corrupt", "artifact", "error", _corrupt_artifact(".onnx")),
    Try("mlpackage-corrupt", "artifact", "error", _corrupt_artifact(".mlpackage", verb="eval")),
    Try("qat-checkpoint-is-a-plain-checkpoint", "quantize", "error",
        _simple(lambda ws, d: ["export", *SMALL, "--checkpoint", ws.checkpoint, "--precision", "int8", "--qat-checkpoint",
                               ws.checkpoint, "--target", "executorch", "--out", d / "dist"], "--qat-checkpoint")),
    Try("shuffle-audio-one-clip", "training", "error",
        _simple(lambda ws, d: ["eval", *SMALL, "--checkpoint", ws.checkpoint, "--data", ws.spec(ws.base),
                               "--shuffle-audio"], "clip")),
    Try("nan-weights-export", "export", "error", _nan_checkpoint),
    Try("unknown-data-spec", "data", "error",
        _simple(lambda ws, d: ["eval", *SMALL, "--checkpoint", ws.checkpoint, "--data", "nosuch:x"], "nosuch")),
    # ---- must simply work
    Try("wav-44k-stereo-int16", "data", "ok", _readable_wav(stereo_44k), check=_scores_ok),
    Try("wav-float32", "data", "ok", _readable_wav(float_wav), check=_scores_ok),
)
