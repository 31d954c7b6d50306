/**
 * GPU benchmark of the WebGPU backend, one measurement per process (a device fault or a hang then
 * costs one figure, not the run). bench/gpu/run.sh drives it and the PyTorch peer
 * (bench/gpu/torch_peer.py) and bench/gpu/report.mjs puts them side by side.
 *
 *   node dist/bench/gpu/webgpu-bench.js info               (train and decode take --profile: GPU time per kernel)
 *   node dist/bench/gpu/webgpu-bench.js matmul --n 4096 [--kernel auto|tile64|tile128] [--bk 8|16]
 *   node dist/bench/gpu/webgpu-bench.js train [--quick]     GPT step: 8 layers, width 512, 8 heads,
 *                                                           vocab 8192, seq 512, batch 32
 *   node dist/bench/gpu/webgpu-bench.js ops [--quick]       ms of each op class at the training shapes
 *   node dist/bench/gpu/webgpu-bench.js decode --batch 1 [--quick]   greedy, KV cache, 64-token
 *                                                           prompt, 256 new tokens
 *   node dist/bench/gpu/webgpu-bench.js vq --batch 64 [--full] [--quick]   image tokenizer training
 *                                                           step (models/image-tokenizer's architecture):
 *                                                           decoder only, or encoder + decoder (--full)
 *
 * Each prints one JSON line on stdout. GPU work is asynchronous, so a timed region ends when the
 * GPU has finished (`sync()`, or the read-back a decode step needs anyway).
 */
import * as T from '../../src/index.js';
import { initWebGpu, matmulTuning, queueTuning, type WebGpuBackend } from '../../src/backends/webgpu/index.js';
import { Decoder, KvCache } from '../../src/model/decoder.js';
import { assignData } from '../../src/nn/module.js';
import { gptTrainingStep } from '../gpt-step.js';
import { readFileSync } from 'node:fs';
import { ImageTokenizer } from '../../src/tokenizers/vq/image-tokenizer.js';
import { vqConfigFromDict } from '../../src/tokenizers/vq/config.js';
import { AdamW } from '../../src/nn/index.js';

export const trainConfig = { vocabSize: 8192, dim: 512, heads: 8, layers: 8, maxPositions: 512, batch: 32, seq: 512 };
export const quickTrainConfig = { vocabSize: 256, dim: 64, heads: 2, layers: 2, maxPositions: 64, batch: 2, seq: 32 };
export const decodeConfig = { prompt: 64, newTokens: 256 };
export const quickDecodeConfig = { prompt: 8, newTokens: 8 };

