/**
 * The decoder's run directory keeps its format: a checkpoint written in the layout of the first
 * decoder runs (model.safetensors + config.json, optimizer.safetensors with m.<param> / v.<param>
 * and metadata step / lr, trainer.json {step, tokensSeen, bestEvalLoss, extra: {}}) resumes, and
 * the loop writes the same layout back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSafetensors, saveSafetensors, type TensorEntry } from '../../src/nn/index.js';
import { loadDecoder, saveDecoder } from '../../src/model/checkpoint.js';
import { train } from '../../src/train/trainer.js';
import { source, tinyModel } from './fixtures.js';

test('a decoder checkpoint in the original layout resumes, and is written back in it', async () => {
  const runDir = mkdtempSync(join(tmpdir(), 'cm3leon-compat-'));
  const ckpt = join(runDir, 'checkpoint');
  mkdirSync(ckpt, { recursive: true });
  const model = tinyModel(4);
  saveDecoder(ckpt, model, { step: '3' });
  const entries = new Map<string, TensorEntry>();
  for (const [n, p] of model.namedParameters()) {
    entries.set(`m.${n}`, { shape: p.shape, data: new Float32Array(p.size).fill(1e-3) });
    entries.set(`v.${n}`, { shape: p.shape, data: new Float32Array(p.size).fill(1e-6) });
  }
  saveSafetensors(join(ckpt, 'optimizer.safetensors'), entries, { step: '3', lr: '0.001' });
  writeFileSync(join(ckpt, 'trainer.json'), `${JSON.stringify({ step: 3, tokensSeen: 192, bestEvalLoss: 9, extra: {} }, null, 2)}\n`);

  const lines: string[] = [];
  const r = await train(tinyModel(1), source(), { runDir, steps: 6, lr: 1e-3, warmup: 1, evalEvery: 6, checkpointEvery: 3, resume: true, log: (l) => lines.push(l) });
  assert.equal(r.step, 6);
  assert.ok(lines.some((l) => /resumed from step 3/.test(l)));
  const state = JSON.parse(readFileSync(join(ckpt, 'trainer.json'), 'utf8')) as { step: number; tokensSeen: number; bestEvalLoss: number; extra: Record<string, unknown> };
  assert.equal(state.step, 6);
  assert.equal(state.tokensSeen, 192 + 3 * 4 * 16);
  assert.ok(state.bestEvalLoss < 9);
  const opt = loadSafetensors(join(ckpt, 'optimizer.safetensors'));
  assert.equal(opt.metadata.step, '6');
  assert.deepEqual([...opt.tensors.keys()].sort(), [...entries.keys()].sort());
  assert.deepEqual([...loadDecoder(ckpt).namedParameters().keys()], [...model.namedParameters().keys()]);
});
