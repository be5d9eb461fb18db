"""The ARM CPU models the emulated device offers, and the fake ``/proc/cpuinfo`` each one gets.

QEMU 7.2 linux-user does not synthesise ``/proc/cpuinfo`` for aarch64, so a guest reads the host's x86 file;
pytorch/cpuinfo (inside onnxruntime and XNNPACK) then finds no ARM core and onnxruntime segfaults on import
(shared/design/arm.md). Every model gets a file naming its own MIDR (implementer, part), so XNNPACK's
micro-architecture choice matches the ``-cpu`` qemu emulates, and one core, so no library sizes a thread
pool above the one thread every count is made with.
"""
from __future__ import annotations

from dataclasses import dataclass

from edgeav.errors import UsageError

_V80 = "fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid"
_V82 = f"{_V80} atomics fphp asimdhp asimdrdm lrcpc dcpop asimddp"


@dataclass(frozen=True)
class ArmCpu:
    """One ``qemu-aarch64 -cpu`` model and what its fake cpuinfo says about it."""

    name: str  # qemu's model name
    implementer: int
    part: int
    variant: int
    revision: int
    features: str
    note: str

    @property
    def midr(self) -> int:
        """MIDR_EL1 as Linux shows it in /sys/.../regs/identification/midr_el1 (architecture field 0xf)."""
        return (self.implementer << 24) | (self.variant << 20) | (0xF << 16) | (self.part << 4) | self.revision

    def cpuinfo(self, cores: int = 1) -> str:
        """The text of ``/proc/cpuinfo`` for ``cores`` identical cores of this model."""
        return "".join(
            f"processor\t: {i}\nBogoMIPS\t: 38.40\nFeatures\t: {self.features}\n"
            f"CPU implementer\t: 0x{self.implementer:02x}\nCPU architecture: 8\nCPU variant\t: 0x{self.variant:x}\n"
            f"CPU part\t: 0x{self.part:03x}\nCPU revision\t: {self.revision}\n\n"
            for i in range(cores))


CPUS = {c.name: c for c in (
    ArmCpu("cortex-a76", 0x41, 0xD0B, 0x4, 1, _V82, "big core of Snapdragon 855/865/888-class phones (default)"),
    ArmCpu("neoverse-n1", 0x41, 0xD0C, 0x3, 1, _V82, "server sibling of the A76 (AWS Graviton2)"),
    ArmCpu("cortex-a72", 0x41, 0xD08, 0x0, 3, _V80, "ARMv8.0 big core (Raspberry Pi 4, older phones)"),
    ArmCpu("max", 0x00, 0x051, 0x0, 0, f"{_V82} jscvt fcma sha3 sm3 sm4 sha512 asimdfhm i8mm bf16 sve sve2",
           "every feature qemu emulates (XNNPACK picks other kernels: not a real core)"),
)}
DEFAULT_CPU = "cortex-a76"


def arm_cpu(name: str) -> ArmCpu:
    """The CPU model called ``name``; UsageError naming the choices otherwise."""
    try:
        return CPUS[name]
    except KeyError:
        raise UsageError(f"unknown ARM CPU model '{name}'; choose one of: {', '.join(CPUS)}") from None
