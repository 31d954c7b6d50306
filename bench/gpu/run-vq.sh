#!/bin/bash
# Image tokenizer training step on a GPU machine: ours (WebGPU, and the CPU backend on all cores)
# and the PyTorch peer, same architecture, same card, one run. From the project root:
#   bench/gpu/run-vq.sh        results: $OUT/vq.jsonl (or bench/gpu/out/vq.jsonl)
set -u
out=${OUT:-bench/gpu/out}
mkdir -p "$out"
res=$out/vq.jsonl
: > "$res"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader >> "$out/nvidia-smi.txt" 2>&1 || true
one() {
  local t0=$SECONDS
  timeout "${GPU_BENCH_LIMIT:-90}" node dist/bench/gpu/webgpu-bench.js vq "$@" >> "$res" 2>> "$out/vq-webgpu.log" || echo "{\"what\":\"vq\",\"args\":\"$*\",\"error\":\"exit status $?\"}" >> "$res"
  echo "vq $* : $((SECONDS - t0)) s" >&2
}
for b in 16 64 256; do one --batch "$b"; one --batch "$b" --full; done
one --batch 64 --cpu --threads "$(nproc)"
one --batch 64 --cpu --full --threads "$(nproc)"
py=python3
for c in python3 /usr/bin/python3; do "$c" -c "import torch" 2>/dev/null && { py=$c; break; }; done
timeout 200 "$py" bench/gpu/torch_vq_peer.py >> "$res" 2> "$out/vq-torch.log" || echo "torch peer: status $?" >&2
cat "$res"
