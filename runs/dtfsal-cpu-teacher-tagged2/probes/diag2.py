import sys, torch
torch.set_num_threads(1)
from edgeav.registry import load_model
from edgeav.models.dtfsal.entry import dtfsal_dataset
m = load_model("dtfsal", "cpu", sys.argv[1]); net, cfg = m.model.eval(), m.config
D = "synthetic-saliency:clips=250,frames_per_clip=24,frame_size=96-160,num_categories=6"
ds = dtfsal_dataset(cfg, D, "test"); dss = dtfsal_dataset(cfg, D, "test", audio_shuffle_seed=0)
idx = list(range(0, len(ds), 19))[:48]
fr = torch.stack([ds[j]["frames"] for j in idx]); a = torch.stack([ds[j]["audio"] for j in idx]); b = torch.stack([dss[j]["audio"] for j in idx])
gates = {}
def hook(name):
    def f(mod, inp, out):
        v, al = inp
        q = mod.query(al.mean(dim=(3, 4)).transpose(1, 2)); k = mod.key(v)
        s = (k * q.transpose(1, 2)[..., None, None]).sum(1) * mod.scale
        gates.setdefault(name, []).append(2 * torch.sigmoid(s))
    return f
for s, fu in net.fusion.items(): fu.inject.register_forward_hook(hook(s))
with torch.no_grad():
    o1 = net(fr, a); o2 = net(fr, b)
print("mean |map true - shuffled| / mean map", float((o1 - o2).abs().mean() / o1.mean()))
for s, g in gates.items():
    g1, g2 = g
    print(s, "gate range", float(g1.min()), float(g1.max()), "pixel std", float(g1.std((2, 3)).mean()), "true-vs-shuf", float((g1 - g2).abs().mean()))
