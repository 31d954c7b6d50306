/** Logits processors and samplers on hand-computed logits; the generation loop's constraints. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/tensor/index.js';
import { Decoder } from '../../src/model/decoder.js';
import { allowRange, checkSamplingOptions, probabilities, sample, sampleLogits, truncate } from '../../src/decoding/sampling.js';
import { generateImageCodes, generateImageCodesAsync, generateText, generateTextAsync } from '../../src/decoding/generate.js';

test('temperature softmax, masking and top-p on hand-computed values', () => {
  const logits = Float32Array.from([Math.log(0.5), Math.log(0.3), Math.log(0.15), Math.log(0.05)]);
  const p = probabilities(logits);
  assert.deepEqual([...p].map((x) => +x.toFixed(6)), [0.5, 0.3, 0.15, 0.05]);
  // temperature 2: p_i ~ sqrt(p_i)
  const p2 = probabilities(logits, 2);
  const s = [0.5, 0.3, 0.15, 0.05].map(Math.sqrt);
  const z = s.reduce((a, b) => a + b);
  assert.deepEqual([...p2].map((x) => +x.toFixed(6)), s.map((x) => +(x / z).toFixed(6)));
  // top-p 0.8: {0.5, 0.3} reaches 0.8 -> renormalised to 0.625, 0.375
  assert.deepEqual([...truncate(p, 0.8)].map((x) => +x.toFixed(6)), [0.625, 0.375, 0, 0]);
  // top-p 0.81 needs the third token too
  assert.deepEqual([...truncate(p, 0.81)].map((x) => +x.toFixed(6)), [0.526316, 0.315789, 0.157895, 0]);
  assert.deepEqual([...truncate(p, 1, 1)], [1, 0, 0, 0]);
  const masked = Float32Array.from([5, 1, 2, 3]);
  allowRange(masked, 1, 3);
  assert.deepEqual([...masked], [-Infinity, 1, 2, -Infinity]);
  assert.equal(sampleLogits(Float32Array.from([0, 9, 1]), { temperature: 0 }, new Rng(1)), 1);
});

test('sampling follows the distribution and is reproducible by seed', () => {
  const p = Float64Array.from([0.1, 0.6, 0.3]);
  const rng = new Rng(5);
  const counts = [0, 0, 0];
  for (let i = 0; i < 20000; i++) counts[sample(p, rng)]!++;
  counts.forEach((c, i) => assert.ok(Math.abs(c / 20000 - p[i]!) < 0.015, `token ${i}: ${c / 20000}`));
  const a = Array.from({ length: 20 }, (_, i) => sample(p, new Rng(i)));
  const b = Array.from({ length: 20 }, (_, i) => sample(p, new Rng(i)));
  assert.deepEqual(a, b);
});

test('contradictory or out-of-range options are refused', () => {
  assert.throws(() => checkSamplingOptions({ topP: 0 }), /top-p must be in \(0, 1\], got 0/);
  assert.throws(() => checkSamplingOptions({ temperature: -1 }), /temperature must be >= 0 \(0 = greedy\)/);
  assert.throws(() => checkSamplingOptions({ topK: 50 }, 10), /top-k 50 exceeds the vocabulary size 10/);
});

test('an image span is exactly grid*grid image codes; text stops at a stop id', () => {
  const model = new Decoder({ vocabSize: 60, dim: 16, heads: 2, layers: 1, maxPositions: 40, initStd: 0.3, zeroOutputLayers: false, seed: 2 });
  const codes = generateImageCodes(model, Int32Array.of(3, 4, 5), { imageStart: 40, codebookSize: 20, length: 16 }, { seed: 1 });
  assert.equal(codes.length, 16);
  for (const c of codes) assert.ok(c >= 0 && c < 20);
  assert.deepEqual([...generateImageCodes(model, Int32Array.of(3, 4, 5), { imageStart: 40, codebookSize: 20, length: 16 }, { seed: 1 })], [...codes]);
  const text = generateText(model, Int32Array.of(3), { stop: [1], maxTokens: 30, seed: 3, forbidden: (l) => allowRange(l, 0, 40) });
  assert.ok(text.length <= 30);
  for (const id of text) assert.ok(id < 40 && id !== 1);
  assert.throws(() => generateImageCodes(model, new Int32Array(30), { imageStart: 40, codebookSize: 20, length: 16 }), /prompt of 30 tokens \+ 16 to generate exceeds the model's 40 positions/);
});

test('the async loops (any backend) give the same tokens as the sync ones', async () => {
  const model = new Decoder({ vocabSize: 60, dim: 16, heads: 2, layers: 1, maxPositions: 40, initStd: 0.3, zeroOutputLayers: false, seed: 2 });
  const span = { imageStart: 40, codebookSize: 20, length: 16 };
  const guidance = { uncondPrompt: Int32Array.of(7), cfg: 3 };
  assert.deepEqual([...(await generateImageCodesAsync(model, Int32Array.of(3, 4, 5), span, { seed: 1, guidance }))], [...generateImageCodes(model, Int32Array.of(3, 4, 5), span, { seed: 1, guidance })]);
  const o = { stop: [1], maxTokens: 30, seed: 3, forbidden: (l: Float32Array) => allowRange(l, 0, 40) };
  assert.deepEqual([...(await generateTextAsync(model, Int32Array.of(3), o))], [...generateText(model, Int32Array.of(3), o)]);
  await assert.rejects(generateImageCodesAsync(model, new Int32Array(30), span), /exceeds the model's 40 positions/);
});
