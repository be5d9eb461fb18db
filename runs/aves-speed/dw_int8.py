import torch
from torch import nn
from export_targets.executorch.probe import probe_layer
from edgeav.models.layers.depthwise_rows import RowSplitDepthwiseConv2d
torch.manual_seed(0)
for size in (28, 14):
    conv = nn.Conv2d(512, 512, 7, padding=3, groups=512).eval()
    x = torch.randn(1, 512, size, size)
    for name, m in (("7x7", conv), ("split", RowSplitDepthwiseConv2d(conv).eval())):
        c = probe_layer(m, x)
        print(size, name, c, flush=True)
