#!/usr/bin/env bash
# As run (one CPU core, 1 torch thread). The teacher was stopped at step 1000 of 1500 (time budget).
set -euo pipefail
T=runs/dtfsal-cpu-teacher; S=runs/dtfsal-s-cpu-distill
taskset -c 1 edgeav train --model dtfsal --config cpu --data synthetic-saliency:clips=1000,frames_per_clip=24,frame_size=96-160,num_categories=6 \
  --steps 1500 --batch-size 8 --lr 1e-3 --checkpoint-every 250 --out $T --threads 1   # killed after step 1000; cp last.pt step_001000.pt
D=synthetic-saliency:clips=250,frames_per_clip=24,frame_size=96-160,num_categories=6
taskset -c 1 edgeav distill --teacher dtfsal --teacher-checkpoint $T/step_001000.pt --student dtfsal-s --student-config cpu --data $D \
  --steps 150 --batch-size 8 --lr 3e-3 --warmup-steps 10 --out $S --threads 1
for a in "" "--shuffle-audio"; do n=true; [ -n "$a" ] && n=shuffled
  edgeav eval --model dtfsal --config cpu --checkpoint $T/step_001000.pt --data $D --split test --threads 1 $a --json $S/teacher_$n.json
  edgeav eval --model dtfsal-s --config cpu --checkpoint $S/student.pt --data $D --split test --threads 1 $a --json $S/student_$n.json
done
python runs/dtfsal-s-cpu-distill/collect.py   # -> result.json
