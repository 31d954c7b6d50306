/**
 * The image tokenizer (decoder-only, with its discriminator) and the bi-encoder train on WebGPU
 * through the same loop as on the CPU: each step's loss within 1e-3 (relative) of the CPU's, a
 * checkpoint written from the device after step 1, and a resume on the device that continues
 * from it. The whole image tokenizer refuses WebGPU with a clear message. Skipped, with the
 * reason, where no adapter exists.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as T from '../../src/index.js';
import { findCheckpoint, readTrainerState } from '../../src/train/run-dir.js';
import { runToy, type RecipeKind } from '../train/recipe-fixtures.js';
import { initTestWebGpu } from '../helpers.js';

const skip = await initTestWebGpu();
const STEPS = 4;
const tmp = (): string => mkdtempSync(join(tmpdir(), 'cm3leon-gpu-recipe-'));

/** Each step's training loss from metrics.jsonl (the last entry per step). */
function stepLosses(runDir: string): number[] {
  const byStep = new Map<number, number>();
  for (const line of readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n')) {
    const e = JSON.parse(line) as { step: number; loss?: number };
    if (e.loss !== undefined) byStep.set(e.step, e.loss);
  }
  return [...byStep.keys()].sort((a, b) => a - b).map((k) => byStep.get(k)!);
}

async function on<R>(backend: string, work: () => Promise<R>): Promise<R> {
  T.setBackend(backend);
  try {
    return await work();
  } finally {
    T.setBackend('cpu');
  }
}

for (const kind of ['image-tokenizer-decoder', 'bi-encoder'] as RecipeKind[]) {
  test(`${kind} on webgpu: the cpu's losses, a checkpoint from the device, resume`, { skip: skip ?? false }, async () => {
    const cpuDir = tmp();
    await on('cpu', () => runToy(kind, { runDir: cpuDir, steps: STEPS }));
    const gpuDir = tmp();
    const first = await on('webgpu', () => runToy(kind, { runDir: gpuDir, steps: STEPS, maxSeconds: 0 }));
    assert.equal(first.step, 1);
    assert.equal([...first.params.values()][0]!.backend.name, 'webgpu');
    assert.equal(readTrainerState(findCheckpoint(gpuDir)!).step, 1);
    const lines: string[] = [];
    const resumed = await on('webgpu', () => runToy(kind, { runDir: gpuDir, steps: STEPS, resume: true, log: (l) => lines.push(l) }));
    assert.ok(lines.some((l) => /resumed from step 1 /.test(l)), 'the run resumed from the device-written checkpoint');
    assert.equal(resumed.step, STEPS);
    const cpu = stepLosses(cpuDir);
    const gpu = stepLosses(gpuDir);
    assert.equal(gpu.length, STEPS);
    cpu.forEach((l, i) => assert.ok(Math.abs(l - gpu[i]!) < 1e-3 * Math.max(1, l), `step ${i + 1}: webgpu ${gpu[i]} vs cpu ${l}`));
  });
}

test('the whole image tokenizer refuses webgpu with a clear message', { skip: skip ?? false }, async () => {
  await assert.rejects(on('webgpu', () => runToy('image-tokenizer', { runDir: tmp(), steps: 1 })), /trains with --decoder-only/);
});
