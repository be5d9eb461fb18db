#!/usr/bin/env bash
# As run (one CPU core, core 1, 1 torch thread): DTFSal's VGGish trunk pretrained by audio tagging.
set -euo pipefail
taskset -c 1 env OMP_NUM_THREADS=1 .venv/bin/python -m bench.studies.pretrained_audio_trunk --model dtfsal --config cpu \
  --data synthetic-saliency:clips=1000,frames_per_clip=24,frame_size=96-160,num_categories=6 --window-stride 3 \
  --steps 600 --batch-size 32 --lr 1e-3 --threads 1 --out runs/dtfsal-audio-tagging
