"""Runtime chatter is hidden at both levels (native fd 2 and Python's sys.stderr) unless --verbose."""
from __future__ import annotations

import logging
import os
import sys

import pytest

from export_targets._quiet import QUIET_LOGGERS, quiet_library_loggers, runtime_output_hidden


def chatter() -> None:
    os.write(2, b"[cpuinfo_utils.cpp:71] Reading file /sys/devices/soc0/image_version\n")  # native
    print("[cpuinfo_utils.cpp:87] via pybind11's stream redirect", file=sys.stderr, flush=True)  # Python level


def test_hidden_by_default_and_kept_for_the_caller(capfd) -> None:
    with runtime_output_hidden() as log:
        chatter()
    assert capfd.readouterr().err == ""
    assert log.text.count("cpuinfo_utils.cpp") == 2


def test_verbose_shows_it(capfd) -> None:
    with runtime_output_hidden(hide=False):
        chatter()
    assert capfd.readouterr().err.count("cpuinfo_utils.cpp") == 2


def test_an_error_inside_still_restores_the_terminal(capfd) -> None:
    with pytest.raises(RuntimeError), runtime_output_hidden():
        raise RuntimeError("boom")
    print("visible", file=sys.stderr, flush=True)
    assert "visible" in capfd.readouterr().err


def test_library_loggers_are_raised_to_error() -> None:
    quiet_library_loggers()
    assert all(logging.getLogger(name).level == logging.ERROR for name in QUIET_LOGGERS)
