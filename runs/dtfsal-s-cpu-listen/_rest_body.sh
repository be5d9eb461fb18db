T2=runs/dtfsal-cpu-teacher-listen2; S=runs/dtfsal-s-cpu-listen
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
