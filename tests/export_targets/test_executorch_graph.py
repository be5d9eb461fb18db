"""Graph-level pieces of the ExecuTorch target: no-op expand removal and where portable ops come from."""
from __future__ import annotations

import torch
from torch import nn

from export_targets.executorch.lower import node_source
from export_targets.executorch.passes import PASSES, drop_noop_expands, run_passes


class _Queries(nn.Module):
    """Learnable queries broadcast to the batch (a no-op at batch 1) and a real broadcast (1 → 3 rows)."""

    def __init__(self) -> None:
        super().__init__()
        self.queries = nn.Parameter(torch.randn(1, 4, 8))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        queries = self.queries.expand(x.shape[0], -1, -1)
        rows = x[:, :1].expand(-1, 3, -1)
        return queries.sum(1) + rows.sum(1)


def _expands(gm: torch.fx.GraphModule) -> list[torch.fx.Node]:
    return [n for n in gm.graph.nodes if n.op == "call_function" and n.target is torch.ops.aten.expand.default]


def test_noop_expands_are_dropped_and_real_broadcasts_kept() -> None:
    model, x = _Queries().eval(), torch.randn(1, 2, 8)
    exported = torch.export.export(model, (x,))
    assert len(_expands(exported.graph_module)) == 2
    assert drop_noop_expands(exported.graph_module) == 1
    (kept,) = _expands(exported.graph_module)
    assert tuple(kept.meta["val"].shape) == (1, 3, 8)
    torch.testing.assert_close(exported.module()(x), model(x))


def test_lowering_runs_every_pass_and_counts_only_what_changed() -> None:
    model, x = _Queries().eval(), torch.randn(1, 2, 8)
    exported = torch.export.export(model, (x,))
    assert drop_noop_expands in PASSES
    assert run_passes(exported.graph_module) == {"drop_noop_expands": 1}
    assert run_passes(exported.graph_module) == {}  # nothing left to drop


def test_node_source_names_the_module_and_the_line() -> None:
    exported = torch.export.export(_Queries().eval(), (torch.randn(1, 2, 8),))
    first = _expands(exported.graph_module)[0]
    where = node_source(first)
    assert where.startswith("(_Queries) @ ") and "test_executorch_graph.py" in where and "in forward" in where
