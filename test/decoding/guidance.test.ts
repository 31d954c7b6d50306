/** CFG, two-scale guidance and CD-K on hand-computed logits; guided generation end to end. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cdkScores, cfgLogits, twoScaleLogits } from '../../src/decoding/guidance.js';
import { generateImageCodes } from '../../src/decoding/generate.js';
import { Decoder } from '../../src/model/decoder.js';

const f = (xs: number[]): Float32Array => Float32Array.from(xs);

test('CFG: uncond + a * (cond - uncond), masks kept', () => {
  assert.deepEqual([...cfgLogits(f([1, 2, 3, -Infinity]), f([0, 4, 1, 0]), 3)], [3, -2, 7, -Infinity]);
  assert.deepEqual([...cfgLogits(f([1, 2]), f([0, 4]), 1)], [1, 2], 'scale 1 is the conditional stream');
  assert.deepEqual([...cfgLogits(f([1, 2]), f([0, 4]), 0)], [0, 4], 'scale 0 is the unconditional stream');
  assert.throws(() => cfgLogits(f([1]), f([1]), -1), /CFG scale must be a non-negative number, got -1/);
});

test('CFG over a range of ids: the same row when the conditional logits are masked outside it', () => {
  const cond = f([-Infinity, 1, 2, -Infinity, -Infinity]);
  const uncond = f([5, 0, 4, 7, -1]);
  assert.deepEqual([...cfgLogits(cond, uncond, 3, [1, 3])], [...cfgLogits(cond, uncond, 3)]);
  assert.deepEqual([...cfgLogits(cond, uncond, 3, [1, 3])], [-Infinity, 3, -2, -Infinity, -Infinity]);
  assert.deepEqual([...cfgLogits(cond, uncond, 3, [2, 2])], Array(5).fill(-Infinity), 'an empty range');
});

test('two-scale guidance for editing (image 1.5, text 7.5)', () => {
  // uncond 0, image-only 1, full 2: 0 + 1.5 * 1 + 7.5 * 1 = 9
  assert.deepEqual([...twoScaleLogits(f([0, 1]), f([1, 1]), f([2, 1]), 1.5, 7.5)], [9, 1]);
});

test('CD-K keeps tokens with p_cond >= alpha * (k-th largest p_cond) and scores log p_cond - log p_uncond', () => {
  const pc = [0.5, 0.3, 0.15, 0.05];
  const pu = [0.25, 0.25, 0.25, 0.25];
  const s = cdkScores(f(pc.map(Math.log)), f(pu.map(Math.log)), 2, 0.4);
  // k = 2: p_2 = 0.3, alpha 0.4: threshold 0.12, so tokens 0, 1, 2 are kept and token 3 (0.05) is not.
  const expect = [Math.log(0.5 / 0.25), Math.log(0.3 / 0.25), Math.log(0.15 / 0.25), -Infinity];
  s.forEach((v, i) => (expect[i] === -Infinity ? assert.equal(v, -Infinity) : assert.ok(Math.abs(v - expect[i]!) < 1e-6, `token ${i}: ${v}`)));
  assert.equal(cdkScores(f(pc.map(Math.log)), f(pu.map(Math.log)), 1, 1).filter((v) => v > -Infinity).length, 1, 'k 1, alpha 1: only the top token');
  assert.throws(() => cdkScores(f([0, 0]), f([0, 0]), 3, 0.5), /k must be an integer in \[1, 2\], got 3/);
  assert.throws(() => cdkScores(f([0, 0]), f([0, 0]), 1, 0), /alpha must be in \(0, 1\]/);
});

test('guided image generation runs both streams and stays in the image range', () => {
  const model = new Decoder({ vocabSize: 60, dim: 16, heads: 2, layers: 1, maxPositions: 40, initStd: 0.3, zeroOutputLayers: false, seed: 2 });
  const span = { imageStart: 40, codebookSize: 20, length: 16 };
  const plain = generateImageCodes(model, Int32Array.of(3, 4, 5), span, { seed: 1 });
  const same = generateImageCodes(model, Int32Array.of(3, 4, 5), span, { seed: 1, guidance: { uncondPrompt: Int32Array.of(3, 4, 5), cfg: 4 } });
  assert.deepEqual([...same], [...plain], 'CFG between identical streams changes nothing');
  const cdk = generateImageCodes(model, Int32Array.of(3, 4, 5), span, { seed: 1, guidance: { uncondPrompt: Int32Array.of(7), cdk: { k: 3, alpha: 0.5 } } });
  for (const c of cdk) assert.ok(c >= 0 && c < 20);
  assert.throws(() => generateImageCodes(model, Int32Array.of(3), span, { guidance: { uncondPrompt: Int32Array.of(7), cfg: 2, cdk: { k: 2, alpha: 0.1 } } }), /either a CFG scale or CD-K/);
});
