/**
 * Decoding speed on the CPU: greedy tokens/s with the KV cache at batch 1 and 8 for the `small`
 * preset's architecture (4 layers, width 256, 4 heads, the shipped vocabulary size), 64-token prompt
 * + 256 new tokens, beside PyTorch on the same CPU in the same run (a plain KV-cache loop over the
 * same decoder, bench/gpu/torch_peer.py); the cost of classifier-free guidance against one stream,
 * with the two streams batched (one batch-2 forward per step, the default) and run one after the
 * other (streams: 'sequential'), in interleaved rounds of the same run; four CFG prompts as one
 * batch (8 rows) per image; and the time to one 64x64 image with the shipped model.
 *
 *   node dist/bench/decode.js [--quick] [--json] [--cfg-only]
 *
 * --cfg-only: just the guidance rounds (no greedy runs, shipped-model image or PyTorch peer), for
 * quick before/after comparisons of the CFG cost.
 */
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as T from '../src/index.js';
import { Decoder, KvCache } from '../src/model/decoder.js';
import { generateImageBatch, generateImageCodes } from '../src/decoding/generate.js';
import { Cm3leon } from '../src/decoding/pipeline.js';

const args = process.argv.slice(2);
const loadAtStart = loadavg()[0]!; // other jobs on the machine: recorded beside the numbers
const quick = args.includes('--quick');
const cfgOnly = args.includes('--cfg-only');
const cfg = { vocabSize: 5120, dim: 256, heads: 4, layers: 4, maxPositions: 384 };
const prompt = quick ? 8 : 64;
const newTokens = quick ? 16 : 256;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/** Greedy decoding of `newTokens` after a random prompt at `batch`; tokens/s summed over the batch. */
function greedy(model: Decoder, batch: number, runs: number): number {
  const rng = new T.Rng(5);
  const ids = Int32Array.from({ length: batch * prompt }, () => 3 + rng.int(cfg.vocabSize - 3));
  const once = (): number => {
    const cache = new KvCache(model.config, batch, prompt + newTokens);
    const t0 = performance.now();
    let logits = T.tidy(() => { const l = model.forwardCached(T.tensor(ids, [batch, prompt], { dtype: 'i32' }), cache); return T.slice(l, 1, prompt - 1, prompt); });
    for (let s = 0; s < newTokens; s++) {
      const d = logits.dataSync() as Float32Array;
      logits.dispose();
      const next = Int32Array.from({ length: batch }, (_, r) => {
        let best = 0;
        for (let j = 1; j < cfg.vocabSize; j++) if (d[r * cfg.vocabSize + j]! > d[r * cfg.vocabSize + best]!) best = j;
        return best;
      });
      if (s === newTokens - 1) break;
      logits = T.tidy(() => model.forwardCached(T.tensor(next, [batch, 1], { dtype: 'i32' }), cache));
    }
    const sec = (performance.now() - t0) / 1000;
    cache.dispose();
    return (batch * newTokens) / sec;
  };
  once();
  return median(Array.from({ length: runs }, once));
}

const model = new Decoder({ ...cfg, initStd: 0.02, zeroOutputLayers: false, seed: 1 });
const ours: Record<string, number> = {};
if (!cfgOnly) for (const b of [1, 8]) ours[b] = Math.round(greedy(model, b, quick ? 1 : 3));

// Guidance: image codes with CFG (two streams: the 12-token prompt and a 3-token unconditional
// prompt) against one stream; the streams batched (default) or sequential. Interleaved rounds, so
// load from other jobs falls on every variant alike; medians, and the median of the per-round ratios.
const span = { imageStart: cfg.vocabSize - 1024, codebookSize: 1024, length: quick ? 16 : 256 };
const codesPrompt = Int32Array.from({ length: 12 }, (_, i) => 40 + i);
const guidance = { uncondPrompt: Int32Array.of(1, 3, 2), cfg: 3 };
const seconds = (f: () => void): number => {
  const t0 = performance.now();
  f();
  return (performance.now() - t0) / 1000;
};
const variants = {
  single: () => seconds(() => generateImageCodes(model, codesPrompt, span, { seed: 1 })),
  cfgBatched: () => seconds(() => generateImageCodes(model, codesPrompt, span, { seed: 1, guidance })),
  cfgSequential: () => seconds(() => generateImageCodes(model, codesPrompt, span, { seed: 1, guidance, streams: 'sequential' })),
  // Four CFG prompts (8 rows) as one batch: seconds per image.
  cfgBatchOf4PerImage: () => seconds(() => generateImageBatch(model, [0, 1, 2, 3].map((k) => codesPrompt.map((id) => id + k)), span, { seed: 1, guidance })) / 4,
};
type Variant = keyof typeof variants;
for (const f of Object.values(variants)) f(); // warm-up
const rounds = quick ? 1 : 7;
const times: Record<Variant, number[]> = { single: [], cfgBatched: [], cfgSequential: [], cfgBatchOf4PerImage: [] };
for (let r = 0; r < rounds; r++) for (const [name, f] of Object.entries(variants)) times[name as Variant].push(f());
const med = (name: Variant): number => median(times[name]);
const roundRatio = (name: Variant): number => median(times[name].map((t, r) => t / times.single[r]!));

