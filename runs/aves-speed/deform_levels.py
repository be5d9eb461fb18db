import torch, torch.nn.functional as F
from edgeav.models.layers.deformable import MSDeformSelfAttentionMatmul, _tent
class PerLevel(MSDeformSelfAttentionMatmul):
    def forward(self, query, value, level_shapes):
        b, n, _ = query.shape
        h = self.heads
        s = self.sampler
        offsets, logits = self.sampling_offsets(query), self.attention_weights(query)
        p, lp = s.points, s.levels * s.points
        weights = logits.reshape(b, n, h, lp).softmax(-1).permute(0, 2, 1, 3).reshape(b * h * n, lp, 1)
        block = h * p
        nv = value.shape[1]
        values = self.value_proj(value).reshape(b, nv, h, self.dim // h).permute(0, 2, 1, 3).reshape(b * h, nv, -1)
        out, start = None, 0
        for level, (hh, ww) in enumerate(s.level_shapes):
            x = s._pixel_coordinate(offsets, level * block, getattr(s, f"base_x{level}"))
            y = s._pixel_coordinate(offsets, (s.levels + level) * block, getattr(s, f"base_y{level}"))
            w_x = _tent(F.linear(x.reshape(b * h * n, p, 1), getattr(s, f"ones_x{level}"), getattr(s, f"cols{level}")))
            w_y = _tent(F.linear(y.reshape(b * h * n, p, 1), getattr(s, f"ones_y{level}"), getattr(s, f"rows{level}")))
            w_y = w_y * weights[:, level * p:(level + 1) * p]
            m = torch.bmm(w_y.transpose(1, 2), w_x).reshape(b * h, n, hh * ww)
            part = torch.bmm(m, values[:, start:start + hh * ww]); start += hh * ww
            out = part if out is None else out + part
        out = out.reshape(b, h, n, -1).permute(0, 2, 1, 3).reshape(b, n, self.dim)
        return self.output_proj(out)
