#!/bin/bash
# After commands.sh: a teacher-only student (no ground truth: how much of the teacher's CC distillation keeps),
# the trained teacher exported fp32 (in-graph map) to ExecuTorch + LiteRT, per-op bench of the int8 student.
D="synthetic-saliency-images:images=2000,seed=3,frame_size=96-128"
E=".venv/bin/edgeav"
while [ ! -f runs/saltr-s-distill/DONE ]; do sleep 5; done
S=runs/saltr-s-teacher-only
mkdir -p $S
$E distill --teacher saltr --teacher-checkpoint runs/saltr-teacher/teacher_step3000.pt --student saltr-s --student-config paper@96x128 \
  --data $D --steps 250 --batch-size 8 --lr 1e-3 --warmup-steps 10 --label-weight 0 --threads 1 --out $S > $S/distill.log 2>&1
$E eval --model saltr-s --config paper@96x128 --checkpoint $S/student.pt --data $D --split test --threads 1 --json $S/student_test.json > $S/student_test.log 2>&1
$E export --model saltr --config cpu-deformable-map --checkpoint runs/saltr-teacher/teacher_step3000.pt --target executorch,litert \
  --out runs/saltr-teacher-export > runs/saltr-teacher-export.log 2>&1
$E bench runs/saltr-s-export/*.pte runs/saltr-s-export/*.tflite runs/saltr-teacher-export/*.pte runs/saltr-teacher-export/*.tflite \
  --per-op --runs 20 --per-op-runs 5 --profiles none --out runs/saltr-bench > runs/saltr-bench.log 2>&1
echo done > runs/saltr-s-distill/AFTER_DONE
