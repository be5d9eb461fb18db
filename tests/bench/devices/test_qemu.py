"""The ARM device's flow without qemu: the qemu transport's command line and environment, the runner's and
plugin's protocols read into instruction counts, the guest script's job protocol (run on this host)."""
from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytest

from bench.devices import qemu
from bench.devices.arm import ArmToolchain
from bench.devices.base import RunSettings
from bench.devices.qemu import GUEST_SCRIPT, QemuTransport, arm_device
from bench.devices.transport import Completed
from bench.targets import BenchTarget


def _toolchain(home: Path) -> ArmToolchain:
    return ArmToolchain(cpu="cortex-a76", home=home, qemu=Path("/usr/bin/qemu-aarch64"), qemu_version="7.2.22",
                        sysroot=home / "sysroot", prefix=home / "views" / "cortex-a76",
                        python=home / "sysroot/usr/bin/python3.11", site=home / "site",
                        runner=home / "runner/edgeav_et_runner", runner_lib=home / "et-sdk/lib",
                        plugin=home / "plugins/libedgeav_insns.so", wheels=())


# One execution as the runner reports it: events in end order with the plugin's (depth, count) per region.
EXECUTION = [("DELEGATE_CALL", 1, 700), ("native_call_mean.out", 2, 40), ("OPERATOR_CALL", 1, 45),
             ("DELEGATE_CALL", 1, 200), ("Method::execute", 0, 1000)]


class FakeQemu:
    """Plays qemu-aarch64 + the ARM runner: checks the command line, writes the output and the plugin log."""

    def __init__(self, tc: ArmToolchain, shape: tuple[int, ...]) -> None:
        self.tc, self.shape, self.calls = tc, shape, []

    def __call__(self, cmd: list[str], env: Mapping[str, str]) -> Completed:
        self.calls.append((cmd, dict(env)))
        tc = self.tc
        assert cmd[:5] == [str(tc.qemu), "-cpu", "cortex-a76", "-L", str(tc.prefix)]
        assert cmd[5:9] == ["-plugin", str(tc.plugin), "-d", "plugin"] and cmd[9] == "-D"
        log, program, args = Path(cmd[10]), cmd[11], cmd[12:]
        assert program == str(tc.runner) and "--markers" in args
        warmup, runs = int(args[args.index("--warmup") + 1]), int(args[args.index("--runs") + 1])
        np.full(self.shape, 0.25, dtype="<f4").tofile(args[args.index("--output") + 1])
        events = [("Program::load_method", 0, 5000)] + EXECUTION * (warmup + runs)
        log.write_text(f"marker 1 insns 9000 delta 9000\n"
                       + "".join(f"region {d} insns {n}\n" for _, d, n in events)
                       + f"marker 2 insns {9000 + 1003 * runs} delta {1003 * runs}\ntotal insns 99999\n")
        out = "edgeav_runner threads 1\n" + "".join(f"edgeav_runner run_ms {i} 5.0\n" for i in range(runs))
        return Completed(0, out + "".join(f"edgeav_runner event {name}\n" for name, _, _ in events), "")


@pytest.fixture
def fake_arm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_registry):
    tc = _toolchain(tmp_path / "arm")
    monkeypatch.setattr(QemuTransport, "toolchain", lambda self: tc)
    monkeypatch.setattr(QemuTransport, "skip_reason", lambda self: None)
    seen = {}

    def parity(target, outputs):
        seen["outputs"] = outputs
        return ()

    monkeypatch.setattr(qemu, "device_parity", parity)
    pte = tmp_path / "tiny.pte"
    pte.write_bytes(b"program")
    target = BenchTarget(label="tiny.pte", format="executorch", model="tinyav", config="small", precision="fp32",
                         path=pte)
    fake = FakeQemu(tc, (1, 1, 64, 64))
    return arm_device("arm:cortex-a76", "cortex-a76", execute=fake), target, fake, seen


