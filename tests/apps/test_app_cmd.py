"""The hand-off: `--app` copies into the app's models folder with a checked index; `edgeav app push` drives adb
with argument lists (a fake adb records them and plays the phone)."""
from __future__ import annotations

import json
import shutil
import stat
import sys
from pathlib import Path

import pytest

from edgeav.cli.app_cmd import check_app, install_into_app
from edgeav.cli.main import main
from edgeav.errors import UsageError
from tests.apps import golden

ROOT = Path(__file__).resolve().parents[2]


def _exported(tmp: Path, *names: str) -> list[Path]:
    """Golden manifests beside the placeholder artifacts they describe, as `edgeav export` leaves them."""
    out = tmp / "dist"
    out.mkdir()
    for name in names:
        shutil.copy(golden.GOLDEN / "manifests" / name, out / name)
        artifact = out / name.removesuffix(".json")
        artifact.write_text(f"edgeav golden placeholder for {artifact.name}\n")
    return [out / n.removesuffix(".json") for n in names]


@pytest.fixture
def android_app(tmp_path: Path) -> Path:
    app = tmp_path / "android_demo"
    app.mkdir()
    shutil.copy(ROOT / "android_demo" / "settings.gradle.kts", app / "settings.gradle.kts")
    return app


def test_export_into_the_android_app_copies_checks_and_indexes(tmp_path: Path, android_app: Path) -> None:
    artifacts = _exported(tmp_path, "lightavseg_small_fp32.pte.json", "lightavseg_small_fp32.tflite.json")
    models = install_into_app(android_app, artifacts)
    assert models == android_app / "app/src/main/assets/models"
    assert sorted(p.name for p in models.iterdir()) == ["index.json", "lightavseg_small_fp32.pte",
                                                        "lightavseg_small_fp32.pte.json", "lightavseg_small_fp32.tflite",
                                                        "lightavseg_small_fp32.tflite.json"]
    index = json.loads((models / "index.json").read_text())["models"]
    assert [(e["artifact"], e["target"]) for e in index] == [("lightavseg_small_fp32.pte", "executorch"),
                                                             ("lightavseg_small_fp32.tflite", "litert")]
    # a second export replaces its own entry and keeps the other one
    install_into_app(android_app, artifacts[:1])
    assert len(json.loads((models / "index.json").read_text())["models"]) == 2


def test_an_artifact_changed_after_export_is_refused(tmp_path: Path, android_app: Path) -> None:
    [artifact] = _exported(tmp_path, "lightavseg_small_fp32.pte.json")
    artifact.write_text("tampered\n")
    with pytest.raises(UsageError, match="changed after export; re-export"):
        install_into_app(android_app, [artifact])


def test_formats_the_app_does_not_run_are_refused_before_export(tmp_path: Path, android_app: Path) -> None:
    with pytest.raises(UsageError, match="does not run coreml.*--target android"):
        check_app(android_app, ["coreml", "executorch"])
    [mlpackage] = _exported(tmp_path, "lightavseg_small_fp16.mlpackage.json")
    with pytest.raises(UsageError, match="export with --target android"):
        install_into_app(android_app, [mlpackage])
    with pytest.raises(UsageError, match="not a demo app folder"):
        check_app(tmp_path, ["executorch"])


def test_the_ios_app_takes_core_ml_and_executorch(tmp_path: Path) -> None:
    app = tmp_path / "ios_demo"
    (app / "App").mkdir(parents=True)
    shutil.copy(ROOT / "ios_demo" / "App" / "project.yml", app / "App" / "project.yml")
    artifacts = _exported(tmp_path, "lightavseg_small_fp16.mlpackage.json", "lightavseg_small_fp32.pte.json")
    models = install_into_app(app, artifacts)
    assert models == app / "App/Resources/Models" and (models / "index.json").is_file()


FAKE_ADB = """#!{python}
import hashlib, json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_ADB_LOG"], "a") as log:
    log.write(json.dumps(args) + "\\n")
phone = os.environ["FAKE_ADB_PHONE"]
if args[:2] == ["-s", "SER1"]:
    args = args[2:]
if args[0] == "push":
    open(os.path.join(phone, os.path.basename(args[2])), "wb").write(open(args[1], "rb").read())
elif args[-2:-1] == ["sha256sum"]:
    data = open(os.path.join(phone, os.path.basename(args[-1])), "rb").read()
    if os.environ.get("FAKE_ADB_CORRUPT"):
        data += b"x"
    print(hashlib.sha256(data).hexdigest() + "  " + args[-1])
"""


@pytest.fixture
def fake_adb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    adb = tmp_path / "adb"
    adb.write_text(FAKE_ADB.format(python=sys.executable))
    adb.chmod(adb.stat().st_mode | stat.S_IEXEC)
    log, phone = tmp_path / "adb.log", tmp_path / "phone"
    phone.mkdir()
    monkeypatch.setenv("FAKE_ADB_LOG", str(log))
    monkeypatch.setenv("FAKE_ADB_PHONE", str(phone))
    return adb, log


def test_app_push_sends_the_model_into_the_apps_storage_and_verifies_it(tmp_path: Path, fake_adb, capsys) -> None:
    adb, log = fake_adb
    [artifact] = _exported(tmp_path, "lightavseg_small_fp32.tflite.json")
    assert main(["app", "push", str(artifact), "--serial", "SER1", "--adb", str(adb)]) == 0
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert all(c[:2] == ["-s", "SER1"] for c in calls)
    name = artifact.name
    assert ["-s", "SER1", "push", str(artifact), f"/data/local/tmp/edgeav/{name}"] in calls
    assert ["-s", "SER1", "shell", "run-as", "dev.edgeav.demo", "cp", f"/data/local/tmp/edgeav/{name}",
            f"files/models/{name}"] in calls
    assert ["-s", "SER1", "shell", "run-as", "dev.edgeav.demo", "cp", f"/data/local/tmp/edgeav/{name}.json",
            f"files/models/{name}.json"] in calls
    assert "sha256 verified" in capsys.readouterr().out


def test_app_push_fails_when_the_phones_copy_differs(tmp_path: Path, fake_adb, monkeypatch, capsys) -> None:
    adb, _ = fake_adb
    monkeypatch.setenv("FAKE_ADB_CORRUPT", "1")
    [artifact] = _exported(tmp_path, "lightavseg_small_fp32.pte.json")
    assert main(["app", "push", str(artifact), "--adb", str(adb)]) == 2
    assert "push was cut short" in capsys.readouterr().err


def test_app_push_refuses_names_the_phones_shell_would_read(tmp_path: Path, fake_adb, capsys) -> None:
    adb, log = fake_adb
    [artifact] = _exported(tmp_path, "lightavseg_small_fp32.pte.json")
    odd = artifact.with_name("model;reboot.pte")
    artifact.rename(odd)
    Path(str(artifact) + ".json").rename(str(odd) + ".json")
    assert main(["app", "push", str(odd), "--adb", str(adb)]) == 2
    assert "rename it" in capsys.readouterr().err and not log.exists()


def test_app_push_without_adb_names_the_install(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    [artifact] = _exported(tmp_path, "lightavseg_small_fp32.pte.json")
    assert main(["app", "push", str(artifact)]) == 2
    assert "apt-get install adb" in capsys.readouterr().err
