"""Setup steps that install or compile on the host: apt packages, qemu's plugin header, the plugin, the runner.

The plugin header (qemu-plugin.h, GPL-2.0-or-later) comes from the Debian source package of the installed
qemu-user at setup time, checked against the .dsc's sha256, and stays in the cache folder: no GPL text
enters the repository. The runner is bench/devices/et_runner/ cross-built with Debian's aarch64 g++
against the aarch64 executorch wheel's C++ SDK.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import tarfile
import urllib.request
from pathlib import Path

from bench.devices.arm.layout import QEMU, ArmLayout
from bench.devices.arm.steps import StepContext
from bench.devices.arm.sysroot import MIRROR, privileged
from bench.devices.arm.wheels import EXECUTORCH

HERE = Path(__file__).resolve().parent
PLUGIN_SOURCE = HERE / "plugin" / "edgeav_insns.c"
RUNNER_SOURCE = HERE.parent / "et_runner"
CROSS_FILE = RUNNER_SOURCE / "aarch64-linux-gnu.cmake"
APT_PACKAGES = ("qemu-user", "debootstrap", "debian-archive-keyring", "gcc", "gcc-aarch64-linux-gnu",
                "g++-aarch64-linux-gnu", "cmake", "make", "xz-utils")
APT_PROGRAMS = (Path(QEMU), Path("/usr/sbin/debootstrap"), Path("/usr/bin/aarch64-linux-gnu-g++"),
                Path("/usr/bin/cmake"))
PLUGIN_HEADER = "qemu-plugin.h"


def apt_key(ctx: StepContext) -> str:
    return " ".join(APT_PACKAGES)


def install_packages(ctx: StepContext) -> None:
    """apt-get install what is not installed yet (nothing to do, and no root needed, when all are)."""
    missing = [p for p in APT_PACKAGES if not installed(ctx, p)]
    if not missing:
        return
    env = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    ctx.run(privileged(["apt-get", "update", "-q"]), env=env)
    ctx.run(privileged(["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing]), env=env)


def installed(ctx: StepContext, package: str) -> bool:
    code, out = ctx.execute(["dpkg-query", "-W", "-f=${Status}", package], ctx.log, None, None)
    return code == 0 and "install ok installed" in out


def source_version(ctx: StepContext) -> str:
    """The installed qemu-user's source package version, e.g. ``1:7.2+dfsg-7+deb12u18``."""
    return ctx.run(["dpkg-query", "-W", "-f=${source:Version}", "qemu-user"]).strip()


def qemu_source_key(ctx: StepContext) -> str:
    return source_version(ctx)


def fetch(url: str, dest: Path) -> Path:
    """Download ``url`` to ``dest`` (OSError with the URL when it cannot)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        with urllib.request.urlopen(url, timeout=60) as r, dest.open("wb") as f:
            while chunk := r.read(1 << 20):
                f.write(chunk)
    except OSError as exc:
        dest.unlink(missing_ok=True)
        raise OSError(f"cannot download {url}: {exc}") from None
    return dest


def fetch_plugin_header(ctx: StepContext) -> None:
    """Debian's qemu .dsc -> the orig tarball (sha256 checked) -> include/qemu/qemu-plugin.h only."""
    version = source_version(ctx).split(":", 1)[-1]
    pool = f"{MIRROR}/pool/main/q/qemu"
    dsc = fetch(f"{pool}/qemu_{version}.dsc", ctx.layout.downloads / f"qemu_{version}.dsc").read_text()
    upstream = version.rsplit("-", 1)[0]
    name = next((n for n in (f"qemu_{upstream}.orig.tar.xz", f"qemu_{upstream}.orig.tar.gz") if n in dsc), None)
    digest = re.search(rf"^ ([0-9a-f]{{64}}) \d+ {re.escape(name or '-')}$", dsc, re.M) if name else None
    if not digest:
        raise ValueError(f"qemu_{version}.dsc names no orig tarball with a sha256")
    tarball = ctx.layout.downloads / name
    if not tarball.is_file() or sha256(tarball) != digest.group(1):
        fetch(f"{pool}/{name}", tarball)
    if sha256(tarball) != digest.group(1):
        raise ValueError(f"{tarball} does not match the sha256 in qemu_{version}.dsc; delete it and re-run")
    with tarfile.open(tarball) as tar:
        member = next(m for m in tar if m.name.endswith(f"include/qemu/{PLUGIN_HEADER}"))
        data = tar.extractfile(member).read()
    ctx.layout.qemu_source.mkdir(parents=True, exist_ok=True)
    (ctx.layout.qemu_source / PLUGIN_HEADER).write_bytes(data)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def plugin_key(ctx: StepContext) -> str:
    return f"{sha256(PLUGIN_SOURCE)[:16]} {source_version(ctx)}"


def build_plugin(ctx: StepContext) -> None:
    out = ctx.layout.plugin
    out.parent.mkdir(parents=True, exist_ok=True)
    ctx.run(["gcc", "-O2", "-shared", "-fPIC", "-Wall", f"-I{ctx.layout.qemu_source}", str(PLUGIN_SOURCE),
             "-o", str(out)])


def runner_key(ctx: StepContext) -> str:
    sources = sorted(p for p in RUNNER_SOURCE.iterdir() if p.suffix in (".cpp", ".txt", ".cmake", ".h"))
    return " ".join(f"{p.name}:{sha256(p)[:12]}" for p in sources) + " " + "==".join(EXECUTORCH)


def build_runner(ctx: StepContext) -> None:
    """cmake the runner with the aarch64 cross file against the unpacked SDK (RPATH -> the SDK's lib/)."""
    build = ctx.layout.runner_build
    shutil.rmtree(build, ignore_errors=True)  # cmake reads CMAKE_TOOLCHAIN_FILE only into a fresh cache
    ctx.run(["cmake", "-S", str(RUNNER_SOURCE), "-B", str(build), f"-DCMAKE_TOOLCHAIN_FILE={CROSS_FILE}",
             f"-DEXECUTORCH_ROOT={ctx.layout.et_sdk}", "-DCMAKE_BUILD_TYPE=Release"])
    ctx.run(["cmake", "--build", str(build), "-j", "1"])
    # The runner's RPATH is the SDK's absolute lib/ and then $ORIGIN/lib: this relative link keeps it
    # working when the cache folder is moved or restored elsewhere (a CI cache under another $HOME).
    (build / "lib").symlink_to(os.path.relpath(ctx.layout.et_sdk / "lib", build))


def runner_outputs(layout: ArmLayout) -> tuple[Path, ...]:
    return (layout.runner, layout.runner_build / "lib" / "libexecutorch.so")
