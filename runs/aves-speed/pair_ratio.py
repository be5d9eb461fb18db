"""Per-round ratios between two labels of a mission_*.json (new / old)."""
import json, statistics, sys
d = json.load(open(sys.argv[1]))
s = {m["label"]: m["samples_ms"] for m in d["measurements"]}
for pair in sys.argv[2:]:
    new, old = pair.split("=")
    r = [a / b for a, b in zip(s[new], s[old])]
    print(f"{new} / {old}: median {statistics.median(r):.3f} (min {min(r):.3f} max {max(r):.3f}) rounds {' '.join(f'{x:.2f}' for x in r)}; medians {statistics.median(s[new]):.1f} vs {statistics.median(s[old]):.1f} ms")
