"""The ARM setup's step table, stamps, error lines and toolchain paths, with fake commands (no qemu, no network)."""
from __future__ import annotations

import json
import platform
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

from bench.devices.arm import CPUS, ArmLayout, arm_cpu, arm_home, missing, toolchain
from bench.devices.arm import builds, setup as arm_setup, wheels
from bench.devices.arm.steps import Step, StepContext, run_steps
from edgeav.cli.main import main
from edgeav.errors import DeviceError, UsageError

ROOT = Path(__file__).resolve().parents[4]


def _ctx(tmp_path: Path, execute=None) -> StepContext:
    ctx = StepContext(ArmLayout(tmp_path / "home"))
    if execute is not None:
        ctx.execute = execute
    return ctx


def _counting_step(name: str, calls: list[str], key: str = "k1", output: Path | None = None) -> Step:
    def run(ctx: StepContext) -> None:
        calls.append(name)
        if output is not None:
            output.write_text("x")
    return Step(name, f"step {name}", run, lambda ctx: key, lambda layout: (output,) if output else ())


def test_a_second_setup_finds_every_step_done_and_runs_none(tmp_path) -> None:
    calls: list[str] = []
    steps = [_counting_step("a", calls), _counting_step("b", calls, output=tmp_path / "b.out")]
    first = run_steps(steps, _ctx(tmp_path), report=lambda s: None)
    second = run_steps(steps, _ctx(tmp_path), report=lambda s: None)
    assert calls == ["a", "b"]
    assert [r.status for r in first] == ["ran", "ran"] and [r.status for r in second] == ["cached", "cached"]


def test_a_changed_key_or_a_lost_output_reruns_only_that_step(tmp_path) -> None:
    calls: list[str] = []
    out = tmp_path / "b.out"
    run_steps([_counting_step("a", calls), _counting_step("b", calls, output=out)], _ctx(tmp_path), lambda s: None)
    out.unlink()
    run_steps([_counting_step("a", calls, key="k2"), _counting_step("b", calls, output=out)], _ctx(tmp_path),
              lambda s: None)
    assert calls == ["a", "b", "a", "b"]
    run_steps([_counting_step("a", calls, key="k2"), _counting_step("b", calls, output=out)], _ctx(tmp_path),
              lambda s: None, force=True)
    assert calls[-2:] == ["a", "b"]


def test_progress_names_each_step_with_its_time(tmp_path) -> None:
    lines: list[str] = []
    run_steps([_counting_step("a", [])], _ctx(tmp_path), report=lines.append)
    run_steps([_counting_step("a", [])], _ctx(tmp_path), report=lines.append)
    assert lines[0].startswith("[1/1] a") and lines[1].endswith(" s") and "cached" in lines[2]


def _failing(output: str):
    def execute(argv, log, env, cwd):
        return 1, output
    return execute


@pytest.mark.parametrize("output, words", [
    ("Err:1 http://deb.debian.org bookworm InRelease\n  Temporary failure in name resolution", "no network"),
    ("WARNING: Retrying ... Failed to establish a new connection: [Errno 101] Network is unreachable", "no network"),
    ("E: Could not open lock file /var/lib/dpkg/lock-frontend - open (13: Permission denied)", "passwordless sudo"),
    ("sudo: a password is required", "passwordless sudo"),
    ("E: Unable to locate package qemu-user", "Debian 12"),
    ("ERROR: Could not find a version that satisfies the requirement numpy==2.4.6 (from versions: none)\n"
     "ERROR: No matching distribution found for numpy==2.4.6", "no network to PyPI"),
    ("ERROR: Could not find a version that satisfies the requirement onnxruntime==9.9 (from versions: 1.20.0)\n"
     "ERROR: No matching distribution found for onnxruntime==9.9", "wheels.py pins"),
    ("gcc: fatal error: edgeav_insns.c: mystery", "edgeav_insns.c: mystery"),
])
def test_a_failed_command_is_one_line_naming_the_step_and_the_fix(tmp_path, output, words) -> None:
    def run(ctx: StepContext) -> None:
        ctx.run(["tool", "arg"])
    with pytest.raises(DeviceError) as err:
        run_steps([Step("wheels", "w", run)], _ctx(tmp_path, _failing(output)), lambda s: None)
    msg = str(err.value)
    assert "\n" not in msg and "step 'wheels'" in msg and words in msg and "wheels.log" in msg
    assert not (tmp_path / "home" / "stamps" / "wheels").exists()  # a failed step is not stamped


