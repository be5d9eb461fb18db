import pytest
import torch
from torch import nn

from bench.cost import OpCost, op_costs
from bench.estimate import class_floor_ms, estimate
from bench.profiles import (
    PROFILES,
    CoreCluster,
    DeviceProfile,
    get_profile,
    host_profile,
    parse_cpuinfo,
)
from edgeav.errors import UsageError

TOY = DeviceProfile(key="toy", title="toy", clusters=(CoreCluster("big", 1, 2.0, 16, 64), CoreCluster("little", 2, 1.0, 8, 32)),
                    dram_gbs=10.0, source="test")


def test_peak_sums_the_fastest_cores_for_the_thread_count() -> None:
    assert TOY.peak_gops("fp32", 1) == 32.0
    assert TOY.peak_gops("fp32", 3) == 32.0 + 8.0 + 8.0
    assert TOY.peak_gops("int8", 1) == 128.0


def test_roofline_takes_the_larger_of_compute_and_memory_plus_overhead() -> None:
    compute_bound = OpCost("convolution", flops=32e9, bytes=1e6)  # 1 s of compute at 32 GFLOP/s
    memory_bound = OpCost("add", flops=1e6, bytes=10e9)  # 1 s of traffic at 10 GB/s
    e = estimate([compute_bound, memory_bound], TOY, threads=1, overhead_ms=0.5)
    assert e.ms == pytest.approx(2000.0 + 1.0, rel=1e-3)
    assert e.memory_bound_ops == 1 and e.ops == 2


def test_int8_uses_the_dot_product_peak_and_a_quarter_of_the_bytes() -> None:
    op = OpCost("convolution", flops=128e9, bytes=40e9)
    assert estimate([op], TOY, 1, "int8", overhead_ms=0).ms == pytest.approx(1000.0)


def test_snapdragon_profiles_carry_the_anchor_figures() -> None:
    elite = get_profile("sd8elite")
    assert elite.cores == 8 and elite.dram_gbs == 84.8
    assert elite.peak_gops("fp32", 8) == pytest.approx(954, rel=0.01)
    assert get_profile("sd8gen2").peak_gops("fp32", 1) == pytest.approx(102, rel=0.01)
    assert set(PROFILES) == {"sd8gen2", "sd8gen3", "sd8elite"}
    with pytest.raises(UsageError, match="choose one of"):
        get_profile("sd888")


def test_conv_costs_are_two_macs_per_output_and_views_cost_nothing() -> None:
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.Flatten())
    costs = op_costs(model, (torch.zeros(1, 3, 16, 16),))
    assert [c.op for c in costs] == ["convolution"]
    assert costs[0].flops == 2 * 8 * 16 * 16 * 3 * 3 * 3
    assert costs[0].bytes == 4 * (3 * 16 * 16 + 8 * 3 * 3 * 3 + 8 * 16 * 16)


def test_ops_are_classed_by_their_kernel_kind() -> None:
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.Conv2d(8, 8, 3, padding=1, groups=8),
                          nn.Conv2d(8, 4, 1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 8 * 8, 2))
    kinds = [(c.op, c.kind) for c in op_costs(model, (torch.zeros(1, 3, 8, 8),))]
    assert kinds == [("convolution", "conv"), ("convolution", "depthwise"), ("convolution", "gemm"),
                     ("relu", "elementwise"), ("addmm", "gemm")]


def test_class_floors_add_up_to_the_floor_without_overhead() -> None:
    costs = [OpCost("convolution", 32e9, 1e6, "conv"), OpCost("add", 1e6, 10e9, "elementwise")]
    floors = class_floor_ms(costs, TOY, 1)
    assert floors["conv"] == pytest.approx(1000.0) and floors["elementwise"] == pytest.approx(1000.0)
    assert sum(floors.values()) == pytest.approx(estimate(costs, TOY, 1, overhead_ms=0).ms)


CPUINFO = "processor\t: 0\nmodel name\t: Test Xeon\ncpu MHz\t\t: 2500.000\nflags\t\t: {flags}\n\nprocessor\t: 1\n"


@pytest.mark.parametrize(("flags", "fp32", "int8"), [
    ("sse2 avx fma avx2 avx512f avx512_vnni", 64, 256),
    ("sse2 avx fma avx2 avx512f", 64, 128),
    ("sse2 avx fma avx2", 32, 64),
    ("sse2", 8, 16),
])
def test_host_peak_follows_the_widest_vector_isa_and_the_reported_clock(flags, fp32, int8) -> None:
    host = host_profile(dram_gbs=10.0, cpuinfo=parse_cpuinfo(CPUINFO.format(flags=flags)))
    assert host.cores == 2 and host.dram_gbs == 10.0
    assert host.peak_gops("fp32", 1) == pytest.approx(fp32 * 2.5)
    assert host.peak_gops("int8", 2) == pytest.approx(2 * int8 * 2.5)


def test_unreadable_cpuinfo_names_the_fix() -> None:
    with pytest.raises(UsageError, match="x86 Linux"):
        parse_cpuinfo("processor : 0\nBogoMIPS : 48.00\n")
