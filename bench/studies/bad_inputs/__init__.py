"""The bad-input sweep of issue 20: 46 ways a user's data, checkpoints, artifacts and commands go wrong.

Each try corrupts a copy of a small workspace (a built-in dataset written to disk, a trained checkpoint,
exported artifacts), runs the real `edgeav` command in a fresh process, and is classified by what the user
would see: ``clear`` (a one-line error naming the problem), ``handled`` (the right result, with a warning
where one is due), or a defect: ``lost`` (completed work gone or overwritten), ``traceback``, ``silent``
(a wrong result or a missing warning), ``misleading`` (an error that names the wrong thing).

    python -m bench.studies.bad_inputs --out runs/bad-inputs [--only NAME,...]
"""


def main(argv: list[str] | None = None) -> int:
    from bench.studies.bad_inputs.sweep import main as sweep_main

    return sweep_main(argv)
