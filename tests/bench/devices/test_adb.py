"""The adb path without a phone: command construction, output parsing, and the whole flow against a
fake transport that plays the phone on this machine (with the real C++ runner when it can be built)."""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from bench.devices import RunSettings, get_device
from bench.devices.adb import (
    RUNNER_NAME,
    AdbCommands,
    adb_device,
    cpu_mask,
    parse_devices,
    parse_runner_output,
    runner_args,
)
from bench.devices.measure import TransportDevice
from bench.devices.transport import Completed
from bench.targets import resolve_target
from edgeav.errors import DeviceError, UsageError

RUNNER_SRC = Path(__file__).resolve().parents[3] / "bench" / "devices" / "et_runner"


def test_commands_are_argument_lists_with_quoted_remote_args() -> None:
    c = AdbCommands(serial="R5CT12345", remote_dir="/data/local/tmp/edgeav")
    assert c.push(Path("/x/m.pte"), "/data/local/tmp/edgeav/m.pte") == [
        "adb", "-s", "R5CT12345", "push", "/x/m.pte", "/data/local/tmp/edgeav/m.pte"]
    d = "/data/local/tmp/edgeav"
    args = runner_args(f"{d}/m.pte", [f"{d}/input0.f32"], RunSettings(threads=2, runs=7, warmup=3),
                       "--etdump", f"{d}/run.etdump")
    cmd = c.run([f"{d}/{RUNNER_NAME}", *args], {"LD_LIBRARY_PATH": f"{d}/lib"}, "c0")
    assert cmd[:4] == ["adb", "-s", "R5CT12345", "shell"]
    assert [shlex.split(a)[0] for a in cmd[4:]] == [
        "env", "LD_LIBRARY_PATH=/data/local/tmp/edgeav/lib", "taskset", "c0", f"/data/local/tmp/edgeav/{RUNNER_NAME}",
        "/data/local/tmp/edgeav/m.pte", "--threads", "2", "--warmup", "3", "--runs", "7",
        "--etdump", "/data/local/tmp/edgeav/run.etdump", "/data/local/tmp/edgeav/input0.f32"]
    assert AdbCommands().shell("echo", "a b; rm -rf /")[-1] == "'a b; rm -rf /'"  # one argument, not a command
    assert AdbCommands().devices() == ["adb", "devices"]


def test_runner_output_and_device_list_parse() -> None:
    out = parse_runner_output("noise\nedgeav_runner threads 1\nedgeav_runner load_ms 12.5\n"
                              "edgeav_runner run_ms 1 4.5\nedgeav_runner run_ms 0 4.0\nedgeav_runner etdump /d/r.etdump\n")
    assert (out.threads, out.load_ms, out.run_ms, out.etdump) == (1, 12.5, (4.0, 4.5), "/d/r.etdump")
    with pytest.raises(DeviceError, match="no timed runs"):
        parse_runner_output("edgeav_runner: error: cannot load method 'forward'\n")
    listed = "List of devices attached\nR5CT1\tdevice\nemulator-5554\tunauthorized\n\n"
    assert parse_devices(listed) == [("R5CT1", "device"), ("emulator-5554", "unauthorized")]


@pytest.mark.parametrize(("cpus", "threads", "mask"), [(8, 1, "80"), (8, 2, "c0"), (8, 4, "f0"), (4, 9, "f")])
def test_cpu_mask_takes_the_highest_numbered_cores(cpus: int, threads: int, mask: str) -> None:
    assert cpu_mask(cpus, threads) == mask


def _device(tmp_path: Path, listing: str, serial: str | None = None) -> TransportDevice:
    (tmp_path / RUNNER_NAME).write_text("")
    return adb_device("adb", serial=serial, runner_dir=tmp_path,
                      execute=lambda cmd: Completed(0, listing if cmd[-1] == "devices" else "", ""))


