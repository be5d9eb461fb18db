"""Entry point of the `edgeav` command.

Each verb lives in its own module exposing ``add_parser(subparsers)`` which registers the sub-command and
sets ``func`` on it. Errors from the EdgeAVError hierarchy are printed as one line, exit code 2.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from edgeav.errors import EdgeAVError
from export_targets._quiet import quiet_library_loggers

# Verb modules, in the order `edgeav --help` lists them.
VERB_MODULES = (
    "edgeav.cli.models_cmd",
    "edgeav.cli.export_cmd",
    "edgeav.cli.train_cmd",
    "edgeav.cli.distill_cmd",
    "edgeav.cli.quantize_cmd",
    "edgeav.cli.data_cmd",
    "edgeav.cli.bench_cmd",
    "edgeav.cli.app_cmd",
    "edgeav.cli.device_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="edgeav",
        description="Audio-visual segmentation and saliency models from a PyTorch checkpoint to a phone.",
    )
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    sub.required = True
    for name in VERB_MODULES:
        importlib.import_module(name).add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    quiet_library_loggers()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except EdgeAVError as exc:
        print(f"edgeav: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("edgeav: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
