#!/usr/bin/env node
// Puts the WebGPU figures (results.jsonl from webgpu-bench.js) beside the PyTorch peer's
// (torch.json from torch_peer.py) with ratios, as Markdown on stdout.
//   node bench/gpu/report.mjs results.jsonl torch.json [nvidia-smi.txt]
import { existsSync, readFileSync } from 'node:fs';

const [resPath, torchPath, smiPath] = process.argv.slice(2);
const ours = readFileSync(resPath, 'utf8').split('\n').filter((l) => l.trim()).map((l) => {
  try { return JSON.parse(l); } catch { return { error: `unparsable line: ${l.slice(0, 200)}` }; }
});
let peer = {};
try { peer = JSON.parse(readFileSync(torchPath, 'utf8')); } catch (e) { peer = { error: `no peer results (${e.message})` }; }
const smi = smiPath && existsSync(smiPath) ? readFileSync(smiPath, 'utf8').trim() : '';

const num = (x, digits = 1) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(digits) : '-');
const ratio = (a, b) => (typeof a === 'number' && typeof b === 'number' && b > 0 ? `${(a / b).toFixed(2)}x` : '-');
const lines = [];
const p = (s = '') => lines.push(s);

p(`# GPU benchmark (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC)`);
p();
if (smi) p(`GPU (nvidia-smi): ${smi}`);
const info = ours.find((r) => r.what === 'info');
for (const label of ['default', 'allow_unsafe_apis']) {
  const i = info?.[label];
  if (!i) continue;
  if (i.error) { p(`- ${label}: ${i.error}`); continue; }
  p(`- Dawn adapter (${label}): ${[i.adapter?.vendor, i.adapter?.architecture, i.adapter?.description].filter(Boolean).join(' / ')}; subgroup size ${i.adapter?.subgroupMinSize}-${i.adapter?.subgroupMaxSize}`);
  p(`  - features: ${(i.features ?? []).join(', ')}`);
  p(`  - shader-f16: ${i.shaderF16}; subgroup matrix configs: ${JSON.stringify(i.adapter?.subgroupMatrixConfigs ?? null)}`);
  p(`  - limits: ${JSON.stringify(i.limits)}`);
}
if (peer.env) p(`- PyTorch: ${JSON.stringify(peer.env)}`);
p();

const errors = ours.filter((r) => r.error);
if (errors.length) {
  p('Failed measurements:');
  for (const e of errors) p(`- ${e.what} ${e.args ?? ''}: ${e.error}`);
  p();
}

p('## matmul, f32, TFLOP/s');
p();
p('| n | WebGPU 64-tile | 128-tile, K step 8 | 128-tile, K step 16 | best ours | cuBLAS f32 (TF32 off) | ours / cuBLAS | cuBLAS TF32 | cuBLAS bf16 |');
p('|---|---|---|---|---|---|---|---|---|');
const mm = ours.filter((r) => r.what === 'matmul' && !r.error);
const sizes = [...new Set(mm.map((r) => r.n))].sort((a, b) => a - b);
for (const n of sizes) {
  const get = (kernel, bk) => mm.find((r) => r.n === n && r.kernel === kernel && (kernel === 'tile64' || r.bk === bk))?.tflops;
  const v = [get('tile64'), get('tile128', 8), get('tile128', 16)];
  const best = Math.max(...v.filter((x) => typeof x === 'number'));
  const f32 = peer.matmul?.f32?.[n];
  p(`| ${n} | ${v.map((x) => num(x, 2)).join(' | ')} | ${num(best, 2)} | ${num(f32, 2)} | ${ratio(best, f32)} | ${num(peer.matmul?.tf32?.[n], 1)} | ${num(peer.matmul?.bf16?.[n], 1)} |`);
}
const bad = mm.filter((r) => !(r.maxScaledError < 1e-3));
if (bad.length) p(`\nWARNING: wrong results: ${bad.map((r) => `${r.n}/${r.kernel}/${r.bk}: ${r.maxScaledError}`).join(', ')}`);
p();

