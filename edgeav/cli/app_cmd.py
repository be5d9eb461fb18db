"""Hand-off to the demo apps: ``edgeav export … --app DIR`` copies artifacts + manifests into an app's model
folder (with ``index.json``, each copy checked against its manifest's sha256), and ``edgeav app push ARTIFACT``
sends one to a connected Android phone's app storage over adb, so a big model needs no rebuild.

adb is always called with an argument list, never through a local shell; the names that reach the phone's
shell (``run-as … cp``) are checked to be plain file names first.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgeav.errors import UsageError
from edgeav.files import digest, write_json_atomically
from export_targets.manifest import manifest_path, read_manifest

INDEX = "index.json"
ANDROID_PACKAGE = "dev.edgeav.demo"  # android_demo/app's applicationId
DEVICE_STAGING = "/data/local/tmp/edgeav"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9._@+-]+$")


@dataclass(frozen=True)
class AppLayout:
    """One demo app: how to recognise its folder, where its bundled models go, which formats it runs."""

    platform: str
    marker: str  # a file every checkout of the app has
    models: str  # the models folder, relative to the app folder (git-ignored)
    targets: tuple[str, ...]


APPS = (
    AppLayout("android", "settings.gradle.kts", "app/src/main/assets/models", ("executorch", "litert")),
    AppLayout("ios", "App/project.yml", "App/Resources/Models", ("coreml", "executorch")),
)


def app_layout(app_dir: Path) -> AppLayout:
    for layout in APPS:
        if (app_dir / layout.marker).is_file():
            return layout
    raise UsageError(f"--app {app_dir} is not a demo app folder (no {' or '.join(a.marker for a in APPS)}); "
                     "pass android_demo or ios_demo")


def check_app(app_dir: Path, formats: Sequence[str]) -> AppLayout:
    """Before exporting: the app folder is a demo app and runs every requested format."""
    layout = app_layout(Path(app_dir))
    foreign = [f for f in formats if f not in layout.targets]
    if foreign:
        raise UsageError(f"the {layout.platform} app does not run {', '.join(foreign)}; with --app {app_dir} "
                         f"use --target {layout.platform} (or {', '.join(layout.targets)})")
    return layout


def install_into_app(app_dir: Path, artifacts: Sequence[Path]) -> Path:
    """Copy each artifact and its manifest into the app's models folder, check the copies, update the index.

    Returns the models folder. Formats the app does not run are refused before anything is copied.
    """
    layout = app_layout(Path(app_dir))
    manifests = [read_manifest(a) for a in artifacts]
    for artifact, manifest in zip(artifacts, manifests):
        if manifest.get("target") not in layout.targets:
            raise UsageError(f"{artifact.name} is a {manifest.get('target')} artifact; the {layout.platform} app runs "
                             f"{' and '.join(layout.targets)}: export with --target {layout.platform}")
    models = Path(app_dir) / layout.models
    models.mkdir(parents=True, exist_ok=True)
    entries = _read_index(models)
    for artifact, manifest in zip(artifacts, manifests):
        dest = models / artifact.name
        if dest.is_dir():
            shutil.rmtree(dest)
        (shutil.copytree if artifact.is_dir() else shutil.copy2)(artifact, dest)
        shutil.copy2(manifest_path(artifact), manifest_path(dest))
        sha, size = digest(dest)
        if (sha, size) != (manifest["sha256"], manifest["size_bytes"]):
            raise UsageError(f"the copy of {artifact.name} in {models} has sha256 {sha[:12]}…, its manifest says "
                             f"{manifest['sha256'][:12]}…: the artifact changed after export; re-export it")
        entries[artifact.name] = {
            "artifact": artifact.name, "manifest": manifest_path(dest).name, "sha256": sha, "size_bytes": size,
            "target": manifest["target"], "model": manifest["model"], "config_name": manifest["config_name"],
            "precision": manifest.get("precision"),
        }
    write_json_atomically(models / INDEX, {"models": [entries[k] for k in sorted(entries)]})
    return models


def _read_index(models: Path) -> dict[str, dict[str, Any]]:
    """The index's entries whose artifact is still there (a hand-deleted model drops out)."""
    path = models / INDEX
    if not path.is_file():
        return {}
    try:
        listed = json.loads(path.read_text()).get("models", [])
    except (json.JSONDecodeError, AttributeError):
        return {}  # rewritten below from what is copied now
    return {e["artifact"]: e for e in listed if isinstance(e, dict) and (models / str(e.get("artifact"))).exists()}


