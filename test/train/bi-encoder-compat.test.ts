/**
 * A bi-encoder checkpoint of the earlier layout (state.json {step, seconds, config}, optimizer
 * moments numbered m.<i> / v.<i> in the optimizer's order: decayed matrices, then the rest) is
 * converted on --resume and continues to an uninterrupted run's weights.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSafetensors, saveSafetensors, type TensorEntry } from '../../src/nn/index.js';
import { ClipModel } from '../../src/retrieval/clip.js';
import { ClipEncoder } from '../../src/retrieval/clip-encoder.js';
import { biEncoderRecipe } from '../../src/train/bi-encoder.js';
import { loadTokenizerJson } from '../../src/tokenizers/tokenizer-json.js';
import { clipItems, maxDifference, runToy, toyClipConfig } from './recipe-fixtures.js';

test('an earlier-layout bi-encoder checkpoint resumes to the uninterrupted weights', async () => {
  const runDir = mkdtempSync(join(tmpdir(), 'cm3leon-clip-compat-'));
  const first = await runToy('bi-encoder', { runDir, steps: 8, maxSeconds: 0 }); // step 1, checkpointed
  assert.equal(first.step, 1);
  // Rewrite the checkpoint as the earlier trainer wrote it.
  const ckpt = join(runDir, 'checkpoint');
  const state = JSON.parse(readFileSync(join(ckpt, 'trainer.json'), 'utf8')) as { step: number; extra: { seconds: number; config: unknown } };
  writeFileSync(join(ckpt, 'state.json'), JSON.stringify({ step: state.step, seconds: state.extra.seconds, config: state.extra.config }));
  rmSync(join(ckpt, 'trainer.json'));
  const model = new ClipModel(toyClipConfig());
  const tok = loadTokenizerJson('models/text-tokenizer/tokenizer.json');
  const recipe = biEncoderRecipe(model, { out: runDir, config: model.config, encoderFor: () => null as never, train: clipItems(), steps: 8, encoder: new ClipEncoder(model, tok, 'x') });
  const nameOf = new Map([...model.namedParameters()].map(([n, p]) => [p, n]));
  const opt = loadSafetensors(join(ckpt, 'optimizer.safetensors'));
  const numbered = new Map<string, TensorEntry>();
  recipe.groups!().flatMap((g) => g.params).forEach((p, i) => {
    for (const k of ['m', 'v']) numbered.set(`${k}.${i}`, { shape: p.shape, data: opt.tensors.get(`${k}.${nameOf.get(p)!}`)!.data });
  });
  saveSafetensors(join(ckpt, 'optimizer.safetensors'), numbered, { step: String(state.step) });

  const lines: string[] = [];
  const resumed = await runToy('bi-encoder', { runDir, steps: 8, resume: true, log: (l) => lines.push(l) });
  assert.ok(lines.some((l) => /resumed from step 1 /.test(l)), lines.join('\n'));
  assert.ok(!lines.some((l) => /step 1\/8/.test(l)), 'step 1 is not trained again');
  const straight = await runToy('bi-encoder', { runDir: mkdtempSync(join(tmpdir(), 'cm3leon-clip-straight-')), steps: 8 });
  assert.equal(resumed.step, 8);
  const d = await maxDifference(straight.params, resumed.params);
  assert.ok(d < 1e-6, `weights differ by ${d}`);
});
