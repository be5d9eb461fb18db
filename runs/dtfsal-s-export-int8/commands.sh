#!/usr/bin/env bash
# As run (core 1, 1 thread): the distilled DTFSal-S (runs/dtfsal-s-cpu-tagged) to int8 on every target, then per-op bench.
set -euo pipefail
D=synthetic-saliency:clips=250,frames_per_clip=24,frame_size=96-160,num_categories=6
taskset -c 1 env OMP_NUM_THREADS=1 edgeav export --model dtfsal-s --config cpu --checkpoint runs/dtfsal-s-cpu-tagged/student.pt \
  --target all --precision int8 --data $D --calibration-batches 8 --eval-limit 200 --out runs/dtfsal-s-export-int8/dist --jobs 1
taskset -c 1 edgeav bench runs/dtfsal-s-export-int8/dist/dtfsal-s_cpu_int8.pte runs/dtfsal-s-export-int8/dist/dtfsal-s_cpu_int8.tflite \
  --per-op --runs 20 --per-op-runs 5 --threads 1 --profiles none --out runs/dtfsal-s-export-int8/bench
