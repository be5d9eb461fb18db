import sys, torch
torch.set_num_threads(1)
from edgeav.registry import load_model
from edgeav.models.dtfsal.entry import dtfsal_dataset
ck = sys.argv[1]; n = int(sys.argv[2]) if len(sys.argv) > 2 else 120
m = load_model("dtfsal", "cpu", ck)
net, cfg = m.model.eval(), m.config
D = "synthetic-saliency:clips=250,frames_per_clip=24,frame_size=96-160,num_categories=6"
def cc(a, b):
    a = a.flatten(1); b = b.flatten(1); a = a - a.mean(1, keepdim=True); b = b - b.mean(1, keepdim=True)
    return (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1) + 1e-8)
res = {}
for name, seed in (("true", None), ("shuffled", 0)):
    ds = dtfsal_dataset(cfg, D, "test", audio_shuffle_seed=seed)
    idx = torch.linspace(0, len(ds) - 1, n).long().tolist()
    vals = []
    with torch.no_grad():
        for i in range(0, n, 20):
            items = [ds[j] for j in idx[i:i + 20]]
            out = net(torch.stack([x["frames"] for x in items]), torch.stack([x["audio"] for x in items]))
            vals.append(cc(out, torch.stack([x["saliency"] for x in items])))
    res[name] = torch.cat(vals).mean().item()
print(ck, res, "gap", res["true"] - res["shuffled"])
