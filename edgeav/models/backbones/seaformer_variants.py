"""SeaFormer's upstream variants (Tiny, Small, Base, Large) as configs, for the paper's backbone comparison."""
from __future__ import annotations

from edgeav.models.backbones.seaformer import SEAFORMER_L, SeaFormerConfig

# The upstream ImageNet/ADE20K variants (fudan-zvg/SeaFormer seaformer-seg/local_configs/seaformer/
# seaformer_{tiny,small,base}.py, commit 10936dc). Their configs leave mlp_ratios at the backbone
# default [2, 4] and attn_ratio at 2. Tiny/Base are also in shared/design/models.md §1.3.
SEAFORMER_TINY = SeaFormerConfig(
    smb=(
        ((3, 1, 16, 1), (3, 4, 16, 2), (3, 3, 16, 1)),
        ((5, 3, 32, 2), (5, 3, 32, 1)),
        ((3, 3, 64, 2), (3, 3, 64, 1)),
        ((5, 3, 128, 2),),
        ((3, 6, 160, 2),),
    ),
    channels=(16, 16, 32, 64, 128, 160),
    emb_dims=(128, 160),
    key_dims=(16, 24),
    depths=(2, 2),
    mlp_ratios=(2, 4),
    num_heads=4,
)
SEAFORMER_SMALL = SeaFormerConfig(
    smb=(
        ((3, 1, 16, 1), (3, 4, 24, 2), (3, 3, 24, 1)),
        ((5, 3, 48, 2), (5, 3, 48, 1)),
        ((3, 3, 96, 2), (3, 3, 96, 1)),
        ((5, 4, 160, 2),),
        ((3, 6, 192, 2),),
    ),
    channels=(16, 24, 48, 96, 160, 192),
    emb_dims=(160, 192),
    key_dims=(16, 24),
    depths=(3, 3),
    mlp_ratios=(2, 4),
    num_heads=6,
)
SEAFORMER_BASE = SeaFormerConfig(
    smb=(
        ((3, 1, 16, 1), (3, 4, 32, 2), (3, 3, 32, 1)),
        ((5, 3, 64, 2), (5, 3, 64, 1)),
        ((3, 3, 128, 2), (3, 3, 128, 1)),
        ((5, 4, 192, 2),),
        ((3, 6, 256, 2),),
    ),
    channels=(16, 32, 64, 128, 192, 256),
    emb_dims=(192, 256),
    key_dims=(16, 24),
    depths=(4, 4),
    mlp_ratios=(2, 4),
    num_heads=8,
)
SEAFORMER_LARGE = SEAFORMER_L
SEAFORMER_VARIANTS: dict[str, SeaFormerConfig] = {
    "tiny": SEAFORMER_TINY, "small": SEAFORMER_SMALL, "base": SEAFORMER_BASE, "large": SEAFORMER_LARGE,
}
"""The upstream variants by name (backbone parameters without a head, measured on the upstream code in
models.md §1.3: 1.62 / 3.91 / 8.49 / 13.73 M)."""