def test_wrong_host_architecture_names_the_host_step_and_adb(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(platform, "system", lambda: "Darwin")
    monkeypatch.setattr(platform, "machine", lambda: "arm64")
    with pytest.raises(DeviceError, match=r"step 'host'.*Darwin arm64.*--device adb"):
        run_steps(arm_setup.STEPS, _ctx(tmp_path), lambda s: None)


def _fake_dpkg(installed: set[str], seen: list[list[str]]):
    def execute(argv, log, env, cwd):
        seen.append(list(argv))
        if argv[0] == "dpkg-query":
            return (0, "install ok installed") if argv[-1] in installed else (1, "no packages found")
        return 0, ""
    return execute


def test_apt_step_installs_only_what_is_missing_and_nothing_when_all_are_there(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 1000)  # not root: through sudo -n, never a prompt
    seen: list[list[str]] = []
    builds.install_packages(_ctx(tmp_path, _fake_dpkg(set(builds.APT_PACKAGES) - {"qemu-user"}, seen)))
    installs = [a for a in seen if "install" in a]
    assert installs == [["sudo", "-n", "apt-get", "install", "-y", "-q", "--no-install-recommends", "qemu-user"]]
    seen.clear()
    builds.install_packages(_ctx(tmp_path, _fake_dpkg(set(builds.APT_PACKAGES), seen)))
    assert all(a[0] == "dpkg-query" for a in seen)


def test_step_names_are_unique_and_end_with_the_check_that_writes_the_manifest() -> None:
    names = [s.name for s in arm_setup.STEPS]
    assert len(names) == len(set(names)) and names[0] == "host" and names[-1] == "check"
    assert arm_setup.STEPS[-1].outputs(ArmLayout(Path("/h"))) == (Path("/h/toolchain.json"),)


def test_guest_wheel_pins_match_pyproject_and_the_host_venv() -> None:
    """ARM-vs-host parity compares one version of each runtime: the pins are what the host runs."""
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["all"]
    exact = dict(d.split("==") for d in deps if "==" in d)
    for name, version in (*wheels.GUEST_WHEELS, wheels.EXECUTORCH):
        if name in exact:
            assert exact[name] == version, f"{name}: pyproject pins {exact[name]}, wheels.py {version}"
        try:
            assert metadata.version(name) == version, f"{name}: host venv has {metadata.version(name)}"
        except metadata.PackageNotFoundError:
            pass
    assert "manylinux_2_27_aarch64" in wheels.target_flags()  # ai-edge-litert 2.3.0 is tagged only 2_27


def test_not_set_up_is_one_line_naming_the_setup_command(tmp_path) -> None:
    with pytest.raises(DeviceError, match=r"not set up .*run `edgeav device setup arm`"):
        toolchain(home=tmp_path)
    assert "edgeav device setup arm" in missing(home=tmp_path)
    with pytest.raises(UsageError, match="choose one of: cortex-a76"):
        toolchain("cortex-a99", home=tmp_path)


def _fake_install(home: Path, cpu: str = "cortex-a76") -> ArmLayout:
    layout = ArmLayout(home)
    for p in (layout.sysroot / "usr/bin/python3.11", layout.view(cpu) / "proc" / "cpuinfo", layout.runner,
              layout.plugin, layout.site / "numpy" / "__init__.py"):
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("")
    layout.manifest.write_text(json.dumps({"qemu": "/bin/sh", "qemu_version": "7.2.22", "python": "usr/bin/python3.11",
                                           "wheels": {"numpy": "2.4.6"}}))
    return layout


def test_guest_commands_pin_the_cpu_the_prefix_and_a_clean_environment(tmp_path, monkeypatch) -> None:
    layout = _fake_install(tmp_path)
    monkeypatch.setenv("LD_LIBRARY_PATH", "/host/only")
    tc = toolchain("cortex-a76", tmp_path)
    cmd = tc.python_command("-c", "pass", plugin_log=tmp_path / "p.log")
    assert cmd[:5] == ["/bin/sh", "-cpu", "cortex-a76", "-L", str(layout.view("cortex-a76"))]
    assert cmd[5:11] == ["-plugin", str(layout.plugin), "-d", "plugin", "-D", str(tmp_path / "p.log")]
    assert cmd[-4:] == ["-s", "-B", "-c", "pass"] and "-plugin" not in tc.runner_command("m.pte")
    env = tc.env()
    assert env["PYTHONHASHSEED"] == "0" and env["PYTHONPATH"] == str(layout.site) and "LD_LIBRARY_PATH" not in env


def test_a_file_gone_after_setup_names_it_and_the_setup_command(tmp_path) -> None:
    layout = _fake_install(tmp_path)
    layout.plugin.unlink()
    with pytest.raises(DeviceError, match=r"counting plugin is missing .*edgeav device setup arm"):
        toolchain(home=tmp_path)


def test_each_cpu_model_gets_its_own_midr_in_the_fake_cpuinfo() -> None:
    assert f"{arm_cpu('cortex-a76').midr:#x}" == "0x414fd0b1"  # Cortex-A76 r4p1 as Linux prints it
    texts = {name: cpu.cpuinfo() for name, cpu in CPUS.items()}
    assert "CPU part\t: 0xd0b" in texts["cortex-a76"] and "CPU part\t: 0xd08" in texts["cortex-a72"]
    assert all(t.count("processor\t:") == 1 for t in texts.values())  # one core: one thread everywhere


def test_home_follows_edgeav_arm_home_then_xdg_cache_home(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("EDGEAV_ARM_HOME", raising=False)
    assert arm_home() == tmp_path / "xdg" / "edgeav" / "arm"
    monkeypatch.setenv("EDGEAV_ARM_HOME", str(tmp_path / "mine"))
    assert arm_home() == tmp_path / "mine"


def test_cli_device_info_without_setup_exits_2_with_the_fix(tmp_path, capsys) -> None:
    assert main(["device", "info", "arm", "--home", str(tmp_path)]) == 2
    assert "run `edgeav device setup arm`" in capsys.readouterr().err


def test_cli_device_info_prints_qemu_cpu_wheels_and_sysroot(tmp_path, capsys) -> None:
    _fake_install(tmp_path, "neoverse-n1")
    assert main(["device", "info", "arm", "--cpu", "neoverse-n1", "--home", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "neoverse-n1" in out and "7.2.22" in out and "numpy==2.4.6" in out and str(tmp_path / "sysroot") in out



def test_views_link_the_sysroot_but_own_proc_and_sys(tmp_path) -> None:
    from bench.devices.arm.sysroot import build_views

    ctx = _ctx(tmp_path)
    for d in ("usr/bin", "etc", "proc"):
        (ctx.layout.sysroot / d).mkdir(parents=True)
    build_views(ctx)
    view = ctx.layout.view("cortex-a72")
    assert (view / "usr").is_symlink() and (view / "usr").resolve() == (ctx.layout.sysroot / "usr").resolve()
    assert not (view / "proc").is_symlink() and "0xd08" in (view / "proc" / "cpuinfo").read_text()
    assert (view / "sys/devices/system/cpu/possible").read_text() == "0\n"
    assert (view / "sys/devices/system/cpu/cpu0/regs/identification/midr_el1").read_text() == "0x00000000410fd083\n"


_DSC = "Format: 3.0 (quilt)\nChecksums-Sha256:\n {sha} 12 qemu_7.2+dfsg.orig.tar.xz\n"


def _fake_pool(tmp_path, monkeypatch, dsc_sha: str | None = None) -> StepContext:
    """A Debian pool served from memory: a .dsc and an orig tarball holding qemu-plugin.h."""
    import hashlib
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:xz") as tar:
        info = tarfile.TarInfo("qemu-7.2.0/include/qemu/qemu-plugin.h")
        info.size = 12
        tar.addfile(info, io.BytesIO(b"#define API\n"))
    tarball = buf.getvalue()
    dsc = _DSC.format(sha=dsc_sha or hashlib.sha256(tarball).hexdigest()).encode()
    served: list[str] = []

    def fetch(url: str, dest: Path) -> Path:
        served.append(url)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(dsc if url.endswith(".dsc") else tarball)
        return dest

    monkeypatch.setattr(builds, "fetch", fetch)
    monkeypatch.setattr(builds, "source_version", lambda ctx: "1:7.2+dfsg-7+deb12u18")
    return _ctx(tmp_path)


def test_plugin_header_comes_from_the_orig_tarball_the_dsc_vouches_for(tmp_path, monkeypatch) -> None:
    ctx = _fake_pool(tmp_path, monkeypatch)
    builds.fetch_plugin_header(ctx)
    assert (ctx.layout.qemu_source / "qemu-plugin.h").read_bytes() == b"#define API\n"


def test_a_tarball_that_does_not_match_the_dsc_is_refused(tmp_path, monkeypatch) -> None:
    ctx = _fake_pool(tmp_path, monkeypatch, dsc_sha="0" * 64)
    step = next(s for s in arm_setup.STEPS if s.name == "qemu-source")
    with pytest.raises(DeviceError, match=r"step 'qemu-source'.*does not match the sha256"):
        run_steps([Step(step.name, step.what, step.run)], ctx, lambda s: None)
    assert not (ctx.layout.qemu_source / "qemu-plugin.h").exists()


def test_an_unreachable_mirror_is_no_network(tmp_path, monkeypatch) -> None:
    import urllib.error
    import urllib.request

    def refuse(url, timeout=None):
        raise urllib.error.URLError(ConnectionRefusedError(111, "Connection refused"))

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setattr(builds, "source_version", lambda ctx: "1:7.2+dfsg-7+deb12u18")
    step = next(s for s in arm_setup.STEPS if s.name == "qemu-source")
    with pytest.raises(DeviceError, match=r"step 'qemu-source' failed: no network; connect"):
        run_steps([Step(step.name, step.what, step.run)], _ctx(tmp_path), lambda s: None)


def test_cli_device_setup_on_a_wrong_host_exits_2_naming_the_step(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(platform, "machine", lambda: "aarch64")
    assert main(["device", "setup", "arm", "--home", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "step 'host'" in err and "x86-64 Linux host" in err
