"""Stand-in lowering workers for `--jobs 2` tests: they run in spawned processes, so they live in a module the
workers can import (a test's monkeypatched function would not cross the process boundary).

``EDGEAV_TEST_PIDS`` names a folder where each worker writes ``<format>.pid`` when it has started.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from edgeav.errors import ExportError


def fail_once_the_other_runs(format_name: str, *args) -> None:
    """``litert`` fails as soon as the other format's worker is lowering; the other lowers 'forever'."""
    pids = Path(os.environ["EDGEAV_TEST_PIDS"])
    dest: Path = args[-1]
    if format_name != "litert":
        dest.write_bytes(b"half an artifact")
        (pids / f"{format_name}.pid").write_text(str(os.getpid()))
        time.sleep(30)
        (pids / f"{format_name}.finished").write_text("")  # only if nobody stopped it
    for _ in range(1200):
        if any(pids.glob("*.pid")):
            break
        time.sleep(0.05)
    raise ExportError("litert lowering failed (stand-in); fix: none")


def lower_until_stopped(format_name: str, *args) -> None:
    """Every format lowers 'forever' (until its worker is stopped), half an artifact written."""
    pids = Path(os.environ["EDGEAV_TEST_PIDS"])
    args[-1].write_bytes(b"half an artifact")
    (pids / f"{format_name}.pid").write_text(str(os.getpid()))
    time.sleep(30)
    (pids / f"{format_name}.finished").write_text("")
