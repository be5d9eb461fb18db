"""The emulated ARM device: qemu-user + a Debian arm64 sysroot + aarch64 wheels + a cross-built runner.

``setup`` (setup.py, the step table) builds it into a cache folder; ``toolchain`` (toolchain.py) is what
the measuring code uses. shared/design/arm.md records why each piece is the way it is.
"""
from bench.devices.arm.cpus import CPUS, DEFAULT_CPU, ArmCpu, arm_cpu
from bench.devices.arm.layout import ArmLayout, arm_home
from bench.devices.arm.toolchain import MARKER_FD, SETUP_HINT, ArmToolchain, missing, toolchain

__all__ = ["CPUS", "DEFAULT_CPU", "MARKER_FD", "SETUP_HINT", "ArmCpu", "ArmLayout", "ArmToolchain", "arm_cpu",
           "arm_home", "missing", "toolchain"]
