/**
 * Engine benchmark: matmul GFLOP/s (n = 1024, 2048) and a GPT training step in tokens/s (4 layers,
 * width 256, 4 heads, seq 128, batch 8, vocab 1024; forward + backward + AdamW), with the same two
 * figures from the peer — PyTorch on the CPU running the same model in plain PyTorch
 * (scripts/torch/bench_engine.py) — measured in the same run, and ours / peer ratios.
 * Medians throughout: timings on a shared 2-core machine swing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as T from '../src/index.js';
import { cpu } from '../src/backends/cpu/index.js';
import { Decoder } from '../src/model/decoder.js';

export interface EngineBenchOptions {
  quick?: boolean;
  /** Training steps to time (default 12; quick 4). */
  steps?: number;
  peer?: boolean;
  log?: (msg: string) => void;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Times fn repeatedly for about `seconds`, after one warm-up call; returns the median seconds per call. */
function timeIt(fn: () => void, seconds: number, minRuns = 3): number {
  fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < minRuns || (performance.now() - start) / 1000 < seconds) {
    const t0 = performance.now();
    fn();
    times.push((performance.now() - t0) / 1000);
    if (times.length >= 200) break;
  }
  return median(times);
}

export function benchMatmul(n: number, seconds: number): number {
  const a = T.randn([n, n], { seed: 1 }).keep();
  const b = T.randn([n, n], { seed: 2 }).keep();
  const sec = timeIt(() => T.tidy(() => { T.matmul(a, b); }), seconds);
  a.dispose();
  b.dispose();
  return (2 * n ** 3) / sec / 1e9;
}

export const gptConfig = { vocabSize: 1024, dim: 256, heads: 4, layers: 4, maxPositions: 128, batch: 8, seq: 128 };

export function benchGptStep(steps: number): { tokensPerSecond: number; msPerStep: number; steps: number; rssMB: number[]; liveBuffers: number } {
  const c = gptConfig;
  const model = new Decoder({ vocabSize: c.vocabSize, dim: c.dim, heads: c.heads, layers: c.layers, maxPositions: c.maxPositions, initStd: 0.02, zeroOutputLayers: false });
  const opt = new T.AdamW(model.parameters(), { lr: 1e-3, betas: [0.9, 0.95], weightDecay: 0.1 });
  const rng = new T.Rng(3);
  const idsData = Int32Array.from({ length: c.batch * c.seq }, () => rng.int(c.vocabSize));
  const ids = T.tensor(idsData, [c.batch, c.seq], { dtype: 'i32' }).keep();
  const targets = T.tensor(Int32Array.from(idsData, (_, i) => idsData[(i + 1) % idsData.length]!), [c.batch, c.seq], { dtype: 'i32' }).keep();
  const step = (): void => {
    T.tidy(() => T.backward(model.loss(ids, targets)));
    opt.stepUpdate();
    opt.zeroGrad();
  };
  for (let i = 0; i < 3; i++) step();
  // Resident memory at the start and after each quarter of the run: flat means no leak.
  const rss: number[] = [Math.round(process.memoryUsage().rss / 2 ** 20)];
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    step();
    times.push((performance.now() - t0) / 1000);
    if ((i + 1) % Math.max(1, Math.floor(steps / 4)) === 0) rss.push(Math.round(process.memoryUsage().rss / 2 ** 20));
  }
  const sec = median(times);
  return { tokensPerSecond: (c.batch * c.seq) / sec, msPerStep: sec * 1000, steps, rssMB: rss, liveBuffers: T.liveBuffers() };
}

/** OPENBLAS_CORETYPE that gives Debian's OpenBLAS 0.3.21 its fast kernels on this CPU (null: its own detection is right). */
export function openblasCoretype(): string | null {
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const vendor = /vendor_id\s*:\s*(\S+)/.exec(info)?.[1];
    const family = Number(/cpu family\s*:\s*(\d+)/.exec(info)?.[1]);
    const flags = /flags\s*:(.*)/.exec(info)?.[1] ?? '';
    // 0.3.21 predates Sapphire/Emerald Rapids and falls back to Prescott kernels on them (4x slower).
    if (vendor === 'GenuineIntel' && family === 6 && /\bavx512f\b/.test(flags)) return 'SkylakeX';
  } catch { /* not Linux: leave OpenBLAS to itself */ }
  return null;
}

