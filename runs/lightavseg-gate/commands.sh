#!/usr/bin/env bash
# The int8 gate of LightAVSeg on trained weights with this session's int8 recipe (sigmoid outputs on TFLite's
# fixed grid): a short version of the README's ref-ms3-128 recipe (its checkpoint is on another machine), paper@96.
set -euo pipefail
R=runs/lightavseg-gate
taskset -c 1 .venv/bin/python -m bench.studies.pretrained_audio_trunk --data synthetic-ms3:image_size=32 --steps 150 --batch-size 32 --lr 2e-3 --out $R/audio
taskset -c 1 .venv/bin/python -m bench.studies.reference_checkpoint --data synthetic-ms3:image_size=96 --image-size 96 --steps 250 \
  --batch-size 8 --lr 5e-4 --eval-every 250 --threads 1 --audio-weights $R/audio/panns_tagging.pt --out $R/train
taskset -c 1 .venv/bin/edgeav export --model lightavseg --config paper@96 --checkpoint $R/train/last.pt --target executorch,litert \
  --precision int8 --data synthetic-ms3 --eval-limit 200 --jobs 1 --out $R/dist
