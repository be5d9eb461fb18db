"""`edgeav device setup|info arm`: build the emulated ARM device into its cache folder, or say what it uses.

``setup`` runs the step table of bench/devices/arm/setup.py (idempotent: a second run only checks
stamps) and prints each step with its time; ``info`` prints the qemu version, the CPU model and its note,
the wheel versions and the paths, or one line naming ``edgeav device setup arm`` when it is not set up.
"""
from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DeviceVerbs:
    """What ``setup`` and ``info`` do for one device kind."""

    setup: Callable[[argparse.Namespace], int]
    info: Callable[[argparse.Namespace], int]


def _setup_arm(args: argparse.Namespace) -> int:
    from bench.devices.arm.setup import setup

    start = time.perf_counter()
    tc, results = setup(args.home, force=args.force)
    ran = sum(r.seconds for r in results if r.status == "ran")
    print(f"ARM device ready in {time.perf_counter() - start:.1f} s ({ran:.1f} s in steps that ran): {tc.home}")
    return 0


def _info_arm(args: argparse.Namespace) -> int:
    from bench.devices.arm import CPUS, toolchain

    info = toolchain(args.cpu, args.home).describe()
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print(f"cpu        {info['cpu']}  ({info['cpu_note']}; choices: {', '.join(CPUS)})")
    print(f"qemu       {info['qemu']}  {info['qemu_version']}")
    print(f"wheels     {', '.join(f'{k}=={v}' for k, v in info['wheels'].items())}")
    for key in ("sysroot", "prefix", "python", "runner", "plugin", "home"):
        print(f"{key:<10} {info[key]}")
    return 0


DEVICES = {"arm": DeviceVerbs(setup=_setup_arm, info=_info_arm)}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("device", help="set up or describe a benchmark device (arm: qemu-user aarch64)",
                       description="Set up or describe a benchmark device. arm: qemu-user + a Debian arm64 "
                                   "sysroot + aarch64 wheels + the cross-built ExecuTorch runner, cached in "
                                   "$EDGEAV_ARM_HOME or ~/.cache/edgeav/arm.")
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    setup = actions.add_parser("setup", help="install/build what the device needs (idempotent)")
    setup.add_argument("kind", choices=sorted(DEVICES))
    setup.add_argument("--force", action="store_true", help="re-run every step, ignoring the stamps")
    info = actions.add_parser("info", help="print what the device uses")
    info.add_argument("kind", choices=sorted(DEVICES))
    info.add_argument("--cpu", default="cortex-a76", help="qemu CPU model (cortex-a76, neoverse-n1, cortex-a72, max)")
    info.add_argument("--json", action="store_true", help="print JSON")
    for q in (setup, info):
        q.add_argument("--home", type=Path, help="cache folder (default: $EDGEAV_ARM_HOME or ~/.cache/edgeav/arm)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    verbs = DEVICES[args.kind]
    return verbs.setup(args) if args.action == "setup" else verbs.info(args)
