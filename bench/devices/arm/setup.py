"""``edgeav device setup arm``: the table of steps that builds the emulated ARM device, in order.

Each row is a named, idempotent step (steps.py): a second run finds every stamp current and costs
well under a second. The last step runs the pieces under qemu once (guest Python imports each runtime,
the runner starts, the plugin counts) and only then writes the manifest that ``toolchain()`` reads, so
a half-finished setup is never mistaken for a ready one.
"""
from __future__ import annotations

import hashlib
import json
import platform
import shutil
from collections.abc import Callable
from pathlib import Path

from bench.devices.arm import builds, sysroot, wheels
from bench.devices.arm.cpus import DEFAULT_CPU
from bench.devices.arm.layout import GUEST_PYTHON, QEMU, ArmLayout, arm_home
from bench.devices.arm.steps import Execute, Step, StepContext, StepResult, run_command, run_steps
from bench.devices.arm.toolchain import ArmToolchain, toolchain
from edgeav.errors import DeviceError

SMOKE = "import numpy, onnxruntime, ai_edge_litert.interpreter; print('edgeav-arm-ok', numpy.__version__)"


def host_key(ctx: StepContext) -> str:
    return f"{platform.system()} {platform.machine()}"


def check_host(ctx: StepContext) -> None:
    """x86-64 Linux with apt: what every later step assumes (qemu-user emulates aarch64 on x86-64)."""
    system, machine = platform.system(), platform.machine()
    if system != "Linux" or machine not in ("x86_64", "AMD64"):
        raise DeviceError(f"ARM setup step 'host' failed: this is {system} {machine}, the ARM device needs an "
                          "x86-64 Linux host (Debian/Ubuntu, e.g. CI); on a Mac or ARM host use --device adb")
    if not shutil.which("apt-get") or not shutil.which("dpkg-deb"):
        raise DeviceError("ARM setup step 'host' failed: no apt-get/dpkg-deb on this Linux; "
                          "use Debian 12 or Ubuntu 22.04+ (the setup installs qemu-user etc. with apt)")


def qemu_version(ctx: StepContext) -> str:
    first = ctx.run([QEMU, "--version"]).splitlines()[0]  # "qemu-aarch64 version 7.2.22 (Debian ...)"
    return first.split("version", 1)[-1].strip()


def installed_toolchain(ctx: StepContext) -> ArmToolchain:
    layout = ctx.layout
    return ArmToolchain(cpu=DEFAULT_CPU, home=layout.home, qemu=Path(QEMU), qemu_version=qemu_version(ctx),
                        sysroot=layout.sysroot, prefix=layout.view(DEFAULT_CPU), python=layout.sysroot / GUEST_PYTHON,
                        site=layout.site, runner=layout.runner, runner_lib=layout.et_sdk / "lib",
                        plugin=layout.plugin, wheels=(*wheels.GUEST_WHEELS, wheels.EXECUTORCH))


def check_and_record(ctx: StepContext) -> None:
    """Run each piece once under qemu, then write toolchain.json (what ``toolchain()`` reads)."""
    tc = installed_toolchain(ctx)
    reason = tc.missing()
    if reason:
        raise ValueError(reason)
    out = ctx.run(tc.python_command("-c", SMOKE), env=tc.env())
    if "edgeav-arm-ok" not in out:
        raise ValueError(f"the guest Python did not import the runtimes: {out.strip()[-200:]}")
    log = ctx.layout.home / "logs" / "plugin-smoke.log"
    code, out = ctx.execute(tc.runner_command(plugin_log=log), ctx.log, tc.env(), None)
    if "usage: edgeav_et_runner" not in out:
        raise ValueError(f"the ARM runner did not start under qemu (exit {code}): {out.strip()[-200:]}")
    if "total insns" not in log.read_text():
        raise ValueError(f"the counting plugin wrote no count to {log}")
    manifest = {"qemu": str(tc.qemu), "qemu_version": tc.qemu_version, "python": GUEST_PYTHON,
                "wheels": dict(tc.wheels), "sysroot_suite": sysroot.SUITE}
    ctx.layout.manifest.write_text(json.dumps(manifest, indent=2) + "\n")


def check_key(ctx: StepContext) -> str:
    stamps = [ctx.layout.stamps / s.name for s in STEPS[:-1]]
    return hashlib.sha256(b"".join(p.read_bytes() for p in stamps if p.exists())).hexdigest()[:16]


def _paths(*paths: str) -> Callable[[ArmLayout], tuple[Path, ...]]:
    return lambda layout: tuple(Path(p) for p in paths)


STEPS = (
    Step("host", "x86-64 Linux with apt", check_host, host_key),
    Step("apt", "qemu-user, debootstrap, aarch64 cross g++, cmake", builds.install_packages, builds.apt_key,
         _paths(*map(str, builds.APT_PROGRAMS))),
    Step("sysroot", "Debian bookworm arm64 (debootstrap first stage + dpkg-deb -x)", sysroot.build_sysroot,
         sysroot.sysroot_key, lambda layout: (layout.sysroot / GUEST_PYTHON,)),
    Step("sysroot-pyc", "byte-compile the guest stdlib on the host", sysroot.compile_stdlib, sysroot.pyc_key),
    Step("views", "one -L view per CPU model with a fake /proc/cpuinfo", sysroot.build_views, sysroot.views_key,
         sysroot.view_outputs),
    Step("wheels", "aarch64 numpy, ai-edge-litert, onnxruntime (pip --target)", wheels.install_wheels,
         wheels.wheels_key, wheels.wheel_outputs),
    Step("executorch-sdk", "aarch64 executorch wheel's C++ SDK", wheels.unpack_sdk, wheels.sdk_key,
         wheels.sdk_outputs),
    Step("qemu-source", "qemu-plugin.h from Debian's qemu source", builds.fetch_plugin_header,
         builds.qemu_source_key, lambda layout: (layout.qemu_source / builds.PLUGIN_HEADER,)),
    Step("plugin", "instruction-counting TCG plugin", builds.build_plugin, builds.plugin_key,
         lambda layout: (layout.plugin,)),
    Step("runner", "edgeav_et_runner cross-built for aarch64", builds.build_runner, builds.runner_key,
         builds.runner_outputs),
    Step("check", "run python, the runner and the plugin under qemu", check_and_record, check_key,
         lambda layout: (layout.manifest,)),
)


def setup(home: Path | None = None, report: Callable[[str], None] = print, force: bool = False,
          execute: Execute = run_command) -> tuple[ArmToolchain, list[StepResult]]:
    """Build (or find current) every step into ``home`` (default: arm_home()); the ready toolchain."""
    layout = ArmLayout(Path(home) if home else arm_home())
    results = run_steps(STEPS, StepContext(layout, execute), report, force)
    return toolchain(DEFAULT_CPU, layout.home), results
