"""The CLI's stderr console that keeps drawing while runtimes' and converters' output is captured."""
from __future__ import annotations

import os
import sys

from rich.console import Console


def live_console() -> Console:
    """A stderr console that keeps drawing while converters' output is redirected away from fd 2.

    On a terminal it writes to a duplicate of fd 2, which the capture does not touch. soft_wrap: a status
    line stays one line in a log file (rich would otherwise fold it at 80 columns).
    """
    try:
        if sys.stderr.isatty():
            return Console(file=os.fdopen(os.dup(sys.stderr.fileno()), "w"), stderr=True, soft_wrap=True)
    except (AttributeError, OSError, ValueError):
        pass
    return Console(stderr=True, soft_wrap=True)
