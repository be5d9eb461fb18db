"""Run the tries, classify what the user saw, write ``sweep.json`` and print the table.

A try's verdict: ``traceback`` when a Python traceback reaches the user; else the try's own check (lost /
silent / misleading); else, by ``expect``: ``clear`` for one `edgeav: error:` line naming the subject,
``handled`` for success (with a warning naming the subject where one is due).

    python -m bench.studies.bad_inputs --out runs/bad-inputs [--only NAME,...]
"""
from __future__ import annotations

import argparse
import json
import tempfile
from collections import Counter
from pathlib import Path

from bench.studies.bad_inputs.table import TRIES
from bench.studies.bad_inputs.tries import Try
from bench.studies.bad_inputs.workspace import Outcome, Workspace, edgeav

DEFECTS = ("lost", "traceback", "silent", "misleading")


def classify(t: Try, subject: str, out: Outcome, problem: str) -> tuple[str, str]:
    """(verdict, why) for one try's outcome; ``problem`` is its check's finding ("" when none)."""
    if "Traceback (most recent call last)" in out.text:
        return "traceback", out.stderr.strip().splitlines()[-1][:200]
    if problem:
        verdict, _, why = problem.partition(": ")
        return verdict, why
    # "edgeav: error: ..." or, for an interrupt, "edgeav: SIGINT: ... saved at ...; continue with: ..."
    errors = [line for line in out.stderr.splitlines()
              if line.startswith("edgeav: ") and not line.startswith("edgeav: warning")]
    wanted = [s for s in (subject, *t.mentions) if s]
    if out.code == 0:
        if t.expect == "error":
            return "silent", "exit 0 where an error was due"
        if t.expect == "either" and subject and subject not in out.text:
            return "silent", f"succeeded without naming {subject}"
        return "handled", ""
    if len(errors) != 1:
        last = (out.stderr.strip().splitlines() or ["(no output)"])[-1]
        return "misleading", f"exit {out.code} without one error line: {last[:200]}"
    if t.expect == "ok":
        return "misleading", errors[0][:200]
    missing = [s for s in wanted if s.lower() not in errors[0].lower()]
    if missing:
        return "misleading", f"does not name {', '.join(missing)}: {errors[0][:200]}"
    return "clear", errors[0].split(": ", 1)[1][:200]


def run_try(ws: Workspace, t: Try) -> dict:
    d = ws.fresh(t.name)
    command = t.prepare(ws, d)
    out = edgeav(command.argv, ws.root, send=command.send)
    problem = t.check(ws, d, out) if t.check else ""
    verdict, why = classify(t, command.subject, out, problem)
    return {"name": t.name, "area": t.area, "expect": t.expect, "verdict": verdict, "why": why,
            "exit": out.code, "seconds": round(out.seconds, 1), "argv": [str(a) for a in command.argv]}


def sweep(root: Path, only: set[str] | None = None, log=print) -> dict:
    ws = Workspace(root)
    ws.build(log)
    rows = []
    for t in TRIES:
        if only and t.name not in only:
            continue
        row = run_try(ws, t)
        log(f"{row['verdict']:>10}  {t.name:<38} {row['seconds']:6.1f} s  {row['why']}")
        rows.append(row)
    counts = Counter(r["verdict"] for r in rows)
    return {"tries": len(rows), "counts": dict(counts), "defects": sum(counts[d] for d in DEFECTS), "rows": rows}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=None, help="workspace + sweep.json (default: a temp folder)")
    p.add_argument("--only", default="", help="comma-separated try names")
    args = p.parse_args(argv)
    root = args.out or Path(tempfile.mkdtemp(prefix="edgeav-sweep-"))
    root.mkdir(parents=True, exist_ok=True)
    result = sweep(root.resolve(), set(filter(None, args.only.split(","))) or None)
    (root / "sweep.json").write_text(json.dumps(result, indent=1))
    print(f"{result['tries']} tries: " + ", ".join(f"{v} {k}" for k, v in sorted(result["counts"].items()))
          + f"; defects {result['defects']}  ({root / 'sweep.json'})")
    return 0 if result["defects"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
