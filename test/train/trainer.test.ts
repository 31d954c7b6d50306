/** The trainer: learning, metrics and plots, exact resume, survival of SIGKILL, NaN detection. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { train } from '../../src/train/trainer.js';
import { findCheckpoint, loadCheckpoint } from '../../src/train/run-dir.js';
import { packDocuments } from '../../src/train/packing.js';
import { decodePng } from '../../src/data/index.js';
import { assignData } from '../../src/nn/index.js';
import { corpus, source, tinyModel } from './fixtures.js';

const quiet = (): void => {};
const tmp = (): string => mkdtempSync(join(tmpdir(), 'cm3leon-train-'));

test('packing keeps every token exactly once as a target, in rows of seqLen + 1', () => {
  const docs = corpus(30, 5);
  const rows = packDocuments(docs, { seqLen: 8, seed: 1, epoch: 0 });
  const total = docs.reduce((s, d) => s + d.length, 0);
  assert.equal(rows.length, Math.floor((total - 1) / 8));
  for (let i = 1; i < rows.length; i++) assert.equal(rows[i]![0], rows[i - 1]![8], 'rows overlap by one token');
});

test('training lowers the loss and writes metrics, a loss curve and a checkpoint', async () => {
  const runDir = tmp();
  const r = await train(tinyModel(), source(), { runDir, steps: 60, lr: 3e-3, warmup: 5, evalEvery: 30, checkpointEvery: 30, log: quiet });
  const lines = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
  const losses = lines.filter((l) => l.loss !== undefined).map((l) => l.loss!);
  assert.equal(losses.length, 60);
  assert.ok(losses.slice(-5).reduce((a, b) => a + b) / 5 < losses[0]! - 1, `loss ${losses[0]} -> ${losses[losses.length - 1]}`);
  assert.ok(r.evalLoss !== null && r.evalLoss < 2.2, `held-out loss ${r.evalLoss}`);
  assert.equal(lines.filter((l) => l.evalLoss !== undefined).length, 2);
  const png = decodePng(readFileSync(join(runDir, 'loss.png')));
  assert.deepEqual([png.width, png.height], [640, 360]);
  assert.equal(loadCheckpoint(findCheckpoint(runDir)!).state.step, 60);
});

test('stopping and resuming gives the same model as an uninterrupted run', async () => {
  const [a, b] = [tmp(), tmp()];
  const opts = { steps: 12, lr: 3e-3, warmup: 3, evalEvery: 100, checkpointEvery: 4, log: quiet };
  const full = await train(tinyModel(), source(), { ...opts, runDir: a });
  await train(tinyModel(), source(), { ...opts, stopAfter: 6, runDir: b });
  // The resumed run starts from the checkpoint, whatever model it is handed.
  const resumed = await train(tinyModel(99), source(), { ...opts, runDir: b, resume: true });
  assert.equal(resumed.step, 12);
  const pa = full.model.namedParameters();
  for (const [name, p] of resumed.model.namedParameters()) {
    const x = p.dataSync();
    const y = pa.get(name)!.dataSync();
    let d = 0;
    for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i]! - y[i]!));
    assert.ok(d < 1e-6, `${name} differs by ${d}`);
  }
});

test('a SIGKILL loses at most one checkpoint interval', async () => {
  const runDir = tmp();
  const child = spawn(process.execPath, [fileURLToPath(new URL('./train-child.js', import.meta.url)), runDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      const m = [...out.matchAll(/step (\d+)\//g)];
      if (m.length && Number(m[m.length - 1]![1]) >= 7) {
        clearInterval(timer);
        child.kill('SIGKILL');
        resolve();
      }
    }, 20);
    child.on('exit', () => { clearInterval(timer); resolve(); });
    setTimeout(() => { clearInterval(timer); child.kill('SIGKILL'); reject(new Error(`child did not train: ${out.slice(-300)}`)); }, 60_000);
  });
  await new Promise((r) => child.on('close', r));
  const reached = Math.max(...[...out.matchAll(/step (\d+)\//g)].map((m) => Number(m[1])));
  const dir = findCheckpoint(runDir);
  assert.ok(dir, 'a complete checkpoint survives the kill');
  const { state } = loadCheckpoint(dir);
  assert.ok(state.step >= reached - 2 && state.step % 2 === 0, `checkpoint at step ${state.step}, killed after step ${reached}`);
  const r = await train(tinyModel(), source(), { runDir, steps: state.step + 2, lr: 1e-3, warmup: 2, checkpointEvery: 2, evalEvery: 1000, resume: true, log: quiet });
  assert.equal(r.step, state.step + 2);
  assert.ok(!existsSync(join(runDir, 'checkpoint.tmp')) || findCheckpoint(runDir) !== null);
});

test('non-finite losses skip the step, then stop the run with the checkpoint intact', async () => {
  const runDir = tmp();
  const model = tinyModel();
  await train(model, source(), { runDir, steps: 2, lr: 1e-3, warmup: 1, checkpointEvery: 2, log: quiet });
  const w = model.namedParameters().get('layers.0.fc1.weight')!;
  assignData(w, new Float32Array(w.size).fill(NaN));
  await assert.rejects(train(model, source(), { runDir, steps: 10, lr: 1e-3, warmup: 1, maxBadSteps: 3, log: quiet }), /3 consecutive non-finite steps at step 0; the last checkpoint .* is intact/);
  assert.equal(loadCheckpoint(findCheckpoint(runDir)!).state.step, 2);
});
