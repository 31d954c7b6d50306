#!/bin/bash
# The GPU benchmark, in one command, from the project root of a machine with a GPU:
#   bench/gpu/run.sh [--quick | --subset]     (--subset: training step, op profile and decoding
#                                             only, no matmul sweep and no PyTorch peer)
# Needs `node` on PATH, the built dist/ and the `webgpu` package (on an offline GPU machine the
# bundle's run-offline-bundle.sh provides node and webgpu); python3 with torch (and transformers)
# for the peer. Every measurement runs in its own process with a time limit, so one failure costs
# one figure. Results go to $OUT (or bench/gpu/out): results.jsonl (ours), torch.json (the peer),
# report.md (the table, also printed), *.log (stderr).
set -u
quick=${1:-}
subset=
[ "$quick" = --subset ] && { subset=1; quick=; }
out=${OUT:-bench/gpu/out}
mkdir -p "$out"
res=$out/results.jsonl
: > "$res"
limit=${GPU_BENCH_LIMIT:-150}
sizes="1024 2048 4096"
[ "$quick" = --quick ] && sizes="128 256"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader > "$out/nvidia-smi.txt" 2>&1 || true
one() {
  local t0=$SECONDS
  timeout "$limit" node dist/bench/gpu/webgpu-bench.js "$@" $quick >> "$res" 2>> "$out/webgpu.log"
  local rc=$?
  [ $rc -ne 0 ] && echo "{\"what\":\"$1\",\"args\":\"$*\",\"error\":\"exit status $rc (124: over ${limit}s)\"}" >> "$res"
  echo "$* : $((SECONDS - t0)) s (status $rc)" >&2
}
one info
[ -n "$subset" ] && sizes=
for n in $sizes; do
  one matmul --n "$n" --kernel tile64
  one matmul --n "$n" --kernel tile128 --bk 8
  one matmul --n "$n" --kernel tile128 --bk 16
done
one ops --bk 8
one train --bk 8
one train --bk 8 --profile
[ -z "$subset" ] && one train --bk 16
one decode --batch 1
one decode --batch 16
one decode --batch 1 --profile
one decode --batch 16 --profile
[ -z "$subset" ] && one decode --batch 1 --first-batch 256
[ -z "$subset" ] && one decode --batch 16 --first-batch 256
py=python3
for c in python3 /usr/bin/python3; do "$c" -c "import torch" 2>/dev/null && { py=$c; break; }; done
t0=$SECONDS
[ -n "$subset" ] && echo '{"error": "not run (--subset)"}' > "$out/torch.json" || timeout 300 "$py" bench/gpu/torch_peer.py ${quick:+--quick} > "$out/torch.json" 2> "$out/torch.log" || echo "torch peer: status $?" >&2
echo "torch peer: $((SECONDS - t0)) s" >&2
node bench/gpu/report.mjs "$res" "$out/torch.json" "$out/nvidia-smi.txt" > "$out/report.md"
cat "$out/report.md"
