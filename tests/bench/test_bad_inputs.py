"""The bad-input sweep (bench/studies/bad_inputs): its table, its verdicts, and a few tries run for real."""
from __future__ import annotations

import pytest

from bench.studies.bad_inputs.sweep import classify, sweep
from bench.studies.bad_inputs.table import TRIES
from bench.studies.bad_inputs.tries import Try
from bench.studies.bad_inputs.workspace import Outcome


def _try(expect: str, mentions: tuple[str, ...] = ()) -> Try:
    return Try("t", "data", expect, lambda ws, d: None, mentions)


def _out(code: int, stderr: str = "", stdout: str = "") -> Outcome:
    return Outcome(code, stdout, stderr, 0.1)


def test_the_table_holds_the_46_tries_with_unique_names() -> None:
    assert len(TRIES) == 46 and len({t.name for t in TRIES}) == 46
    assert {t.expect for t in TRIES} <= {"error", "ok", "either"}


@pytest.mark.parametrize(("expect", "outcome", "problem", "verdict"), [
    ("error", _out(2, "edgeav: error: a.png is truncated; re-write it"), "", "clear"),
    ("error", _out(2, "edgeav: error: something is wrong"), "", "misleading"),  # does not name a.png
    ("error", _out(1, "Traceback (most recent call last):\n  ...\nOSError: image file is truncated"), "", "traceback"),
    ("error", _out(0, "", "done"), "", "silent"),
    ("error", _out(2, "edgeav: error: a.png is truncated"), "lost: no checkpoint", "lost"),
    ("either", _out(0, "warning: 1 sample skipped (a.png unreadable)"), "", "handled"),
    ("either", _out(0, "", "scores"), "", "silent"),  # succeeded without a word about a.png
    ("ok", _out(0, "", "mIoU 20"), "", "handled"),
    ("error", _out(130, "edgeav: SIGINT: stopped after step 2; a.png saved; continue with --resume"), "", "clear"),
    ("ok", _out(2, "edgeav: error: a.png is truncated"), "", "misleading"),
])
def test_verdicts(expect: str, outcome: Outcome, problem: str, verdict: str) -> None:
    assert classify(_try(expect), "a.png", outcome, problem)[0] == verdict


@pytest.mark.slow
def test_data_tries_end_in_clear_errors(tmp_path) -> None:
    """Five tries for real: a dataset written to disk, corrupted, checked and trained on (about a minute)."""
    only = {"check-png-truncated", "check-wav-nan", "mask-wrong-size", "data-make-onto-dataset", "unknown-data-spec"}
    result = sweep(tmp_path, only, log=lambda line: None)
    assert result["tries"] == 5
    assert result["defects"] == 0, [(r["name"], r["verdict"], r["why"]) for r in result["rows"] if r["verdict"] != "clear"]
