"""What the rest of edgeav uses of the ARM device: paths and command lines, read from a finished setup.

``toolchain(cpu)`` returns a frozen :class:`ArmToolchain`; it raises DeviceError naming
``edgeav device setup arm`` when the cache folder is not (completely) set up. Every command line it builds
runs a guest program the same way each time, so instruction counts repeat exactly: a pinned ``-cpu``
model, that model's fake ``/proc/cpuinfo`` (via the ``-L`` prefix), one core, ``PYTHONHASHSEED=0``, and a
minimal environment that does not leak the host's (``LD_LIBRARY_PATH``, ``OMP_NUM_THREADS`` ...).

The counting plugin (plugin/edgeav_insns.c) writes to qemu's ``-D`` log, one fact per line:
``marker <N> insns <total> delta <d>`` when the guest calls ``close(0x7e00+N)`` (N < 16), and
``region <depth> insns <d>`` when it pops a region (``close(0x7e10)`` pushes, ``close(0x7e11)`` pops), and
``total insns <n>`` at exit. The runner does those closes when given ``--markers``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.devices.arm.cpus import DEFAULT_CPU, arm_cpu
from bench.devices.arm.layout import ArmLayout, arm_home
from edgeav.errors import DeviceError

SETUP_HINT = "run `edgeav device setup arm`"
MARKER_FD = 0x7E00  # close(MARKER_FD + n): marker n; +0x10 push region, +0x11 pop region
GUEST_PATH = "/usr/local/bin:/usr/bin:/bin"


@dataclass(frozen=True)
class ArmToolchain:
    """One set-up ARM device for one CPU model. Paths are host paths; qemu maps the guest's view."""

    cpu: str
    home: Path
    qemu: Path  # dynamic qemu-aarch64 (takes -plugin)
    qemu_version: str
    sysroot: Path  # Debian bookworm arm64 userland
    prefix: Path  # the -L folder for this cpu: sysroot + fake /proc/cpuinfo, /sys cpu lists
    python: Path  # the sysroot's python3.11 (host path)
    site: Path  # PYTHONPATH: aarch64 numpy, ai-edge-litert, onnxruntime
    runner: Path  # edgeav_et_runner cross-built for aarch64 (RPATH -> runner_lib)
    runner_lib: Path  # the aarch64 executorch wheel's lib/ (libexecutorch*.so)
    plugin: Path  # libedgeav_insns.so, the instruction-counting TCG plugin
    wheels: tuple[tuple[str, str], ...]  # (distribution, version) installed in site, plus executorch

    @property
    def cpuinfo(self) -> Path:
        return self.prefix / "proc" / "cpuinfo"

    def qemu_argv(self, plugin_log: Path | None = None) -> list[str]:
        """qemu-aarch64 and its options; with ``plugin_log`` the counting plugin writes there."""
        argv = [str(self.qemu), "-cpu", self.cpu, "-L", str(self.prefix)]
        if plugin_log is not None:
            argv += ["-plugin", str(self.plugin), "-d", "plugin", "-D", str(plugin_log)]
        return argv

    def command(self, program: Path | str, *args: str, plugin_log: Path | None = None) -> list[str]:
        """Run an aarch64 ``program`` (host path) under qemu."""
        return [*self.qemu_argv(plugin_log), str(program), *map(str, args)]

    def python_command(self, *args: str, plugin_log: Path | None = None) -> list[str]:
        """The guest Python: ``-s`` (no user site), ``-B`` (no .pyc writes: the cache stays as setup left it)."""
        return self.command(self.python, "-s", "-B", *args, plugin_log=plugin_log)

    def runner_command(self, *args: str, plugin_log: Path | None = None) -> list[str]:
        """The ExecuTorch runner (bench/devices/et_runner/edgeav_et_runner.cpp's arguments)."""
        return self.command(self.runner, *args, plugin_log=plugin_log)

    def env(self, **extra: str) -> dict[str, str]:
        """The whole environment for a guest command (pass as ``env=``; nothing of the host's leaks in)."""
        env = {"PATH": GUEST_PATH, "LC_ALL": "C", "HOME": str(self.home), "PYTHONHASHSEED": "0",
               "PYTHONPATH": str(self.site), "PYTHONNOUSERSITE": "1", "OMP_NUM_THREADS": "1"}
        env.update(extra)
        return env

    def missing(self) -> str | None:
        """Why this toolchain cannot run now (a file setup made is gone), or None."""
        for what, path in (("qemu-aarch64", self.qemu), ("the guest python", self.python),
                           ("the fake cpuinfo", self.cpuinfo), ("the wheels", self.site),
                           ("the ARM runner", self.runner), ("the counting plugin", self.plugin)):
            if not path.exists():
                return f"ARM device: {what} is missing ({path}); {SETUP_HINT}"
        return None

    def describe(self) -> dict[str, Any]:
        """What ``edgeav device info arm`` prints."""
        return {"cpu": self.cpu, "cpu_note": arm_cpu(self.cpu).note, "qemu": str(self.qemu),
                "qemu_version": self.qemu_version, "sysroot": str(self.sysroot), "prefix": str(self.prefix),
                "python": str(self.python), "wheels": dict(self.wheels), "runner": str(self.runner),
                "plugin": str(self.plugin), "home": str(self.home)}


def read_manifest(layout: ArmLayout) -> dict[str, Any]:
    """The manifest setup wrote last; DeviceError naming the setup command if there is none."""
    try:
        return json.loads(layout.manifest.read_text())
    except FileNotFoundError:
        raise DeviceError(f"the ARM device is not set up (no {layout.manifest}); {SETUP_HINT}") from None
    except (OSError, ValueError) as exc:
        raise DeviceError(f"cannot read {layout.manifest} ({exc}); {SETUP_HINT} again") from None


def toolchain(cpu: str = DEFAULT_CPU, home: Path | None = None) -> ArmToolchain:
    """The set-up ARM device for ``cpu`` (a qemu model, see cpus.py); DeviceError if not set up."""
    arm_cpu(cpu)
    layout = ArmLayout(Path(home) if home else arm_home())
    m = read_manifest(layout)
    tc = ArmToolchain(
        cpu=cpu, home=layout.home, qemu=Path(m["qemu"]), qemu_version=m["qemu_version"],
        sysroot=layout.sysroot, prefix=layout.view(cpu), python=layout.sysroot / m["python"],
        site=layout.site, runner=layout.runner, runner_lib=layout.et_sdk / "lib", plugin=layout.plugin,
        wheels=tuple(sorted(m["wheels"].items())))
    reason = tc.missing()
    if reason:
        raise DeviceError(reason)
    return tc


def missing(cpu: str = DEFAULT_CPU, home: Path | None = None) -> str | None:
    """Why the ARM device cannot run here (not set up, a file gone), or None: for ``skip_reason``."""
    try:
        toolchain(cpu, home)
    except DeviceError as exc:
        return str(exc)
    return None
