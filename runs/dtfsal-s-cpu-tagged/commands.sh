#!/usr/bin/env bash
# As run (one CPU core, core 1, 1 torch thread). Teacher: VGGish trunk pretrained by audio tagging and frozen.
set -euo pipefail
A=runs/dtfsal-audio-tagging; T1=runs/dtfsal-cpu-teacher-tagged; T=runs/dtfsal-cpu-teacher-tagged2; S=runs/dtfsal-s-cpu-tagged
TRAIN=synthetic-saliency:clips=1000,frames_per_clip=24,frame_size=96-160,num_categories=6
D=synthetic-saliency:clips=250,frames_per_clip=24,frame_size=96-160,num_categories=6
bash $A/commands.sh   # -> $A/vggish_tagging.pt (val mAP 0.996)
taskset -c 1 edgeav train --model dtfsal --config cpu --audio-weights $A/vggish_tagging.pt --data $TRAIN \
  --steps 1000 --batch-size 8 --lr 1e-3 --checkpoint-every 100 --out $T1 --threads 1
# (gate made mean-1 over the frame here, fusion.py) init_from_tagged_1000.pt = $T1/last.pt with the 3 gates' queries zeroed
# (stopped at step 510 by SIGTERM and continued exactly with --resume $T/last.pt)
taskset -c 1 edgeav train --model dtfsal --config cpu --checkpoint $T/init_from_tagged_1000.pt --audio-weights $A/vggish_tagging.pt \
  --data $TRAIN --steps 700 --batch-size 8 --lr 1e-3 --checkpoint-every 100 --out $T --threads 1
for a in "" "--shuffle-audio"; do n=true; [ -n "$a" ] && n=shuffled
  taskset -c 1 edgeav eval --model dtfsal --config cpu --checkpoint $T/last.pt --data $D --split test --threads 1 $a --json $S/teacher_$n.json
done
taskset -c 1 edgeav distill --teacher dtfsal --teacher-checkpoint $T/last.pt --student dtfsal-s --student-config cpu --data $D \
  --steps 400 --batch-size 8 --lr 3e-3 --warmup-steps 10 --out $S --threads 1
for a in "" "--shuffle-audio"; do n=true; [ -n "$a" ] && n=shuffled
  taskset -c 1 edgeav eval --model dtfsal-s --config cpu --checkpoint $S/student.pt --data $D --split test --threads 1 $a --json $S/student_$n.json
done
python runs/dtfsal-s-cpu-tagged/collect.py   # -> result.json
