"""Setup steps for the aarch64 wheels: the runtimes the guest Python imports, and ExecuTorch's C++ SDK.

pip runs on the x86 side with ``--platform``/``--python-version``, so nothing is emulated and nothing is
built: every tag manylinux 2_17..2_36 is offered, because ai-edge-litert 2.3.0 aarch64 is tagged only
2_27 (shared/design/arm.md). The executorch wheel is never installed (its Python side needs torch, whose
aarch64 PyPI build drags 2.3 GB of CUDA): only its include/ and lib/ are unpacked for the runner.
"""
from __future__ import annotations

import shutil
import sys
import zipfile
from pathlib import Path

from bench.devices.arm.layout import ArmLayout
from bench.devices.arm.steps import StepContext

# The versions the host runs (pyproject pins executorch and ai-edge-litert exactly; numpy and onnxruntime
# are ranges there, and these are what the venv resolves), so ARM-vs-host parity compares one version.
GUEST_WHEELS = (("numpy", "2.4.6"), ("ai-edge-litert", "2.3.0"), ("onnxruntime", "1.32.0"))
EXECUTORCH = ("executorch", "1.5.1")
PLATFORMS = (*(f"manylinux_2_{v}_aarch64" for v in range(17, 37)), "manylinux2014_aarch64", "linux_aarch64")
IMPORT_NAMES = {"numpy": "numpy", "ai-edge-litert": "ai_edge_litert", "onnxruntime": "onnxruntime"}


def target_flags() -> list[str]:
    """pip options that select cp311 aarch64 binary wheels, whatever Python runs pip."""
    flags = ["--only-binary=:all:", "--python-version", "3.11", "--implementation", "cp",
             "--abi", "cp311", "--abi", "abi3", "--abi", "none"]
    for p in PLATFORMS:
        flags += ["--platform", p]
    return flags


def pip(*args: str) -> list[str]:
    return [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", *args]


def specs(pins: tuple[tuple[str, str], ...]) -> list[str]:
    return [f"{name}=={version}" for name, version in pins]


def wheels_key(ctx: StepContext) -> str:
    return " ".join(specs(GUEST_WHEELS)) + " " + ",".join(PLATFORMS)


def install_wheels(ctx: StepContext) -> None:
    """Download the pinned wheels and their dependencies, then install them into site/ (x86 side)."""
    wheels = ctx.layout.downloads / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    ctx.run(pip("download", "-d", str(wheels), *target_flags(), *specs(GUEST_WHEELS)))
    site, tmp = ctx.layout.site, ctx.layout.site.with_name("site.partial")
    for d in (site, tmp):
        shutil.rmtree(d, ignore_errors=True)
    ctx.run(pip("install", "--no-index", "--find-links", str(wheels), "--target", str(tmp), *target_flags(),
                *specs(GUEST_WHEELS)))
    tmp.rename(site)


def wheel_outputs(layout: ArmLayout) -> tuple[Path, ...]:
    return tuple(layout.site / name for name in IMPORT_NAMES.values())


def sdk_key(ctx: StepContext) -> str:
    return "==".join(EXECUTORCH)


def unpack_sdk(ctx: StepContext) -> None:
    """Download the aarch64 executorch wheel (no deps) and unpack its C++ SDK: include/, lib/, share/."""
    wheels = ctx.layout.downloads / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    ctx.run(pip("download", "--no-deps", "-d", str(wheels), *target_flags(), "==".join(EXECUTORCH)))
    found = sorted(wheels.glob(f"{EXECUTORCH[0]}-{EXECUTORCH[1]}-*aarch64*.whl"))
    if not found:
        raise ValueError(f"pip left no {EXECUTORCH[0]}-{EXECUTORCH[1]} aarch64 wheel in {wheels}")
    root = ctx.layout.et_sdk.parent
    shutil.rmtree(root, ignore_errors=True)
    with zipfile.ZipFile(found[-1]) as z:
        members = [n for n in z.namelist() if n.split("/")[:2][-1] in ("include", "lib", "share")
                   and n.startswith("executorch/")]
        z.extractall(root, members)


def sdk_outputs(layout: ArmLayout) -> tuple[Path, ...]:
    return (layout.et_sdk / "lib" / "libexecutorch.so",
            layout.et_sdk / "include" / "executorch" / "extension" / "module" / "module.h")
