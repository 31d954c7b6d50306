/**
 * The trainer on WebGPU: the same steps as on the CPU reach the same losses, checkpoints are
 * written through host copies and load back, and a resumed run continues from them. Skipped, with
 * the reason, where no adapter exists.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as T from '../../src/index.js';
import { train } from '../../src/train/trainer.js';
import { findCheckpoint, loadCheckpoint } from '../../src/train/run-dir.js';
import { source, tinyModel } from '../train/fixtures.js';
import { initTestWebGpu } from '../helpers.js';

const skip = await initTestWebGpu();
const quiet = (): void => {};

async function trainOn(backend: string, runDir: string, o: { steps: number; stopAfter?: number; resume?: boolean }): Promise<Awaited<ReturnType<typeof train>>> {
  T.setBackend(backend);
  try {
    return await train(tinyModel(), source(), { runDir, lr: 3e-3, warmup: 2, evalEvery: 4, checkpointEvery: 2, log: quiet, ...o });
  } finally {
    T.setBackend('cpu');
  }
}

test('training on webgpu matches the cpu, checkpoints and resumes', { skip: skip ?? false }, async () => {
  const cpu = await trainOn('cpu', mkdtempSync(join(tmpdir(), 'cm3leon-gpu-train-')), { steps: 6 });
  const gpuDir = mkdtempSync(join(tmpdir(), 'cm3leon-gpu-train-'));
  const gpu = await trainOn('webgpu', gpuDir, { steps: 6, stopAfter: 4 });
  assert.equal(gpu.model.embedTokens.weight.backend.name, 'webgpu');
  assert.equal(gpu.step, 4);
  // The checkpoint was read off the device; it loads on the cpu and holds step 4.
  const ckpt = loadCheckpoint(findCheckpoint(gpuDir)!);
  assert.equal(ckpt.state.step, 4);
  const resumed = await trainOn('webgpu', gpuDir, { steps: 6, resume: true });
  assert.equal(resumed.step, 6);
  assert.ok(Math.abs(resumed.lastLoss - cpu.lastLoss) < 1e-3 * Math.max(1, cpu.lastLoss), `webgpu ${resumed.lastLoss} vs cpu ${cpu.lastLoss}`);
  assert.ok(resumed.evalLoss !== null && cpu.evalLoss !== null && Math.abs(resumed.evalLoss - cpu.evalLoss) < 1e-3 * cpu.evalLoss);
});
