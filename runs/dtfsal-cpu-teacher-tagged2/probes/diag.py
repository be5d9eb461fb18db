import sys, torch
torch.set_num_threads(1)
from edgeav.registry import load_model
from edgeav.models.dtfsal.entry import dtfsal_dataset
m = load_model("dtfsal", "cpu", sys.argv[1]); net, cfg = m.model.eval(), m.config
D = "synthetic-saliency:clips=250,frames_per_clip=24,frame_size=96-160,num_categories=6"
ds = dtfsal_dataset(cfg, D, "test")
from edgeav.data import open_dataset
clips = open_dataset(D, "test")
idx = list(range(0, len(ds), 7))[:96]
items = [ds[j] for j in idx]
pcm = torch.stack([x["audio"] for x in items]); frames = torch.stack([x["frames"] for x in items])
# label: sounding category at target frame
lab = []
for x in items:
    c = clips[x["clip"]]; t = x["frame"]
    s = [n for n, on in zip(c.meta["categories"], c.meta["sounding"]) if on[t]]
    lab.append(s[0] if s else "none")
names = sorted(set(lab)); y = torch.tensor([names.index(l) for l in lab])
def sep(f, name):
    f = f.flatten(1).float()
    mu = torch.stack([f[y == k].mean(0) for k in range(len(names))])
    within = torch.stack([(f[y == k] - mu[k]).pow(2).sum(1).mean() for k in range(len(names))]).mean()
    between = (mu - f.mean(0)).pow(2).sum(1).mean()
    # nearest-centroid accuracy (leave-in)
    acc = ((torch.cdist(f, mu).argmin(1) == y).float().mean())
    print(f"{name}: between/within {float(between/within):.3f}  centroid acc {float(acc):.2f}  norm {float(f.norm(dim=1).mean()):.3f}")
with torch.no_grad():
    a = net.audio
    trunk = a.vggish(a.norm(a.slices(pcm)))
    sep(trunk.mean((2, 3)), "trunk (pooled)")
    feats = type(a).__mro__[1].forward(a, pcm)
    tok = a.temporal(feats)
    sep(tok.mean((2, 3, 4)), "temporal tokens (pooled)")
    for s, fuse in net.fusion.items():
        al = fuse.align(tok, (3, 5))
        abar = al.mean((3, 4)).transpose(1, 2)  # B,T,C
        q = fuse.inject.query(abar)
        sep(abar[:, -1], f"scale {s} abar"); sep(q[:, -1], f"scale {s} query")
        print("  query W norm", float(fuse.inject.query.weight.norm()), "bias", float(fuse.inject.query.bias.norm()), "key W", float(fuse.inject.key.weight.norm()))
print("labels", {n: int((y == k).sum()) for k, n in enumerate(names)})
