"""runs/dtfsal-s-cpu-tagged/{teacher,student}_{true,shuffled}.json -> result.json (the README table's numbers)."""
import json
from pathlib import Path

RUN = Path(__file__).parent
D = "synthetic-saliency:clips=250,frames_per_clip=24,frame_size=96-160,num_categories=6"
META = {
    "teacher": {"model": "dtfsal", "config": "cpu", "checkpoint": "runs/dtfsal-cpu-teacher-tagged2/last.pt",
                "train": "VGGish trunk by audio tagging (runs/dtfsal-audio-tagging), frozen; 1000 steps x 8, then the "
                         "mean-1 gate and 700 steps x 8 from those weights (gate queries reset to 0), clips=1000"},
    "student": {"model": "dtfsal-s", "config": "cpu", "checkpoint": "runs/dtfsal-s-cpu-tagged/student.pt"},
}
result = {"data": f"{D} (test split: 50 clips)"}
for who, meta in META.items():
    scores = {a: json.loads((RUN / f"{who}_{a}.json").read_text()) for a in ("true", "shuffled")}
    result[who] = {**meta, **scores, "cc_gap_true_minus_shuffled": scores["true"]["cc"] - scores["shuffled"]["cc"]}
result["student_cc_share_of_teacher"] = result["student"]["true"]["cc"] / result["teacher"]["true"]["cc"]
(RUN / "result.json").write_text(json.dumps(result, indent=2) + "\n")
print(json.dumps({k: result[k] for k in ("student_cc_share_of_teacher",)}),
      {w: round(result[w]["cc_gap_true_minus_shuffled"], 4) for w in META})
