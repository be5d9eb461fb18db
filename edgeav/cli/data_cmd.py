"""`edgeav data`: make synthetic datasets on disk, draw samples of any dataset, and summarise it.

    edgeav data make synthetic-ms3 --out DIR --scenes 1000 --seed 0
    edgeav data check DIR             (every file readable, audio finite/in range/long enough, mask sizes)
    edgeav data show DIR              (or a spec such as synthetic-s4)
    edgeav data stats DIR --oracles
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

from edgeav.errors import DataError, UsageError
from edgeav.files import ensure_writable_dir

MANIFEST = "edgeav_dataset.json"  # what `data make` writes at the root of every dataset
SYNTHETIC_AV = ("synthetic-s4", "synthetic-ms3", "synthetic-avss")
SYNTHETIC_SALIENCY = ("synthetic-saliency", "synthetic-saliency-images")
COUNT_KEY = {"synthetic-saliency": "clips", "synthetic-saliency-images": "images"}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("data", help="make, show and summarise datasets", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    verbs = p.add_subparsers(dest="data_verb", metavar="VERB")
    verbs.required = True

    make = verbs.add_parser("make", help="write a synthetic dataset in its public layout")
    make.add_argument("spec", help=f"one of {', '.join(SYNTHETIC_AV + SYNTHETIC_SALIENCY)} (options after ':')")
    make.add_argument("--out", required=True, type=Path, help="output folder")
    make.add_argument("--scenes", type=int, default=1000, help="train scenes/clips/images (val and test get a fifth)")
    make.add_argument("--seed", type=int, default=0)
    make.add_argument("--split", choices=("all", "train", "val", "test"), default="all")
    make.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1), help="writer processes")
    make.add_argument("--overwrite", action="store_true", help="write into a non-empty --out (default: refuse)")
    make.set_defaults(func=run_make)

    check = verbs.add_parser("check", help="validate every file of a dataset folder (lists every problem)")
    check.add_argument("source", help="a dataset folder (AVSBench layout) or avsbench-KIND:PATH")
    check.add_argument("--split", choices=("all", "train", "val", "test"), default="all")
    check.add_argument("--quick", action="store_true", help="headers only (what opening a dataset checks)")
    check.set_defaults(func=run_check)

    show = verbs.add_parser("show", help="draw samples with their masks or saliency into a PNG grid")
    show.add_argument("source", help="a dataset folder or spec (see edgeav.data.registry)")
    show.add_argument("--out", type=Path, help="PNG path (default: SOURCE/preview.png, or ./SPEC.png)")
    show.add_argument("--count", type=int, default=4, help="samples (rows)")
    show.add_argument("--split", default="train")
    show.set_defaults(func=run_show)

    stats = verbs.add_parser("stats", help="summarise a dataset")
    stats.add_argument("source", help="a dataset folder or spec")
    stats.add_argument("--split", default="train")
    stats.add_argument("--limit", type=int, default=200, help="items to summarise (0 = all)")
    stats.add_argument("--oracles", action="store_true", help="also score the audio oracles (synthetic AVS only)")
    stats.add_argument("--oracle-scenes", type=int, default=200)
    stats.set_defaults(func=run_stats)


def _spec_with(spec: str, **options: object) -> str:
    scheme, _, rest = spec.partition(":")
    kept = [p for p in rest.split(",") if p and p.partition("=")[0] not in options]
    return scheme + ":" + ",".join(kept + [f"{k}={v}" for k, v in options.items()])


def run_make(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from edgeav.data.avsbench import write_avsbench
    from edgeav.data.registry import open_dataset
    from edgeav.data.saliency import write_av_saliency, write_saliency_images

    scheme = args.spec.partition(":")[0]
    if scheme not in SYNTHETIC_AV + SYNTHETIC_SALIENCY:
        raise UsageError(f"'data make' writes synthetic data; choose one of {', '.join(SYNTHETIC_AV + SYNTHETIC_SALIENCY)}")
    if args.scenes < 1:
        raise UsageError("--scenes must be at least 1")
    out = Path(args.out)
    if out.is_file() or (out.is_dir() and any(out.iterdir())):
        if not args.overwrite:
            raise UsageError(f"--out {out} is not empty; writing into it would mix two datasets; choose an empty "
                             "folder, or pass --overwrite to replace it")
        if not (out / MANIFEST).is_file():  # --overwrite deletes only what `data make` wrote
            raise UsageError(f"--out {out} is not empty and holds no {MANIFEST} (not a dataset `edgeav data make` "
                             "wrote); --overwrite will not delete it: choose an empty folder")
        shutil.rmtree(out)
    ensure_writable_dir(out, "--out")
    spec = _spec_with(args.spec, **{COUNT_KEY.get(scheme, "scenes"): args.scenes, "seed": args.seed})
    splits = ("train", "val", "test") if args.split == "all" else (args.split,)
    if scheme == "synthetic-saliency":
        splits = ("train",)  # one set of videos; the fold lists split it
    console = Console()
    start = time.perf_counter()
    columns = ("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        for split in splits:
            dataset = open_dataset(spec, split)
            task = progress.add_task(f"{scheme} {split}", total=len(dataset))
            advance = lambda n, t=task: progress.advance(t, n)
            if scheme in SYNTHETIC_AV:
                write_avsbench(dataset, args.out, split=split, workers=args.workers, on_progress=advance)
            elif scheme == "synthetic-saliency":
                write_av_saliency(dataset, args.out, on_progress=advance)
            else:
                write_saliency_images(dataset, args.out, split)
                progress.advance(task, len(dataset))
    console.print(f"wrote {args.out} in {time.perf_counter() - start:.1f} s  (read it back with: edgeav data show {args.out})")
    return 0


def run_check(args: argparse.Namespace) -> int:
    """Every problem of every split of a dataset folder, one line each; exit 2 when there is any."""
    from edgeav.data.avsbench import READERS, available_splits
    from edgeav.data.check import dataset_problems
    from edgeav.data.registry import detect_spec

    spec = args.source if ":" in args.source else detect_spec(args.source)
    scheme, _, root = spec.partition(":")
    kind = scheme.removeprefix("avsbench-")
    if kind not in READERS or not root:
        raise UsageError(f"'data check' reads AVSBench layouts (avsbench-s4|ms3|avss:PATH or their folder), not '{spec}'")
    splits = available_splits(root, kind) if args.split == "all" else [args.split]
    problems: list[str] = []
    for split in splits:
        reader = READERS[kind](root, split, check_files=False)  # list every problem, not the first
        found = dataset_problems(reader, full=not args.quick)
        print(f"{split}: {len(reader)} clips, {len(found)} problem{'' if len(found) == 1 else 's'}", file=sys.stderr)
        problems += found
    for line in problems:
        print(line)
    if problems:
        counted = f"{len(problems)} problem" + ("s" if len(problems) > 1 else "")
        raise DataError(f"{counted} in {root} (listed above, one per line), the first: {problems[0]}")
    print(f"{root}: every file of {', '.join(splits)} is readable and consistent", file=sys.stderr)
    return 0


def _default_preview_path(source: str) -> Path:
    if Path(source).is_dir():
        return Path(source) / "preview.png"
    return Path(source.partition(":")[0] + ".png")


def run_show(args: argparse.Namespace) -> int:
    from edgeav.data.preview import render_grid
    from edgeav.data.registry import open_dataset

    dataset = open_dataset(args.source, args.split)
    out = render_grid(dataset, args.out or _default_preview_path(args.source), count=args.count,
                      title=f"{args.source} ({args.split})")
    print(out)
    return 0


def _oracle_config(source: str):
    """The SceneConfig behind a synthetic spec, or behind a folder that ``data make`` wrote."""
    import json

    from edgeav.data.registry import open_dataset
    from edgeav.data.synthetic import SceneConfig

    scheme = source.partition(":")[0]
    if scheme in SYNTHETIC_AV:
        return open_dataset(source, "train").config
    manifest = Path(source) / "edgeav_dataset.json"
    if manifest.exists():
        subsets = json.loads(manifest.read_text()).get("subsets", {})
        for entry in subsets.values():
            if "config" in entry:
                cfg = {k: tuple(v) if isinstance(v, list) else v for k, v in entry["config"].items()}
                return SceneConfig(**cfg)
    raise UsageError("--oracles needs a synthetic AVS spec (synthetic-s4, ...) or a folder made by 'edgeav data make'")


def run_stats(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from edgeav.data.oracles import oracle_scores
    from edgeav.data.registry import open_dataset
    from edgeav.data.stats import dataset_stats

    console = Console()
    dataset = open_dataset(args.source, args.split)
    table = Table(title=f"{args.source} ({args.split})")
    table.add_column("statistic")
    table.add_column("value", justify="right")
    for key, value in dataset_stats(dataset, args.limit or None).items():
        table.add_row(key, f"{value:.2f}" if isinstance(value, float) else str(value))
    console.print(table)
    if args.oracles:
        config = _oracle_config(args.source)
        scores = oracle_scores(config.kind, args.oracle_scenes, seed=0, config=config)
        oracle_table = Table(title=f"oracles on {args.oracle_scenes} {config.kind} scenes (seed 0)")
        for col in ("oracle predicts", "mIoU", "F-score"):
            oracle_table.add_column(col, justify="left" if col == "oracle predicts" else "right")
        for name, s in scores.items():
            oracle_table.add_row(name, f"{100 * s['miou']:.1f}", f"{100 * s['fscore']:.1f}")
        console.print(oracle_table)
    return 0
