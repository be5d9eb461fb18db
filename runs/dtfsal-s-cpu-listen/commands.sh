#!/usr/bin/env bash
# As run (one CPU core, core 1, 1 torch thread). Teacher in two stages: 900 steps with the log-mel BatchNorm
# only (its scores, true = shuffled, in deaf_teacher_900/), then 250 steps from those weights with the token
# BatchNorm added (weights mapped by /tmp-free script: new BN at identity init; see README).
set -euo pipefail
T=runs/dtfsal-cpu-teacher-listen; T2=runs/dtfsal-cpu-teacher-listen2; S=runs/dtfsal-s-cpu-listen
taskset -c 1 edgeav train --model dtfsal --config cpu --data synthetic-saliency:clips=1000,frames_per_clip=24,frame_size=96-160,num_categories=6 \
  --steps 900 --batch-size 8 --lr 1e-3 --checkpoint-every 100 --out $T --threads 1
# (token BatchNorm added to the code here) init_from_listen_900.pt = $T/last.pt with the new BN keys at their init
taskset -c 1 edgeav train --model dtfsal --config cpu --checkpoint $T2/init_from_listen_900.pt --data synthetic-saliency:clips=1000,frames_per_clip=24,frame_size=96-160,num_categories=6 \
  --steps 250 --batch-size 8 --lr 1e-3 --out $T2 --threads 1
D=synthetic-saliency:clips=250,frames_per_clip=24,frame_size=96-160,num_categories=6
for a in "" "--shuffle-audio"; do n=true; [ -n "$a" ] && n=shuffled
  taskset -c 1 edgeav eval --model dtfsal --config cpu --checkpoint $T2/last.pt --data $D --split test --threads 1 $a --json $S/teacher_$n.json
done
taskset -c 1 edgeav distill --teacher dtfsal --teacher-checkpoint $T2/last.pt --student dtfsal-s --student-config cpu --data $D \
  --steps 100 --batch-size 8 --lr 3e-3 --warmup-steps 10 --out $S --threads 1
for a in "" "--shuffle-audio"; do n=true; [ -n "$a" ] && n=shuffled
  taskset -c 1 edgeav eval --model dtfsal-s --config cpu --checkpoint $S/student.pt --data $D --split test --threads 1 $a --json $S/student_$n.json
done
python runs/dtfsal-s-cpu-listen/collect.py   # -> result.json
