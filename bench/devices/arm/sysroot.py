"""Setup steps for the guest userland: a Debian bookworm arm64 sysroot and one ``-L`` view per CPU model.

The sysroot is debootstrap's first stage (download + unpack the required set, ~20 s) plus ``dpkg-deb -x`` of
the packages it only downloaded (python3), with no chroot, no binfmt and no second stage (5 min): option B
of shared/design/arm.md. Each view is the sysroot's top-level folders as symlinks plus its own ``proc``
and ``sys`` files, so one sysroot serves every CPU model (qemu's ``-L`` looks each guest path up there
first and falls back to the host's).
"""
from __future__ import annotations

import compileall
import hashlib
import os
import shutil
import sys
from pathlib import Path

from bench.devices.arm.cpus import CPUS
from bench.devices.arm.layout import GUEST_PYTHON, ArmLayout
from bench.devices.arm.steps import StepContext

SUITE = "bookworm"  # its python3 is 3.11: the cp311 aarch64 wheels fit
MIRROR = os.environ.get("EDGEAV_ARM_MIRROR", "http://deb.debian.org/debian")
INCLUDE = ("python3",)
KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
FAKED = ("proc", "sys")  # never symlinked into a view: the view has its own


def privileged(argv: list[str]) -> list[str]:
    """``argv`` as root: as is when we are root, else through ``sudo -n`` (fails fast, never prompts)."""
    return argv if os.geteuid() == 0 else ["sudo", "-n", *argv]


def sysroot_key(ctx: StepContext) -> str:
    return f"{SUITE} {MIRROR} {','.join(INCLUDE)} first-stage+dpkg-deb-x v1"


def build_sysroot(ctx: StepContext) -> None:
    """debootstrap's first stage into a scratch folder, unpack what it downloaded, then rename into place."""
    final = ctx.layout.sysroot
    tmp = final.with_name(final.name + ".partial")
    for d in (tmp, final):
        if d.exists():
            ctx.run(privileged(["rm", "-rf", str(d)]))
    keyring = [f"--keyring={KEYRING}"] if KEYRING.is_file() else []
    ctx.run(privileged(["debootstrap", "--arch=arm64", "--foreign", "--variant=minbase",
                        f"--include={','.join(INCLUDE)}", *keyring, SUITE, str(tmp), MIRROR]))
    if os.geteuid() != 0:  # debootstrap ran through sudo: hand the tree to this user
        ctx.run(["sudo", "-n", "chown", "-R", f"{os.getuid()}:{os.getgid()}", str(tmp)])
    archives = tmp / "var" / "cache" / "apt" / "archives"
    for deb in sorted(archives.glob("*.deb")):
        ctx.run(["dpkg-deb", "-x", str(deb), str(tmp)])
        deb.unlink()  # 100 MB nobody reads again
    proc = tmp / "proc"
    if proc.is_symlink() or proc.is_file():  # the first stage links it to the host's /proc
        proc.unlink()
    proc.mkdir(exist_ok=True)
    if not (tmp / GUEST_PYTHON).exists():
        raise ValueError(f"debootstrap left no {GUEST_PYTHON} in {tmp}")
    tmp.rename(final)


def compile_stdlib(ctx: StepContext) -> None:
    """Byte-compile the guest's stdlib with this (x86) Python 3.11 (same .pyc magic): emulated imports
    then skip compiling every module on every run. Skipped on another host Python (correct, just slower)."""
    if sys.version_info[:2] != (3, 11):
        return
    lib = ctx.layout.sysroot / "usr" / "lib" / "python3.11"
    compileall.compile_dir(str(lib), quiet=2, workers=1, rx=None)


def pyc_key(ctx: StepContext) -> str:
    return f"host python {sys.version_info[0]}.{sys.version_info[1]}"


VIEWS_FORMAT = 2  # bump when build_views writes other files


def views_key(ctx: StepContext) -> str:
    return f"v{VIEWS_FORMAT} " + hashlib.sha256(repr(sorted(CPUS.items())).encode()).hexdigest()[:16]


def build_views(ctx: StepContext) -> None:
    """One ``-L`` folder per CPU model: sysroot symlinks + a fake cpuinfo, one-core /sys cpu lists, MIDR."""
    root = ctx.layout.sysroot
    for name, cpu in CPUS.items():
        view = ctx.layout.view(name)
        if view.exists():
            shutil.rmtree(view)
        view.mkdir(parents=True)
        for entry in sorted(root.iterdir()):
            if entry.name not in FAKED:
                (view / entry.name).symlink_to(os.path.relpath(entry, view))
        (view / "proc").mkdir()
        (view / "proc" / "cpuinfo").write_text(cpu.cpuinfo(cores=1))
        cpus = view / "sys" / "devices" / "system" / "cpu"
        cpus.mkdir(parents=True)
        for f in ("possible", "present", "online"):
            (cpus / f).write_text("0\n")
        ident = cpus / "cpu0" / "regs" / "identification"
        ident.mkdir(parents=True)
        (ident / "midr_el1").write_text(f"0x{cpu.midr:016x}\n")


def view_outputs(layout: ArmLayout) -> tuple[Path, ...]:
    return tuple(layout.view(c) / "proc" / "cpuinfo" for c in CPUS)