def test_a_pte_is_counted_per_inference_and_per_op_from_the_runner_and_plugin_lines(fake_arm) -> None:
    device, target, fake, seen = fake_arm
    m = device.measure(target, RunSettings(runs=2, warmup=1, per_op=True))
    assert m.error == "" and m.ok and m.stats is None  # counted, never timed
    c = m.instructions
    assert (c.per_inference, c.runs, c.cpu) == (1003, 2, "cortex-a76")
    ops = {r.name: (r.instructions, r.calls, r.backend) for r in c.ops}
    # OPERATOR_CALL wraps the kernel call: counted once, as the kernel; delegate calls numbered in order.
    assert ops == {"DELEGATE_CALL @d0": (700, 1, "XNNPACK"), "native_call_mean.out": (40, 1, "portable"),
                   "DELEGATE_CALL @d1": (200, 1, "XNNPACK")}
    assert [r.name for r in c.top(1)] == ["DELEGATE_CALL @d0"]
    assert seen["outputs"][0].shape == (1, 1, 64, 64) and float(seen["outputs"][0].max()) == 0.25
    cmd, env = fake.calls[0]
    assert env["PYTHONHASHSEED"] == "0" and "LD_LIBRARY_PATH" not in env  # the host's environment stays out
    assert any("repeat exactly" in n for n in m.notes)
    work = Path(cmd[cmd.index("--output") + 1]).parent
    assert not work.exists()  # the work folder is removed after the run


def test_without_per_op_only_the_whole_inference_is_reported(fake_arm) -> None:
    device, target, _, _ = fake_arm
    m = device.measure(target, RunSettings(runs=1, warmup=1))
    assert m.instructions.per_inference == 1003 and m.instructions.ops == ()


def test_a_runner_that_never_reaches_its_markers_is_an_error_naming_the_fix(fake_arm, monkeypatch) -> None:
    device, target, fake, _ = fake_arm

    def no_plugin(cmd, env):
        Path(cmd[10]).write_text("total insns 123\n")
        np.zeros((1, 1, 64, 64), dtype="<f4").tofile(cmd[cmd.index("--output") + 1])
        return Completed(0, "edgeav_runner threads 1\nedgeav_runner run_ms 0 1.0\n", "plugin: cannot load\n")

    device.transport.execute = no_plugin
    m = device.measure(target, RunSettings(runs=1, warmup=1))
    assert not m.ok and "no start/end markers" in m.error and "edgeav device setup arm" in m.error
    assert m.error.endswith("(the program's last stderr line: plugin: cannot load)")

    def crashed(cmd, env):
        return Completed(0, "edgeav_runner threads 1\nedgeav_runner run_ms 0 1.0\n", "XNNPACK: out of memory\n")

    device.transport.execute = crashed
    m = device.measure(target, RunSettings(runs=1, warmup=1))
    assert m.error == ("qemu: the guest program wrote no out.bin; it stopped before its last run "
                       "(the program's last stderr line: XNNPACK: out of memory)")


def test_other_formats_are_refused_with_what_the_device_runs(fake_arm) -> None:
    device, target, _, _ = fake_arm
    coreml = BenchTarget(label="m.mlpackage", format="coreml", model="tinyav", config="small", precision="fp32")
    assert "runs .pte, .tflite and .onnx" in device.unsupported(coreml)


def test_the_guest_script_runs_an_onnx_job_between_markers_and_writes_the_outputs(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, tmp_path / "m.onnx")
    np.savez(tmp_path / "feed.npz", x=np.array([[-1.0, 2.0, -3.0, 4.0]], dtype=np.float32))
    job = {"format": "onnx", "model": str(tmp_path / "m.onnx"), "feed": str(tmp_path / "feed.npz"), "warmup": 1,
           "runs": 2, "threads": 1, "out": str(tmp_path / "out.npz")}
    (tmp_path / "job.json").write_text(json.dumps(job))
    proc = subprocess.run([sys.executable, str(GUEST_SCRIPT), str(tmp_path / "job.json")], capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "edgeav_guest done"
    assert np.load(tmp_path / "out.npz")["0"].tolist() == [[0.0, 2.0, 0.0, 4.0]]
