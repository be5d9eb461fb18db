"""Keep converters' and runtimes' chatter (absl logs, progress bars, MLIR dumps, library warnings) off the terminal."""
from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
from collections.abc import Iterator

# Library warnings that say nothing to an edgeav user, raised to ERROR before anything imports them:
# torchao tries to load its CUDA-only kernels (mxfp8, cutlass) on import and logs each failure on a CPU
# machine; torch's pytree logs a deprecation for torchao's own Enum registration.
QUIET_LOGGERS = ("torchao", "torch.utils._pytree")


def quiet_library_loggers() -> None:
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)


class CapturedOutput:
    """The text written to stdout/stderr (Python and native) inside :func:`captured_output`."""

    def __init__(self) -> None:
        self.text = ""


@contextlib.contextmanager
def captured_output() -> Iterator[CapturedOutput]:
    """Redirect file descriptors 1 and 2 to a temporary file for the duration of the block."""
    captured = CapturedOutput()
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with tempfile.TemporaryFile(mode="w+b") as sink:
        try:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            # Python-level writers (tqdm, print) may hold a replaced sys.stdout; point them at fd 1/2 too.
            out = open(1, "w", closefd=False)  # noqa: SIM115 - closed below
            err = open(2, "w", closefd=False)  # noqa: SIM115
            try:
                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                    yield captured
            finally:
                out.flush()
                err.flush()
                out.close()
                err.close()
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            sink.seek(0)
            captured.text = sink.read().decode("utf-8", errors="replace")



def runtime_output_hidden(hide: bool = True) -> contextlib.AbstractContextManager[CapturedOutput]:
    """:func:`captured_output` unless ``hide`` is False (``--verbose``): runtimes log from native code and through
    pybind11's stream redirect into ``sys.stderr`` (ExecuTorch's ``[cpuinfo_utils.cpp:71] Reading file ...`` lines
    on every load), so both levels are captured. A console that must keep drawing writes to a dup of fd 2."""
    return captured_output() if hide else contextlib.nullcontext(CapturedOutput())
