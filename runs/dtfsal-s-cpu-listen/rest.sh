#!/usr/bin/env bash
cd /work/main; export PATH=/work/main/.venv/bin:$PATH
while kill -0 22978 2>/dev/null; do sleep 5; done
test -f runs/dtfsal-cpu-teacher-listen2/last.pt || exit 1
{ echo 'T2=runs/dtfsal-cpu-teacher-listen2; S=runs/dtfsal-s-cpu-listen'; sed -n '/^D=/,$p' runs/dtfsal-s-cpu-listen/commands.sh; } > runs/dtfsal-s-cpu-listen/_rest_body.sh
bash -e -x runs/dtfsal-s-cpu-listen/_rest_body.sh
