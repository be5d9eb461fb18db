"""AVESFormer's own export form: its SepConv with the depthwise weight untied per level (for int8).

The deformable attention's matmul form is the shared layer's (``layers/deformable.py``), registered with
the generic rewrites (``deformable_attention_to_matmul``).
"""
from __future__ import annotations

import copy

from torch import nn

from edgeav.models.avesformer.model import SeparableConv
from edgeav.models.rewrites import Rewrite, register_rewrite


class SeparableConvPerLevel(SeparableConv):
    """:class:`SeparableConv` with its depthwise weights copied once per level (same values, same outputs).

    For int8 on XNNPACK: one quantized depthwise weight feeding several convolutions fails to compile
    (``Failed to create depthwise convolution node … xnn_status_invalid_parameter`` at load time), while the
    same convolutions with their own weights compile. Costs (levels − 1) × hidden × k² parameters.
    """

    def __init__(self, shared: SeparableConv) -> None:
        nn.Module.__init__(self)
        self.levels = shared.levels
        self.pwconv1, self.pwconv2 = shared.pwconv1, shared.pwconv2
        self.dwconvs = nn.ModuleList(copy.deepcopy(shared.dwconv) for _ in range(shared.levels))

    def level_convs(self) -> list[nn.Module]:
        return list(self.dwconvs)


def _untie_level_depthwise_conv(module: nn.Module) -> nn.Module | None:
    if isinstance(module, SeparableConv) and not isinstance(module, SeparableConvPerLevel):
        return SeparableConvPerLevel(module)
    return None


UNTIE_LEVEL_DEPTHWISE_CONV = register_rewrite(Rewrite(
    name="untie_level_depthwise_conv",
    summary="AVESFormer's SepConv depthwise weight, shared by the three levels -> one copy per level; a "
    "quantized depthwise weight feeding several convolutions fails XNNPACK's compile (invalid parameter)",
    replace=_untie_level_depthwise_conv,
))
