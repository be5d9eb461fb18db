"""The one measure flow over a transport, with an in-memory transport and program (no adb, no qemu)."""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest

from bench.devices.base import Measurement, RunSettings
from bench.devices.measure import Job, JobResult, Program, Push, TransportDevice, run_job
from bench.devices.transport import Completed, Transport
from bench.targets import BenchTarget
from edgeav.errors import DeviceError


class MemoryTransport(Transport):
    """A device whose files are a dict; ``run`` 'executes' by calling ``program`` on those files."""

    via = "memory"

    def __init__(self, program: Callable[[Sequence[str], dict[str, bytes]], Completed], reason: str | None = None):
        self.files: dict[str, bytes] = {}
        self.program, self.reason, self.log, self.closed = program, reason, [], 0

    def skip_reason(self) -> str | None:
        return self.reason

    def open(self) -> None:
        self.log.append("open")

    def path(self, name: str) -> str:
        return f"/dev/work/{name}"

    def push(self, local: Path, name: str) -> None:
        self.files[self.path(name)] = local.read_bytes()

    def pull(self, name: str, local: Path) -> None:
        if self.path(name) not in self.files:
            raise DeviceError(f"memory: no {name}")
        local.write_bytes(self.files[self.path(name)])

    def run(self, argv: Sequence[str], env: Mapping[str, str], cpus: int = 1) -> Completed:
        self.log.append(("run", tuple(argv), dict(env), cpus))
        return self.program(argv, self.files)

    def remove(self, names: Sequence[str]) -> None:
        for n in names:
            self.files.pop(self.path(n), None)

    def close(self) -> None:
        self.closed += 1


def _doubler(argv: Sequence[str], files: dict[str, bytes]) -> Completed:
    """Reads argv[1], writes it twice to argv[2]; fails when the input says 'fail'."""
    data = files[argv[1]]
    if data == b"fail":
        return Completed(3, "", "doubler: cannot double\n")
    files[argv[2]] = data * 2
    return Completed(0, f"edgeav_test doubled {len(data)}\n", "")


@pytest.fixture
def job(tmp_path: Path) -> Job:
    (tmp_path / "in.bin").write_bytes(b"ab")
    (tmp_path / "tool").write_bytes(b"#tool")
    return Job(("/dev/work/tool", "/dev/work/in.bin", "/dev/work/out.bin"), "double the input",
               (Push(tmp_path / "tool", "tool", keep=True), Push(tmp_path / "in.bin", "in.bin")), ("out.bin",),
               {"SEED": "0"}, cpus=2)


def test_run_job_pushes_runs_pulls_and_cleans_up_all_but_the_kept_files(job: Job, tmp_path: Path) -> None:
    t = MemoryTransport(_doubler)
    out = tmp_path / "pulled"
    out.mkdir()
    result = run_job(t, job, out)
    assert result.completed.stdout == "edgeav_test doubled 2\n"
    assert result.pulled["out.bin"].read_bytes() == b"abab"
    assert t.log[0] == "open" and t.log[1] == ("run", job.argv, {"SEED": "0"}, 2)
    assert set(t.files) == {"/dev/work/tool"} and t.closed == 1  # the kept runner stays, inputs/outputs go


def test_a_failing_program_is_one_line_naming_the_step_and_still_cleans_up(job: Job, tmp_path: Path) -> None:
    (tmp_path / "in.bin").write_bytes(b"fail")
    t = MemoryTransport(_doubler)
    with pytest.raises(DeviceError, match=r"^memory: could not double the input \(doubler: cannot double\); "
                                          r"command: /dev/work/tool"):
        run_job(t, job, tmp_path)
    assert set(t.files) == {"/dev/work/tool"} and t.closed == 1


class EchoProgram(Program):
    def job(self, target, settings, folder: Path, path) -> Job:
        (folder / "in.bin").write_bytes(target.label.encode())
        return Job((path("tool"), path("in.bin"), path("out.bin")), "echo", (Push(folder / "in.bin", "in.bin"),),
                   ("out.bin",))

    def read(self, target, settings, result: JobResult, device: str) -> Measurement:
        assert result.pulled["out.bin"].read_bytes() == target.label.encode() * 2
        return Measurement(target, device, settings.threads, None, notes=("read",))


def _target(label: str, fmt: str = "executorch") -> BenchTarget:
    return BenchTarget(label=label, format=fmt, model="tinyav", config="small", precision="fp32")


def test_transport_device_measures_refuses_and_records_errors() -> None:
    device = TransportDevice(name="mem", transport=MemoryTransport(_doubler), programs={"executorch": EchoProgram()},
                             refuse=lambda t: f"{t.label}: mem runs .pte only")
    device.transport.files["/dev/work/tool"] = b""
    assert device.measure(_target("m.pte"), RunSettings()).notes == ("read",)
    assert device.unsupported(_target("m.tflite", "litert")) == "m.tflite: mem runs .pte only"
    failed = device.measure(_target("fail"), RunSettings())  # the program exits 3: an error, not a crash
    assert failed.error.startswith("memory: could not echo") and not failed.ok


def test_skip_reason_comes_from_programs_first_then_the_transport() -> None:
    class Unbuilt(EchoProgram):
        def skip_reason(self) -> str | None:
            return "no runner; build it"

    both = TransportDevice(name="m", transport=MemoryTransport(_doubler, "no phone"), programs={"executorch": Unbuilt()})
    assert both.skip_reason() == "no runner; build it"
    assert both.measure(_target("m.pte"), RunSettings()).error == "no runner; build it"
    phone = TransportDevice(name="m", transport=MemoryTransport(_doubler, "no phone"), programs={"executorch": EchoProgram()})
    assert phone.skip_reason() == "no phone"