// One 64x64 image with the shipped model (prompt, 256 codes, VQ decode).
let imageSeconds: number | null = null;
if (!cfgOnly && existsSync('models/cm3leon-small/cm3leon.json')) {
  const m = Cm3leon.loadSync('models/cm3leon-small');
  m.generateImage('a large red circle on a white background', { seed: 0 });
  const t0 = performance.now();
  m.generateImage('a large red circle on a white background', { seed: 1 });
  imageSeconds = (performance.now() - t0) / 1000;
}

// The peer: PyTorch on the same CPU, same architecture, same prompt and lengths.
let peer: Record<string, number> | string = 'not run';
const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const script = fileURLToPath(new URL('../../bench/gpu/torch_peer.py', import.meta.url));
const r = cfgOnly ? { status: 1, stdout: '', stderr: 'skipped (--cfg-only)', error: undefined } : spawnSync(python, [script, '--device', 'cpu', '--what', 'decode', '--model-config', `${cfg.vocabSize},${cfg.dim},${cfg.heads},${cfg.layers},${cfg.maxPositions}`, '--decode-batches', '1,8', ...(quick ? ['--quick'] : [])], { encoding: 'utf8', timeout: 600_000 });
if (r.status === 0) {
  const out = JSON.parse(r.stdout) as { decodeTorchLoop?: Record<string, { tokensPerSecond?: number }>; env?: { torch?: string; cpuThreads?: number } };
  peer = { 1: Math.round(out.decodeTorchLoop?.['1']?.tokensPerSecond ?? NaN), 8: Math.round(out.decodeTorchLoop?.['8']?.tokensPerSecond ?? NaN), threads: out.env?.cpuThreads ?? NaN };
} else {
  peer = `PyTorch peer failed or missing (${(r.stderr || String(r.error)).trim().split('\n').at(-1)})`;
}

const result = {
  date: new Date().toISOString(), machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, loadAverage1m: { start: Number(loadAtStart.toFixed(2)), end: Number(loadavg()[0]!.toFixed(2)) } },
  config: { ...cfg, prompt, newTokens, quick },
  greedyTokensPerSecond: { ours, pytorchKvLoop: peer },
  ratio: typeof peer === 'string' ? null : { 1: Number((ours[1]! / peer[1]!).toFixed(2)), 8: Number((ours[8]! / peer[8]!).toFixed(2)) },
  imageCodes: {
    rounds,
    medianSeconds: Object.fromEntries((Object.keys(times) as Variant[]).map((k) => [k, Number(med(k).toFixed(3))])),
    // Cost against one stream: ratio of the medians; in brackets the median of the per-round ratios.
    cfgCostBatched: Number((med('cfgBatched') / med('single')).toFixed(2)),
    cfgCostBatchedPerRound: Number(roundRatio('cfgBatched').toFixed(2)),
    cfgCostSequential: Number((med('cfgSequential') / med('single')).toFixed(2)),
    cfgCostSequentialPerRound: Number(roundRatio('cfgSequential').toFixed(2)),
    cfgBatchOf4PerImageCost: Number((med('cfgBatchOf4PerImage') / med('single')).toFixed(2)),
    allSeconds: Object.fromEntries((Object.keys(times) as Variant[]).map((k) => [k, times[k].map((t) => Number(t.toFixed(3)))])),
  },
  shippedModelImageSeconds: imageSeconds === null ? null : Number(imageSeconds.toFixed(2)),
};
console.log(JSON.stringify(result, null, args.includes('--json') ? 0 : 2));