/** A kernel profile as rows sorted by GPU time, per `per` repetitions. */
function profileRows(prof: Map<string, { ms: number; count: number }>, per: number): { kernel: string; ms: number; dispatches: number }[] {
  return [...prof].map(([kernel, v]) => ({ kernel, ms: Number((v.ms / per).toFixed(3)), dispatches: Math.round(v.count / per) })).sort((a, b) => b.ms - a.ms);
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function makeDecoder(c: typeof trainConfig): Decoder {
  return new Decoder({ vocabSize: c.vocabSize, dim: c.dim, heads: c.heads, layers: c.layers, maxPositions: c.maxPositions, initStd: 0.02, zeroOutputLayers: false });
}

/** Adapter, features, limits: what this GPU offers through Dawn (with and without unsafe APIs). */
async function info(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const { create } = (await import('webgpu' as string)) as { create: (flags: string[]) => GPU };
  for (const [label, flags] of [['default', []], ['allow_unsafe_apis', ['enable-dawn-features=allow_unsafe_apis']]] as const) {
    const gpu = create([...flags]);
    (globalThis as { __gpuRoots?: GPU[] }).__gpuRoots = [...((globalThis as { __gpuRoots?: GPU[] }).__gpuRoots ?? []), gpu];
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) { out[label] = { error: 'no adapter' }; continue; }
    const ai = ((adapter as unknown as { info?: Record<string, unknown> }).info ?? {}) as Record<string, unknown>;
    const plain: Record<string, unknown> = {};
    for (const k of ['vendor', 'architecture', 'device', 'description', 'subgroupMinSize', 'subgroupMaxSize']) plain[k] = ai[k];
    const sm = (ai as { subgroupMatrixConfigs?: unknown[] }).subgroupMatrixConfigs ?? (adapter as { subgroupMatrixConfigs?: unknown[] }).subgroupMatrixConfigs;
    if (sm) plain.subgroupMatrixConfigs = [...sm].map((c) => { const o: Record<string, unknown> = {}; for (const k in c as object) o[k] = (c as Record<string, unknown>)[k]; return o; });
    const limits: Record<string, number> = {};
    for (const k of ['maxBufferSize', 'maxStorageBufferBindingSize', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup']) limits[k] = (adapter.limits as unknown as Record<string, number>)[k]!;
    // Can a device with shader-f16 be had? (Dawn's Vulkan backend gates it on driver features.)
    let f16: string;
    if (!adapter.features.has('shader-f16')) f16 = 'not offered by the adapter';
    else {
      try { const d = await adapter.requestDevice({ requiredFeatures: ['shader-f16'] }); f16 = 'device created'; d.destroy(); } catch (e) { f16 = `refused: ${(e as Error).message}`; }
    }
    out[label] = { adapter: plain, features: [...adapter.features].sort(), limits, shaderF16: f16 };
  }
  return out;
}

async function matmulBench(n: number, seconds: number): Promise<Record<string, unknown>> {
  const gpu = T.getBackend('webgpu') as WebGpuBackend;
  T.setBackend('webgpu');
  const a = T.randn([n, n], { seed: 1 }).keep();
  const b = T.randn([n, n], { seed: 2 }).keep();
  // Check the result against the cpu on a corner (a wrong fast kernel must not win).
  const c = T.matmul(a, b).keep();
  const got = await T.slice(T.slice(c, 0, 0, 8), 1, n - 8, n).data();
  T.setBackend('cpu');
  const ac = T.tensor(await T.slice(a, 0, 0, 8).data(), [8, n]);
  const bc = T.tensor(await T.slice(b, 1, n - 8, n).data(), [n, 8]);
  const want = T.matmul(ac, bc).dataSync();
  let maxErr = 0;
  for (let i = 0; i < want.length; i++) maxErr = Math.max(maxErr, Math.abs(want[i]! - got[i]!) / Math.sqrt(n));
  T.setBackend('webgpu');
  c.dispose();
  // Time batches of back-to-back products (one sync per batch), so launch gaps are amortised as
  // in a real workload; the batch size gives about 50 ms a batch.
  const one = async (reps: number): Promise<number> => {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) T.tidy(() => { T.matmul(a, b); });
    await gpu.sync();
    return (performance.now() - t0) / 1000 / reps;
  };
  const first = await one(1);
  const reps = Math.max(1, Math.min(200, Math.round(0.05 / Math.max(first, 1e-5))));
  const times: number[] = [];
  const start = performance.now();
  while (times.length < 3 || ((performance.now() - start) / 1000 < seconds && times.length < 50)) times.push(await one(reps));
  T.dispose([a, b]);
  const sec = median(times);
  return { n, kernel: matmulTuning.kernel, bk: matmulTuning.bk, tflops: (2 * n ** 3) / sec / 1e12, msPerProduct: sec * 1000, reps, rounds: times.length, maxScaledError: maxErr };
}

async function trainBench(quick: boolean, steps: number): Promise<Record<string, unknown>> {
  const gpu = T.getBackend('webgpu') as WebGpuBackend;
  const c = quick ? quickTrainConfig : trainConfig;
  T.setBackend('webgpu');
  const g = gptTrainingStep(c);
  const step = g.step;
  const times: number[] = [];
  const losses: number[] = [];
  const t00 = performance.now();
  for (let i = 0; i < steps + 2; i++) {
    const t0 = performance.now();
    step();
    await gpu.sync();
    if (i >= 2) times.push((performance.now() - t0) / 1000); // two warm-up steps (pipelines compile)
    losses.push(await g.lastLoss());
  }
  const sec = median(times);
  // One more step with a GPU timestamp per kernel (where the step's GPU time goes).
  let profile: ReturnType<typeof profileRows> | string = 'not asked for (--profile)';
  if (gpu.context.features.has('timestamp-query')) {
    gpu.queue.startProfile();
    step();
    profile = profileRows(await gpu.queue.stopProfile(), 1);
  }
  g.dispose();
  return {
    config: c, steps, tokensPerSecond: (c.batch * c.seq) / sec, msPerStep: sec * 1000, firstLoss: losses[0], lastLoss: losses.at(-1),
    totalSeconds: (performance.now() - t00) / 1000, dispatchesPerStep: Math.round(gpu.queue.dispatches / (steps + 2)),
    gpuMsPerStep: typeof profile === 'string' ? null : Number(profile.reduce((a, r) => a + r.ms, 0).toFixed(2)), profile,
  };
}

/**
 * Milliseconds of the training step's op classes at its shapes (B 32, T 512, C 512, H 8, V 8192):
 * where a step's time goes, for tuning. Backward passes are timed with their forward.
 */
async function opsBench(quick: boolean): Promise<Record<string, unknown>> {
  const gpu = T.getBackend('webgpu') as WebGpuBackend;
  const c = quick ? quickTrainConfig : trainConfig;
  const rows = c.batch * c.seq;
  const d = c.dim / c.heads;
  T.setBackend('webgpu');
  const leaf = (shape: number[], seed: number): T.Tensor => { const t = T.randn(shape, { seed }).keep(); t.requiresGrad = true; return t; };
  const x = leaf([rows, c.dim], 1);
  const w = leaf([4 * c.dim, c.dim], 2);
  const e = leaf([c.vocabSize, c.dim], 3);
  const q = leaf([c.batch, c.seq, c.heads, d], 4);
  const k = leaf([c.batch, c.seq, c.heads, d], 5);
  const v = leaf([c.batch, c.seq, c.heads, d], 6);
  const targets = T.tensor(Int32Array.from({ length: rows }, (_, i) => (i * 7919) % c.vocabSize), [rows], { dtype: 'i32' }).keep();
  const cases: Record<string, () => void> = {
    'fc1 x W^T (rows x C -> 4C)': () => { T.matmul(x, T.transpose(w)); },
    'fc1 forward+backward': () => { T.backward(T.sum(T.matmul(x, T.transpose(w)))); },
    'fc1 weight gradient dY^T x (4C x rows x C, split K)': () => { T.matmul(T.transpose(T.matmul(x, T.transpose(w))), x); },
    'logits x E^T (rows x C -> V)': () => { T.matmul(x, T.transpose(e)); },
    'attention forward': () => { T.attention(q, k, v, { causal: true }); },
    'attention forward+backward': () => { T.backward(T.sum(T.attention(q, k, v, { causal: true }))); },
    'layerNorm forward+backward': () => { T.backward(T.sum(T.layerNorm(x))); },
    'gelu forward+backward (rows x 4C)': () => { T.backward(T.sum(T.gelu(T.matmul(x, T.transpose(w))))); },
    'crossEntropy forward+backward (rows x V)': () => { T.backward(T.crossEntropy(T.matmul(x, T.transpose(e)), targets)); },
  };
  const out: Record<string, number> = {};
  for (const [name, f] of Object.entries(cases)) {
    const run = async (): Promise<number> => {
      const t0 = performance.now();
      T.tidy(f);
      for (const t of [x, w, e, q, k, v]) { t.grad?.dispose(); t.grad = null; }
      await gpu.sync();
      return performance.now() - t0;
    };
    await run();
    const times: number[] = [];
    for (let i = 0; i < 5; i++) times.push(await run());
    out[name] = Number(median(times).toFixed(3));
  }
  T.dispose([x, w, e, q, k, v, targets]);
  return { config: c, ms: out };
}

/** Greedy decoding with the KV cache; the next token is chosen on the host from the read logits. */
async function decodeBench(quick: boolean, batch: number, runs: number): Promise<Record<string, unknown>> {
  const c = quick ? quickTrainConfig : trainConfig;
  const d = quick ? quickDecodeConfig : decodeConfig;
  T.setBackend('webgpu');
  const model = makeDecoder(c);
  const cache = new KvCache(model.config, batch, d.prompt + d.newTokens, 'webgpu');
  const rng = new T.Rng(5);
  const prompt = Int32Array.from({ length: batch * d.prompt }, () => 3 + rng.int(c.vocabSize - 3));
  const argmaxRows = (logits: Float32Array, v: number): Int32Array => Int32Array.from({ length: logits.length / v }, (_, r) => {
    let best = 0;
    for (let j = 1; j < v; j++) if (logits[r * v + j]! > logits[r * v + best]!) best = j;
    return best;
  });
  let hostMs = 0; // time spent recording the steps on the host (JavaScript, bind groups, submits)
  const once = async (): Promise<{ seconds: number; tokens: Int32Array }> => {
    hostMs = 0;
    cache.reset();
    const out = new Int32Array(batch * d.newTokens);
    const t0 = performance.now();
    let logits = T.tidy(() => { const l = model.forwardCached(T.tensor(prompt, [batch, d.prompt], { dtype: 'i32' }), cache); return T.slice(l, 1, d.prompt - 1, d.prompt); }).keep();
    for (let s = 0; s < d.newTokens; s++) {
      const next = argmaxRows((await logits.data()) as Float32Array, c.vocabSize);
      logits.dispose();
      next.forEach((id, r) => (out[r * d.newTokens + s] = id));
      if (s === d.newTokens - 1) break;
      const h0 = performance.now();
      logits = T.tidy(() => model.forwardCached(T.tensor(next, [batch, 1], { dtype: 'i32' }), cache)).keep();
      hostMs += performance.now() - h0;
    }
    return { seconds: (performance.now() - t0) / 1000, tokens: out };
  };
  await once(); // warm-up: pipelines compile
  const times: number[] = [];
  let tokens: Int32Array = new Int32Array(0);
  for (let i = 0; i < runs; i++) { const r = await once(); times.push(r.seconds); tokens = r.tokens; }
  const gpu = T.getBackend('webgpu') as WebGpuBackend;
  let profile: ReturnType<typeof profileRows> | string = 'not asked for (--profile)';
  if (gpu.context.features.has('timestamp-query')) {
    gpu.queue.startProfile();
    await once();
    profile = profileRows(await gpu.queue.stopProfile(), d.newTokens);
  }
  // The same greedy continuation on the cpu for the first sequence's first tokens: a check, not a timing.
  const check = Math.min(8, d.newTokens);
  T.setBackend('cpu');
  const cpuModel = makeDecoder(c);
  const params = model.parameters();
  const cpuParams = cpuModel.parameters();
  for (let i = 0; i < params.length; i++) assignData(cpuParams[i]!, await params[i]!.data());
  const cpuCache = new KvCache(cpuModel.config, 1, d.prompt + check);
  let ids = T.tensor(prompt.slice(0, d.prompt), [1, d.prompt], { dtype: 'i32' });
  const cpuTokens: number[] = [];
  for (let s = 0; s < check; s++) {
    const l = cpuModel.forwardCached(ids, cpuCache);
    const last = T.slice(l, 1, l.shape[1]! - 1, l.shape[1]!).dataSync() as Float32Array;
    const next = argmaxRows(last, c.vocabSize)[0]!;
    cpuTokens.push(next);
    ids = T.tensor(Int32Array.from([next]), [1, 1], { dtype: 'i32' });
  }
  const sec = median(times);
  return {
    batch, prompt: d.prompt, newTokens: d.newTokens, seconds: sec, tokensPerSecond: (batch * d.newTokens) / sec,
    perSequenceTokensPerSecond: d.newTokens / sec, runs, hostMsPerStep: hostMs / (d.newTokens - 1),
    matchesCpu: cpuTokens.every((t, i) => t === tokens[i]), firstTokens: [...tokens.slice(0, check)], cpuTokens,
    gpuMsPerToken: typeof profile === 'string' ? null : Number(profile.reduce((a, r) => a + r.ms, 0).toFixed(3)), profilePerToken: profile,
  };
}

/**
 * One training step of the image tokenizer at the shipped architecture, on `backend`: the decoder
 * alone from fixed codes (how the shipped decoder was trained), or encoder + decoder with the
 * continuous latent (--full: the convolution work of a whole-autoencoder step, without the nearest-
 * code search). L1 loss, backward, AdamW. Random inputs: the time does not depend on the values.
 */
async function vqBench(backend: 'webgpu' | 'cpu', batch: number, full: boolean, steps: number, quick: boolean): Promise<Record<string, unknown>> {
  const cfg = vqConfigFromDict(JSON.parse(readFileSync('models/image-tokenizer/config.json', 'utf8')));
  if (quick) cfg.channels = [8, 8, 8];
  T.setBackend(backend);
  const tok = new ImageTokenizer(cfg, 1);
  const params = full ? [...tok.encoder.parameters(), ...tok.decoder.parameters()] : tok.decoder.parameters();
  const opt = new AdamW([{ params }], { lr: 1e-4 });
  const g = cfg.imageSize / cfg.factor;
  const rng = new T.Rng(3);
  const x = new Float32Array(batch * 3 * cfg.imageSize * cfg.imageSize).map(() => rng.uniform() * 2 - 1);
  const ids = Int32Array.from({ length: batch * g * g }, () => Math.floor(rng.uniform() * cfg.codebookSize));
  const sync = async (): Promise<void> => { if (backend === 'webgpu') await (T.getBackend('webgpu') as WebGpuBackend).sync(); };
  let lastLoss: T.Tensor | null = null;
  const step = (): void => {
    lastLoss?.dispose();
    lastLoss = T.tidy(() => {
      const target = T.tensor(x, [batch, 3, cfg.imageSize, cfg.imageSize]);
      const z = full ? tok.encoder.forward(target) : T.noGrad(() => tok.quantizer.lookup(ids, batch, g, g));
      const loss = T.mean(T.abs(T.sub(tok.decoder.forward(z), target)));
      T.backward(loss);
      opt.stepUpdate();
      opt.zeroGrad();
      return loss;
    }).keep();
  };
  const times: number[] = [];
  for (let i = 0; i < steps + 2; i++) {
    const t0 = performance.now();
    step();
    await sync();
    if (i >= 2) times.push((performance.now() - t0) / 1000);
  }
  const loss = await lastLoss!.itemAsync();
  const sec = median(times);
  return { backend, config: cfg, batch, full, steps, msPerStep: sec * 1000, imagesPerSecond: batch / sec, lastLoss: loss, cpu: backend === 'cpu' ? T.cpuInfo() : undefined };
}

const args = process.argv.slice(2);
const arg = (name: string, fallback: string): string => { const i = args.indexOf(name); return i >= 0 ? args[i + 1]! : fallback; };
const what = args[0];
const quick = args.includes('--quick');
let result: Record<string, unknown>;
try {
  if (what === 'info') result = await info();
  else {
    const profileWanted = args.includes('--profile');
    if (args.includes('--threads')) T.setNumThreads(Number(arg('--threads', '1')));
    const gpu = await initWebGpu({ powerPreference: 'high-performance', timestamps: profileWanted });
    const kernel = arg('--kernel', 'auto');
    if (kernel !== 'auto' && kernel !== 'tile64' && kernel !== 'tile128') throw new Error(`--kernel: auto, tile64 or tile128, not ${kernel}`);
    matmulTuning.kernel = kernel;
    matmulTuning.bk = arg('--bk', String(matmulTuning.bk)) === '16' ? 16 : 8;
    queueTuning.firstBatch = Number(arg('--first-batch', String(queueTuning.firstBatch)));
    const base = { adapter: gpu.context.adapterName, kernel: matmulTuning.kernel, bk: matmulTuning.bk, firstBatch: queueTuning.firstBatch };
    if (what === 'matmul') result = { ...base, ...(await matmulBench(Number(arg('--n', '1024')), Number(arg('--seconds', '1.5')))) };
    else if (what === 'train') result = { ...base, ...(await trainBench(quick, Number(arg('--steps', quick ? '2' : '8')))) };
    else if (what === 'ops') result = { ...base, ...(await opsBench(quick)) };
    else if (what === 'vq') result = { ...base, ...(await vqBench(args.includes('--cpu') ? 'cpu' : 'webgpu', Number(arg('--batch', quick ? '2' : '64')), args.includes('--full'), Number(arg('--steps', quick ? '2' : '6')), quick)) };
    else if (what === 'decode') result = { ...base, ...(await decodeBench(quick, Number(arg('--batch', '1')), Number(arg('--runs', quick ? '1' : '3')))) };
    else throw new Error(`unknown measurement '${what}': info, matmul, train, ops, decode or vq`);
  }
} catch (e) {
  result = { error: (e as Error).message };
}
console.log(JSON.stringify({ what, ...result }));
process.exit(0);