def test_skip_reasons_name_the_fix(tmp_path: Path) -> None:
    assert "no edgeav_et_runner" in adb_device("adb", runner_dir=tmp_path / "none",
                                               execute=lambda c: Completed(0, "", "")).skip_reason()
    assert "0 phones ready" in _device(tmp_path, "List of devices attached\n").skip_reason()
    two = "List of devices attached\nA\tdevice\nB\tdevice\n"
    assert "adb:SERIAL" in _device(tmp_path, two).skip_reason()
    assert "unauthorized" in _device(tmp_path, "List of devices attached\nA\tunauthorized\n", "A").skip_reason()
    assert _device(tmp_path, "List of devices attached\nA\tdevice\n").skip_reason() is None


def test_device_names_resolve() -> None:
    assert get_device("adb:XYZ").transport.serial == "XYZ" and get_device("host").name == "host"
    with pytest.raises(UsageError, match="host, adb"):
        get_device("phone")


def _fake_phone(phone: Path):
    """An Execute that plays adb on this machine: remote paths live under ``phone``."""
    def local(path: str) -> str:
        return str(phone / path.lstrip("/"))

    def execute(cmd: list[str]) -> Completed:
        args = cmd[cmd.index("-s") + 2:] if "-s" in cmd else cmd[1:]
        if args == ["devices"]:
            return Completed(0, "List of devices attached\nFAKE\tdevice\n", "")
        verb, rest = args[0], args[1:]
        if verb == "push":
            Path(local(rest[1])).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(rest[0], local(rest[1]))
            return Completed(0, "", "")
        if verb == "pull":
            shutil.copy(local(rest[0]), rest[1])
            return Completed(0, "", "")
        argv = [shlex.split(a)[0] for a in rest]
        if argv[0] == "nproc":
            return Completed(0, "2\n", "")
        if argv[0] == "env":  # env LD_LIBRARY_PATH=... taskset MASK runner args: run the runner here
            runner_args = [local(a) if a.startswith("/data/") else a for a in argv[4:]]
            proc = subprocess.run(runner_args, capture_output=True, text=True, check=False)
            return Completed(proc.returncode, proc.stdout, proc.stderr)
        if argv[0] == "mkdir":
            Path(local(argv[-1])).mkdir(parents=True, exist_ok=True)
        if argv[0] == "rm":
            for name in argv[2:]:
                Path(local(name)).unlink(missing_ok=True)
        return Completed(0, "", "")

    return execute


@pytest.fixture(scope="session")
def host_runner(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """bench/devices/et_runner built for this machine against the wheel's SDK (the phone build differs only in toolchain)."""
    if not (shutil.which("cmake") and shutil.which("g++")):
        pytest.skip("no cmake/g++ to build the ExecuTorch runner")
    import executorch

    sdk = Path(list(executorch.__path__)[0])  # a namespace package: no __file__
    build = tmp_path_factory.mktemp("runner")
    env = {**os.environ, "CXXFLAGS": "-w"}
    for cmd in (["cmake", "-S", str(RUNNER_SRC), "-B", str(build), f"-DEXECUTORCH_ROOT={sdk}"],
                ["cmake", "--build", str(build)]):
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        if proc.returncode != 0:
            pytest.fail(f"runner build failed: {proc.stderr[-2000:]}")
    return build


@pytest.mark.slow
def test_adb_flow_times_and_profiles_a_pte_end_to_end(tiny_artifacts, tiny_registry, host_runner, tmp_path) -> None:
    device = adb_device("adb:FAKE", serial="FAKE", runner_dir=host_runner, execute=_fake_phone(tmp_path / "phone"))
    target = resolve_target(tiny_artifacts["executorch"])
    m = device.measure(target, RunSettings(threads=1, runs=4, warmup=2, per_op=True))
    assert m.error == "" and m.stats.runs == 4 and m.stats.median_ms > 0
    assert m.profile is not None and any(r.delegated for r in m.profile.records)
    assert m.profile.runs == 4 and "CPU mask 2 of 2" in m.notes[0]
    assert not list((tmp_path / "phone" / "data" / "local" / "tmp" / "edgeav").glob("*.pte"))  # cleaned up


@pytest.mark.slow
def test_adb_device_refuses_formats_its_runner_cannot_run(tiny_artifacts, tiny_registry, tmp_path) -> None:
    device = _device(tmp_path, "List of devices attached\nA\tdevice\n")
    assert "benchmark_model" in device.unsupported(resolve_target(tiny_artifacts["litert"]))