export interface PeerResult {
  peer: string;
  torch: string;
  threads: number;
  matmul: Record<string, number>;
  gptStep: { tokensPerSecond: number; msPerStep: number };
  [key: string]: unknown;
}

/** Runs the PyTorch peer when Debian's python3-torch is installed; null (with the reason) otherwise. */
export function runPeer(quick: boolean): { result: PeerResult | null; reason?: string } {
  const python = ['/usr/bin/python3', 'python3'].find((p) => p.includes('/') ? existsSync(p) : true)!;
  const script = fileURLToPath(new URL('../../scripts/torch/bench_engine.py', import.meta.url));
  const probe = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) return { result: null, reason: 'PyTorch not installed (apt-get install python3-torch libopenblas0-pthread)' };
  const env = { ...process.env };
  const core = openblasCoretype();
  if (core) env.OPENBLAS_CORETYPE = core;
  else delete env.OPENBLAS_CORETYPE;
  const r = spawnSync(python, [script, ...(quick ? ['--quick'] : [])], { encoding: 'utf8', env, timeout: 600_000 });
  if (r.status !== 0) return { result: null, reason: `peer failed: ${(r.stderr || '').trim().split('\n').slice(-3).join(' | ')}` };
  return { result: JSON.parse(r.stdout) as PeerResult };
}

export async function runEngineBench(o: EngineBenchOptions = {}): Promise<Record<string, unknown>> {
  const log = o.log ?? (() => {});
  T.setBackend('cpu');
  const native = cpu.native?.info() ?? null;
  log(`kernels: ${native ? `native ${native.isa}, ${native.threads} threads` : 'TypeScript reference (native addon not built)'}`);
  const seconds = o.quick ? 0.3 : 1.5;
  const matmul: Record<string, number> = {};
  for (const n of [1024, 2048]) {
    matmul[n] = Number(benchMatmul(n, seconds).toFixed(1));
    log(`matmul ${n}: ${matmul[n]} GFLOP/s`);
  }
  const gpt = benchGptStep(o.steps ?? (o.quick ? 4 : 12));
  log(`gptStep: ${gpt.tokensPerSecond.toFixed(0)} tokens/s (${gpt.msPerStep.toFixed(1)} ms/step)`);
  const out: Record<string, unknown> = {
    engine: 'cm3leon',
    backend: 'cpu',
    kernels: native ?? 'reference',
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version },
    date: new Date().toISOString(),
    matmul,
    gptStep: { ...gpt, tokensPerSecond: Math.round(gpt.tokensPerSecond), msPerStep: Number(gpt.msPerStep.toFixed(1)), config: gptConfig },
  };
  if (o.peer !== false) {
    log('peer: PyTorch CPU ...');
    const peer = runPeer(!!o.quick);
    if (peer.result) {
      const p = peer.result;
      out.peer = p;
      out.ratio = {
        matmul: Object.fromEntries(Object.keys(matmul).map((n) => [n, Number((matmul[n]! / (p.matmul[n] ?? NaN)).toFixed(2))])),
        gptStep: Number((gpt.tokensPerSecond / p.gptStep.tokensPerSecond).toFixed(2)),
      };
    } else {
      out.peer = null;
      out.peerReason = peer.reason;
    }
  }
  return out;
}

/**
 * Run as a script (what `cm3leon bench engine` starts):
 *   node dist/bench/engine.js [--json] [--quick] [--no-peer] [--steps N]
 * The flags are checked by the command before it starts this.
 */
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--steps');
  const json = args.includes('--json');
  const result = await runEngineBench({
    quick: args.includes('--quick'), peer: !args.includes('--no-peer'), steps: at >= 0 ? Number(args[at + 1]) : undefined,
    log: json ? (m) => console.error(m) : (m) => console.log(m),
  });
  console.log(json ? JSON.stringify(result) : JSON.stringify(result, null, 2));
}
