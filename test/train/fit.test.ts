/**
 * The generic training loop on a linear-regression recipe: the warmup-cosine schedule, global
 * clipping, accumulation, the non-finite stop, and resume equal to an uninterrupted run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSafetensors, warmupCosine } from '../../src/nn/index.js';
import { fit } from '../../src/train/fit.js';
import { findCheckpoint, readTrainerState } from '../../src/train/run-dir.js';
import { formatDuration, progressLine } from '../../src/train/progress.js';
import { linearRecipe } from './fit-fixtures.js';

const quiet = (): void => {};
const tmp = (): string => mkdtempSync(join(tmpdir(), 'cm3leon-fit-'));
const metrics = (dir: string): Record<string, number>[] => readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
const weights = (r: ReturnType<typeof linearRecipe>): number[] => [...r.w.dataSync(), ...r.b.dataSync()];

test('fit: the loss falls, the lr follows warmup + cosine, metrics and checkpoint are written', async () => {
  const runDir = tmp();
  const recipe = linearRecipe();
  const r = await fit(recipe, { runDir, steps: 40, lr: 0.05, warmup: 5, minLr: 0.005, checkpointEvery: 10, log: quiet });
  assert.equal(r.step, 40);
  assert.ok(r.lastLoss < 0.2 * r.losses[0]!, `loss ${r.losses[0]} -> ${r.lastLoss}`);
  const m = metrics(runDir).filter((e) => e.loss !== undefined);
  assert.equal(m.length, 40);
  m.forEach((e, i) => assert.ok(Math.abs(e.lr! - warmupCosine(i, { peakLr: 0.05, warmup: 5, totalSteps: 40, minLr: 0.005 })) < 1e-12, `lr at step ${i}`));
  assert.equal(m[0]!.tokensSeen, 8);
  const state = readTrainerState(findCheckpoint(runDir)!);
  assert.equal(state.step, 40);
  assert.equal(state.tokensSeen, 320);
});

test('fit: the global gradient norm is clipped before the update', async () => {
  const runDir = tmp();
  await fit(linearRecipe({ scale: 1000 }), { runDir, steps: 1, lr: 0.01, warmup: 1, clip: 0.5, log: quiet });
  const norm = metrics(runDir)[0]!.gradNorm!;
  assert.ok(norm > 10, `pre-clip norm ${norm} is recorded`);
  // AdamW's first moment after one step is (1 - beta1) x the clipped gradient: norm 0.1 x 0.5.
  const opt = loadSafetensors(join(findCheckpoint(runDir)!, 'optimizer.safetensors'));
  const m = [...opt.tensors.get('m.w')!.data, ...opt.tensors.get('m.b')!.data];
  assert.ok(Math.abs(Math.hypot(...m) - 0.05) < 1e-5, `moment norm ${Math.hypot(...m)}`);
});

test('fit: accumulating 2 micro-batches equals one batch holding both', async () => {
  const acc = linearRecipe({ batch: 4 });
  const joined = linearRecipe({ batch: 8, joined: true });
  const o = { steps: 6, lr: 0.05, warmup: 2, log: quiet };
  const a = await fit(acc, { ...o, runDir: tmp(), accumulate: 2 });
  const b = await fit(joined, { ...o, runDir: tmp() });
  weights(acc).forEach((v, i) => assert.ok(Math.abs(v - weights(joined)[i]!) < 1e-6, `weight ${i}: ${v} vs ${weights(joined)[i]}`));
  a.losses.forEach((l, i) => assert.ok(Math.abs(l - b.losses[i]!) < 1e-5, `loss ${i}: ${l} vs ${b.losses[i]}`));
});

test('fit: a non-finite step is skipped (and retried); consecutive ones stop the run with the checkpoint intact', async () => {
  const runDir = tmp();
  const lines: string[] = [];
  const skipped = linearRecipe({ nanCalls: [3] });
  const r = await fit(skipped, { runDir, steps: 6, lr: 0.05, warmup: 1, checkpointEvery: 2, log: (l) => lines.push(l) });
  assert.equal(r.step, 6);
  assert.ok(weights(skipped).every(Number.isFinite));
  assert.ok(lines.some((l) => /step 3: non-finite loss .* step skipped/.test(l)));
  const stuck = linearRecipe({ nanCalls: [0, 1, 2, 3] });
  await assert.rejects(fit(stuck, { runDir, steps: 12, lr: 0.05, warmup: 1, checkpointEvery: 2, resume: true, maxBadSteps: 3, log: quiet }), /3 consecutive non-finite steps at step 6; the last checkpoint .* is intact/);
  assert.equal(readTrainerState(findCheckpoint(runDir)!).step, 6);
});

test('fit: stopping and resuming (optimizer state included) equals an uninterrupted run', async () => {
  const o = { steps: 12, lr: 0.05, warmup: 3, checkpointEvery: 5, log: quiet };
  const full = linearRecipe();
  await fit(full, { ...o, runDir: tmp() });
  const dir = tmp();
  await fit(linearRecipe(), { ...o, runDir: dir, stopAfter: 7 }); // checkpoints at 5 and 7
  const lines: string[] = [];
  const resumed = linearRecipe();
  const r = await fit(resumed, { ...o, runDir: dir, resume: true, log: (l) => lines.push(l) });
  assert.equal(r.step, 12);
  assert.equal(r.losses.length, 5);
  assert.ok(lines.some((l) => /resumed from step 7/.test(l)));
  assert.deepEqual(weights(resumed), weights(full));
});

test('progress line: bar, step, loss, statistics, rate and ETA', () => {
  const line = progressLine({ step: 15, steps: 30, loss: 1.23456, stats: { l1: 0.5, restarted: 3 }, lr: 1e-3, rate: 120, unit: 'images', eta: 75 });
  assert.equal(line, `[${'#'.repeat(15)}${'.'.repeat(15)}] step 15/30 loss 1.2346 l1 0.5000 restarted 3 lr 1.00e-3 120 images/s ETA 1m15s`);
  assert.equal(formatDuration(4000), '1h06m');
  assert.equal(formatDuration(NaN), '?');
});
