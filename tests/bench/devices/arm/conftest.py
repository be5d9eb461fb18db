"""The ARM device for the one ARM end-to-end test: ``edgeav device setup arm`` once per session.

It builds into the usual cache folder (``$EDGEAV_ARM_HOME`` or ``~/.cache/edgeav/arm``), so CI that keeps
that folder pays the setup once; from nothing it is what README's ARM section times. The test is skipped
only where this host cannot run qemu-user (not x86-64 Linux, no apt, no root or passwordless sudo); a
failing setup step (no network, apt or pip failing) fails it with the step's one-line error.
"""
from __future__ import annotations

import os
import platform
import shutil
import subprocess

import pytest


def cannot_run_qemu() -> str | None:
    """Why this host cannot run the ARM device, or None."""
    if platform.system() != "Linux" or platform.machine() != "x86_64":
        return f"the ARM device needs an x86-64 Linux host (this is {platform.system()} {platform.machine()})"
    if not shutil.which("apt-get"):
        return "the ARM device's setup installs qemu-user with apt-get; this Linux has none"
    if os.geteuid() != 0 and (not shutil.which("sudo") or subprocess.run(
            ["sudo", "-n", "true"], capture_output=True, check=False).returncode != 0):
        return "the ARM device's setup needs root or passwordless sudo (apt-get, debootstrap)"
    return None


@pytest.fixture(scope="session")
def arm_device():
    """The set-up ARM toolchain (cortex-a76)."""
    reason = cannot_run_qemu()
    if reason:
        pytest.skip(reason)
    from bench.devices.arm.setup import setup

    tc, _ = setup(report=lambda line: None)
    return tc