# ---------------------------------------------------------------- edgeav app push
def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("app", help="send exported models to the demo apps",
                       description="Send an exported artifact (+ its manifest) to a demo app.")
    verbs = p.add_subparsers(dest="app_verb", metavar="ACTION")
    verbs.required = True
    push = verbs.add_parser("push", help="copy an artifact into the Android demo app's storage over adb",
                            description="adb push ARTIFACT and its manifest, then `run-as` copies them into the "
                                        f"app's files/models/ (the app lists them under 'storage'); {ANDROID_PACKAGE} "
                                        "must be installed as a debuggable build.")
    push.add_argument("artifact", type=Path, help="a .pte or .tflite written by `edgeav export`")
    push.add_argument("--serial", "-s", help="the device's serial (adb devices), when several are connected")
    push.add_argument("--adb", default=None, help="the adb executable (default: adb on PATH)")
    push.add_argument("--package", default=ANDROID_PACKAGE, help=f"the app's package (default {ANDROID_PACKAGE})")
    push.set_defaults(func=run_push)


def run_push(args: argparse.Namespace) -> int:
    artifact: Path = args.artifact
    manifest = read_manifest(artifact)
    if artifact.is_dir() or manifest.get("target") not in ("executorch", "litert"):
        raise UsageError(f"{artifact.name} is a {manifest.get('target')} artifact; the Android app runs .pte and "
                         ".tflite: export with --target android")
    sha, size = digest(artifact)
    if sha != manifest["sha256"]:
        raise UsageError(f"{artifact.name} does not match its manifest's sha256 (changed after export); re-export it")
    files = [artifact, manifest_path(artifact)]
    for f in files:
        if not _SAFE_NAME.match(f.name):
            raise UsageError(f"'{f.name}' has characters the phone's shell would interpret; rename it to letters, "
                             "digits and ._@+- (and its manifest alike)")
    adb = _adb_command(args.adb, args.serial)
    _adb(adb, "shell", "mkdir", "-p", DEVICE_STAGING)
    for f in files:
        _adb(adb, "push", str(f), f"{DEVICE_STAGING}/{f.name}")
    _adb(adb, "shell", "run-as", args.package, "mkdir", "-p", "files/models")
    for f in files:
        _adb(adb, "shell", "run-as", args.package, "cp", f"{DEVICE_STAGING}/{f.name}", f"files/models/{f.name}")
    found = _adb(adb, "shell", "run-as", args.package, "sha256sum", f"files/models/{artifact.name}").split()
    if not found or found[0] != sha:
        raise UsageError(f"the phone's copy of {artifact.name} has sha256 {found[0] if found else '?'}, expected "
                         f"{sha}: the push was cut short; run `edgeav app push` again")
    _adb(adb, "shell", "rm", "-f", *(f"{DEVICE_STAGING}/{f.name}" for f in files))
    print(f"pushed {artifact.name} ({size / 1e6:.1f} MB, sha256 verified) to {args.package} files/models/; "
          "pick it under 'storage' in the app")
    return 0


def _adb_command(adb: str | None, serial: str | None) -> list[str]:
    exe = adb or shutil.which("adb")
    if exe is None:
        raise UsageError("adb is not on PATH; install the Android platform tools (apt-get install adb) or pass --adb PATH")
    return [exe, *(["-s", serial] if serial else [])]


def _adb(adb: list[str], *args: str) -> str:
    try:
        done = subprocess.run([*adb, *args], capture_output=True, text=True, timeout=600, check=False)
    except OSError as exc:
        raise UsageError(f"cannot run {adb[0]} ({exc.strerror}); pass --adb with the adb executable") from None
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()
        hint = ("; is the app installed as a debuggable build (Android Studio's Run)?" if "run-as" in args
                else "; is the phone connected with USB debugging on (adb devices)?")
        raise UsageError(f"adb {' '.join(args[:2])} failed: {said[-1] if said else f'exit {done.returncode}'}{hint}")
    return done.stdout
