"""Where the ARM device lives on disk: one cache folder, the same layout for setup and for use.

``$EDGEAV_ARM_HOME`` if set, else ``$XDG_CACHE_HOME/edgeav/arm``, else ``~/.cache/edgeav/arm``. Nothing in
it is part of the repository; deleting it and re-running ``edgeav device setup arm`` rebuilds it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

GUEST_PYTHON = "usr/bin/python3.11"  # Debian bookworm's python3: the cp311 wheels fit it
QEMU = "/usr/bin/qemu-aarch64"  # the dynamic build: only it takes -plugin (qemu-user-static does not)


def arm_home() -> Path:
    """The ARM device's cache folder (see the module docstring for the order of precedence)."""
    if os.environ.get("EDGEAV_ARM_HOME"):
        return Path(os.environ["EDGEAV_ARM_HOME"]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache).expanduser() / "edgeav" / "arm"


@dataclass(frozen=True)
class ArmLayout:
    """The paths inside one ARM home folder."""

    home: Path

    @property
    def stamps(self) -> Path:
        return self.home / "stamps"

    @property
    def downloads(self) -> Path:
        return self.home / "downloads"

    @property
    def sysroot(self) -> Path:
        return self.home / "sysroot"

    def view(self, cpu: str) -> Path:
        """The ``-L`` prefix for one CPU model: the sysroot's folders (symlinked) plus its own /proc, /sys."""
        return self.home / "views" / cpu

    @property
    def site(self) -> Path:
        """The aarch64 wheels (numpy, ai-edge-litert, onnxruntime), installed from the x86 side."""
        return self.home / "site"

    @property
    def et_sdk(self) -> Path:
        """The aarch64 executorch wheel unpacked: its C++ SDK (include/, lib/) for the runner."""
        return self.home / "et-sdk" / "executorch"

    @property
    def qemu_source(self) -> Path:
        """The parts of Debian's qemu source the plugin builds against (fetched at setup, never committed)."""
        return self.home / "qemu-src"

    @property
    def plugin(self) -> Path:
        return self.home / "plugins" / "libedgeav_insns.so"

    @property
    def runner_build(self) -> Path:
        return self.home / "runner"

    @property
    def runner(self) -> Path:
        return self.runner_build / "edgeav_et_runner"

    @property
    def manifest(self) -> Path:
        """Written last by setup: versions and paths; its presence means the device is ready."""
        return self.home / "toolchain.json"
