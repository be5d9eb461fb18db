#!/bin/bash
# SalTR teacher (runs/saltr-teacher) -> SalTR-S student: distill, score both on the held-out test split,
# QAT int8, export to every target with parity and the CC gate. Run from /work/main on core 1.
set -e
D="synthetic-saliency-images:images=2000,seed=3,frame_size=96-128"
T=${TEACHER:-runs/saltr-teacher/last.pt}
E=".venv/bin/edgeav"
S=runs/saltr-s-distill
$E distill --teacher saltr --teacher-checkpoint $T --student saltr-s --student-config paper@96x128 --data $D \
  --steps ${STEPS:-250} --batch-size 8 --lr 1e-3 --warmup-steps 10 --threads 1 --out $S > $S/distill.log 2>&1
$E eval --model saltr --config cpu-deformable-map --checkpoint $T --data $D --split test --threads 1 --json $S/teacher_test.json > $S/teacher_test.log 2>&1
$E eval --model saltr-s --config paper@96x128 --checkpoint $S/student.pt --data $D --split test --threads 1 --json $S/student_test.json > $S/student_test.log 2>&1
$E quantize --model saltr-s --config paper@96x128 --checkpoint $S/student.pt --method qat --steps ${QAT_STEPS:-60} --data $D \
  --threads 1 --out runs/saltr-s-qat > $S/qat.log 2>&1
$E export --model saltr-s --config paper@96x128 --checkpoint $S/student.pt --precision int8 \
  --qat-checkpoint runs/saltr-s-qat/quantized.pt --target all --data $D --out runs/saltr-s-export > $S/export.log 2>&1
echo done > $S/DONE
