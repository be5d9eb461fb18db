#!/usr/bin/env bash
# The int8 gate of AVESFormer's new export graph (split 7x7 bands, per-level deformable products) on trained
# weights: a short version of the README's ref-s4-96 recipe (this machine has no trained AVESFormer), paper@96.
set -euo pipefail
R=runs/aves-gate
taskset -c 0 .venv/bin/python -m bench.studies.pretrained_audio_trunk --model avesformer-r18 --data synthetic-s4 --steps 100 --lr 3e-4 --out $R/audio
taskset -c 0 .venv/bin/python -m bench.studies.reference_checkpoint --model avesformer-r18 --config paper@96 --data synthetic-s4 \
  --audio-weights $R/audio/vggish_tagging.pt --steps 150 --batch-size 8 --lr 3e-4 --eval-every 150 --threads 1 --out $R/train
taskset -c 0 .venv/bin/edgeav export --model avesformer-r18 --config paper@96 --checkpoint $R/train/last.pt --target executorch,litert \
  --precision int8 --data synthetic-s4 --eval-limit 100 --jobs 1 --out $R/dist
