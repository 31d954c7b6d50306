/**
 * WebGPU benchmark: matmul GFLOP/s and the GPT training step of bench/engine.ts (same model, same
 * data) on the webgpu backend and on the cpu backend, in the same run, with ratios. GPU work is
 * asynchronous, so every timed region ends with `await backend.sync()` (all submitted work done).
 * On lavapipe (Mesa's CPU Vulkan driver) the numbers only show that it works end to end.
 *
 *   node dist/bench/webgpu.js [--quick] [--steps N] [--sizes 256,512,1024] [--json]
 */
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as T from '../src/index.js';
import { initWebGpu, type WebGpuBackend } from '../src/backends/webgpu/index.js';
import { gptConfig } from './engine.js';
import { gptTrainingStep } from './gpt-step.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Waits for the backend's queued work (a no-op on the cpu, whose kernels are synchronous). */
async function settle(backend: string): Promise<void> {
  if (backend === 'webgpu') await (T.getBackend('webgpu') as WebGpuBackend).sync();
}

/** Median seconds per call of fn (after one warm-up), running for about `seconds`. */
async function timeIt(backend: string, fn: () => void, seconds: number, minRuns = 3): Promise<number> {
  fn();
  await settle(backend);
  const times: number[] = [];
  const start = performance.now();
  while (times.length < minRuns || ((performance.now() - start) / 1000 < seconds && times.length < 100)) {
    const t0 = performance.now();
    fn();
    await settle(backend);
    times.push((performance.now() - t0) / 1000);
  }
  return median(times);
}

export async function benchMatmulOn(backend: string, n: number, seconds: number): Promise<number> {
  T.setBackend(backend);
  try {
    const a = T.randn([n, n], { seed: 1 }).keep();
    const b = T.randn([n, n], { seed: 2 }).keep();
    const sec = await timeIt(backend, () => T.tidy(() => { T.matmul(a, b); }), seconds);
    T.dispose([a, b]);
    return (2 * n ** 3) / sec / 1e9;
  } finally {
    T.setBackend('cpu');
  }
}

export async function benchGptStepOn(backend: string, steps: number): Promise<{ tokensPerSecond: number; msPerStep: number; loss: number }> {
  const c = gptConfig;
  T.setBackend(backend);
  try {
    const g = gptTrainingStep(c);
    const sec = await timeIt(backend, g.step, 0, steps);
    const loss = await g.lastLoss();
    g.dispose();
    return { tokensPerSecond: (c.batch * c.seq) / sec, msPerStep: sec * 1000, loss };
  } finally {
    T.setBackend('cpu');
  }
}

export async function runWebGpuBench(o: { quick?: boolean; steps?: number; sizes?: number[]; log?: (s: string) => void } = {}): Promise<Record<string, unknown>> {
  const log = o.log ?? (() => {});
  const gpu = await initWebGpu();
  log(`webgpu adapter: ${gpu.context.adapterName}`);
  const seconds = o.quick ? 0.3 : 1.5;
  const sizes = o.sizes ?? (o.quick ? [256, 512] : [512, 1024]);
  const matmul: Record<string, Record<number, number>> = { cpu: {}, webgpu: {} };
  for (const backend of ['cpu', 'webgpu']) {
    for (const n of sizes) {
      matmul[backend]![n] = Number((await benchMatmulOn(backend, n, seconds)).toFixed(2));
      log(`matmul ${n} on ${backend}: ${matmul[backend]![n]} GFLOP/s`);
    }
  }
  const steps = o.steps ?? (o.quick ? 2 : 4);
  const gptStep: Record<string, unknown> = {};
  for (const backend of ['cpu', 'webgpu']) {
    const r = await benchGptStepOn(backend, steps);
    gptStep[backend] = { tokensPerSecond: Math.round(r.tokensPerSecond), msPerStep: Math.round(r.msPerStep), loss: Number(r.loss.toFixed(4)) };
    log(`gptStep on ${backend}: ${r.tokensPerSecond.toFixed(0)} tokens/s (${r.msPerStep.toFixed(0)} ms/step, loss ${r.loss.toFixed(4)})`);
  }
  const ratio = (b: Record<string, unknown>): number => Number((((b.webgpu as { tokensPerSecond: number }).tokensPerSecond) / ((b.cpu as { tokensPerSecond: number }).tokensPerSecond)).toFixed(3));
  return {
    adapter: gpu.context.adapterName,
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version },
    date: new Date().toISOString(),
    matmul,
    gptStep: { ...gptStep, config: gptConfig, steps },
    ratio: {
      matmul: Object.fromEntries(sizes.map((n) => [n, Number((matmul.webgpu![n]! / matmul.cpu![n]!).toFixed(3))])),
      gptStep: ratio(gptStep),
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const arg = (name: string): string | undefined => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
  const json = args.includes('--json');
  const result = await runWebGpuBench({
    quick: args.includes('--quick'),
    steps: arg('--steps') ? Number(arg('--steps')) : undefined,
    sizes: arg('--sizes')?.split(',').map(Number),
    log: json ? undefined : (s) => console.log(s),
  });
  console.log(JSON.stringify(result, null, json ? 0 : 2));
}