p('## GPT training step (8 layers, width 512, 8 heads, vocab 8192, seq 512, batch 32), f32');
p();
p('| run | tokens/s | ms/step | loss first -> last |');
p('|---|---|---|---|');
const trains = ours.filter((r) => r.what === 'train' && !Array.isArray(r.profile));
const profiled = ours.filter((r) => r.what === 'train' && Array.isArray(r.profile));
for (const t of trains) p(t.error ? `| WebGPU ${t.args ?? ''} | failed: ${t.error} | | |` : `| WebGPU (matmul K step ${t.bk}; ${t.dispatchesPerStep} dispatches/step) | ${num(t.tokensPerSecond, 0)} | ${num(t.msPerStep, 1)} | ${num(t.firstLoss, 3)} -> ${num(t.lastLoss, 3)} |`);
for (const [key, label] of [['train', 'PyTorch eager (attention in matmuls)'], ['trainSdpa', 'PyTorch eager + scaled_dot_product_attention']]) {
  const t = peer[key];
  if (t) p(t.error ? `| ${label} | failed: ${t.error} | | |` : `| ${label} | ${num(t.tokensPerSecond, 0)} | ${num(t.msPerStep, 1)} | ${num(t.loss, 3)} |`);
}
const bestOurs = Math.max(...trains.filter((t) => !t.error).map((t) => t.tokensPerSecond));
const bestPeer = Math.max(...['train', 'trainSdpa'].map((k) => peer[k]?.tokensPerSecond).filter((x) => typeof x === 'number'));
p();
p(`Ours / best PyTorch f32: **${ratio(bestOurs, bestPeer)}** (target >= 0.5x).`);
p();

for (const t of profiled.slice(0, 1)) {
  p(`GPU time per kernel in one step (timestamps, separate run: ${num(t.tokensPerSecond, 0)} tokens/s there): ${num(t.gpuMsPerStep, 1)} ms of GPU work in a ${num(t.msPerStep, 1)} ms step`);
  p();
  p('| kernel | ms | dispatches |');
  p('|---|---|---|');
  for (const r of t.profile.slice(0, 14)) p(`| ${r.kernel} | ${r.ms} | ${r.dispatches} |`);
  p();
}
const ops = ours.find((r) => r.what === 'ops' && !r.error);
if (ops) {
  p('Where a step goes (ms, WebGPU, one op at the training shapes):');
  p();
  for (const [k, v] of Object.entries(ops.ms)) p(`- ${k}: ${v}`);
  p();
}

p('## Greedy decode with the KV cache (64-token prompt, 256 new tokens), tokens/s summed over the batch');
p();
p('| batch | first batch | WebGPU | host ms/step | matches cpu | HF generate | ours / HF | PyTorch KV-cache loop | ours / loop |');
p('|---|---|---|---|---|---|---|---|---|');
for (const b of [1, 16]) {
  const runs = ours.filter((r) => r.what === 'decode' && !Array.isArray(r.profilePerToken) && (r.batch === b || (r.error && new RegExp(`--batch ${b}( |$)`).test(r.args ?? ''))));
  const hf = peer.decode?.[b]?.tokensPerSecond;
  const loop = peer.decodeTorchLoop?.[b]?.tokensPerSecond;
  for (const d of runs) {
    const v = d.error ? `failed: ${d.error}` : num(d.tokensPerSecond, 0);
    p(`| ${b} | ${d.firstBatch ?? '-'} | ${v} | ${num(d.hostMsPerStep, 2)} | ${d.matchesCpu ?? '-'} | ${num(hf, 0)} | ${ratio(d.tokensPerSecond, hf)} | ${num(loop, 0)} | ${ratio(d.tokensPerSecond, loop)} |`);
  }
}
for (const d of ours.filter((r) => r.what === 'decode' && Array.isArray(r.profilePerToken)).slice(0, 2)) {
  p(`\nBatch ${d.batch} (profiled run, ${num(d.tokensPerSecond, 0)} tokens/s): ${d.gpuMsPerToken} ms of GPU work per token (${num(1000 / d.perSequenceTokensPerSecond, 2)} ms per token in all): ${d.profilePerToken.slice(0, 8).map((r) => `${r.kernel} ${r.ms} ms (${r.dispatches})`).join(', ')}`);
}
if (peer.decode?.error) p(`\nHF generate: ${peer.decode.error}`);
p();
p('Raw: results.jsonl (ours), torch.json (peer).');
console.log(lines.join('\n'));
