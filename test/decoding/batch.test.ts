/**
 * Batched decoding: guidance's two streams as one batch-2 forward per step, and many prompts (each
 * with its guidance streams) as one batch, give exactly the codes of the sequential, one-at-a-time
 * loops; tokens stream per row; bad options are refused before anything runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/index.js';
import { Decoder } from '../../src/model/decoder.js';
import { generateImageBatch, generateImageBatchAsync, generateImageCodes, generateImageCodesAsync, type GenerateOptions } from '../../src/decoding/generate.js';

const model = new Decoder({ vocabSize: 60, dim: 16, heads: 2, layers: 1, maxPositions: 40, initStd: 0.3, zeroOutputLayers: false, seed: 2 });
const span = { imageStart: 40, codebookSize: 20, length: 16 };
const prompt = Int32Array.of(3, 4, 5);
const cfg = { uncondPrompt: Int32Array.of(7), cfg: 3 };
const cdk = { uncondPrompt: Int32Array.of(7), cdk: { k: 3, alpha: 0.5 } };

test('guidance streams batched give the codes of the sequential streams (and of the loop before batching)', () => {
  // Codes the sequential loop produced before the streams were batched (same model, prompt, seed 1).
  const before = { cfg: [3, 15, 4, 12, 4, 13, 8, 3, 6, 12, 7, 18, 6, 18, 5, 4], cdk: [3, 8, 6, 12, 10, 12, 10, 8, 11, 18, 3, 18, 3, 5, 4, 17] };
  for (const [name, guidance] of [['cfg', cfg], ['cdk', cdk]] as const) {
    const batch = generateImageCodes(model, prompt, span, { seed: 1, guidance });
    const sequential = generateImageCodes(model, prompt, span, { seed: 1, guidance, streams: 'sequential' });
    assert.deepEqual([...batch], before[name], `${name}: batched`);
    assert.deepEqual([...sequential], before[name], `${name}: sequential`);
  }
  // More seeds, sampling settings and prompt lengths (the unconditional prompt longer or shorter).
  const cases: GenerateOptions[] = [
    { seed: 4, temperature: 0.7, topP: 0.9, guidance: { uncondPrompt: Int32Array.of(1, 7, 2, 9, 9, 2), cfg: 2.5 } },
    { seed: 5, topK: 5, guidance: { uncondPrompt: Int32Array.of(2), cdk: { k: 4, alpha: 0.2 } } },
    { seed: 6, temperature: 0, guidance: { uncondPrompt: Int32Array.of(1, 7, 2), cfg: 6 } },
  ];
  for (const o of cases) {
    assert.deepEqual([...generateImageCodes(model, Int32Array.of(3, 4, 5, 6, 8), span, o)], [...generateImageCodes(model, Int32Array.of(3, 4, 5, 6, 8), span, { ...o, streams: 'sequential' })], `seed ${o.seed}`);
  }
});

test('generateImageBatch: N prompts (2N rows with guidance) give each prompt its own codes, streamed per row', () => {
  const requests = [
    { prompt: Int32Array.of(3, 4, 5), guidance: cfg },
    { prompt: Int32Array.of(9, 8, 7, 6, 5, 4, 3), guidance: cdk, temperature: 0.8 },
    { prompt: Int32Array.of(11) }, // no guidance: one row
    { prompt: Int32Array.of(3, 4, 5), guidance: { uncondPrompt: Int32Array.of(1, 2, 3, 4, 5, 6, 7, 8), cfg: 1.5 }, seed: 42 },
  ];
  const streamed: [number, number, number][] = [];
  const codes = generateImageBatch(model, requests, span, { seed: 10, topP: 0.95, onToken: (id, i, row) => streamed.push([row, i, id]) });
  // Alone: request i with the batch's options under its own, seed 10 + i unless it sets one.
  const alone = requests.map(({ prompt: p, ...own }, i) => generateImageCodes(model, p, span, { seed: 10 + i, topP: 0.95, ...own }));
  assert.deepEqual(codes.map((c) => [...c]), alone.map((c) => [...c]));
  assert.notDeepEqual([...codes[0]!], [...codes[3]!], 'the same prompt with another seed and guidance differs');
  // Every row streamed its codes in order, rows interleaved step by step.
  assert.equal(streamed.length, 4 * span.length);
  assert.deepEqual(streamed.slice(0, 4).map(([row, i]) => [row, i]), [[0, 0], [1, 0], [2, 0], [3, 0]]);
  for (let row = 0; row < 4; row++) {
    const mine = streamed.filter(([r]) => r === row);
    assert.deepEqual(mine.map(([, i]) => i), [...Array(span.length).keys()]);
    assert.deepEqual(mine.map(([, , id]) => id - span.imageStart), [...codes[row]!]);
  }
  // Plain prompt arrays: seeds 0, 1, 2 (the default seed 0 + index), as --samples does one at a time.
  const plain = generateImageBatch(model, [prompt, prompt, prompt], span, { guidance: cfg });
  assert.deepEqual(plain.map((c) => [...c]), [0, 1, 2].map((seed) => [...generateImageCodes(model, prompt, span, { seed, guidance: cfg })]));
  // The sequential mode runs the same requests one at a time.
  assert.deepEqual(generateImageBatch(model, requests, span, { seed: 10, topP: 0.95, streams: 'sequential' }).map((c) => [...c]), alone.map((c) => [...c]));
});

test('the async batch gives the sync codes; buffers are freed, also when a callback throws', async () => {
  const live = T.liveBuffers();
  const requests = [Int32Array.of(3, 4, 5), Int32Array.of(6, 5)];
  const sync = generateImageBatch(model, requests, span, { seed: 3, guidance: cfg });
  assert.deepEqual((await generateImageBatchAsync(model, requests, span, { seed: 3, guidance: cfg })).map((c) => [...c]), sync.map((c) => [...c]));
  assert.deepEqual([...(await generateImageCodesAsync(model, requests[1]!, span, { seed: 4, guidance: cdk }))], [...generateImageCodes(model, requests[1]!, span, { seed: 4, guidance: cdk, streams: 'sequential' })]);
  assert.equal(T.liveBuffers(), live);
  assert.throws(() => generateImageBatch(model, requests, span, { guidance: cfg, onToken: (_id, i) => { if (i === 3) throw new Error('stop here'); } }), /stop here/);
  assert.equal(T.liveBuffers(), live, 'the cache is freed when the loop is abandoned');
});

test('bad batches and options are refused with clear errors, before anything runs', async () => {
  assert.throws(() => generateImageBatch(model, [], span), /generate: the batch has no prompts/);
  assert.throws(() => generateImageBatch(model, [prompt, { prompt, guidance: { uncondPrompt: Int32Array.of(7), cfg: -2 } }], span), /request 1: guidance: CFG scale must be a non-negative number, got -2/);
  assert.throws(() => generateImageBatch(model, [{ prompt, guidance: { uncondPrompt: Int32Array.of(7), cdk: { k: 61, alpha: 0.5 } } }], span), /request 0: CD-K: k must be an integer in \[1, 60\], got 61/);
  assert.throws(() => generateImageBatch(model, [{ prompt, guidance: { uncondPrompt: Int32Array.of(7), cdk: { k: 2, alpha: 0 } } }], span), /CD-K: alpha must be in \(0, 1\], got 0/);
  assert.throws(() => generateImageBatch(model, [{ prompt, topP: 2 }], span), /request 0: sampling: top-p must be in \(0, 1\], got 2/);
  assert.throws(() => generateImageBatch(model, [{ prompt: [1, 2] as unknown as Int32Array }], span), /request 0 has no prompt/);
  assert.throws(() => generateImageCodes(model, prompt, span, { streams: 'parallel' as 'batch' }), /streams must be 'batch' or 'sequential', got 'parallel'/);
  assert.throws(() => generateImageCodes(model, prompt, { ...span, length: 0 }), /the image span's length must be a positive integer, got 0/);
  assert.throws(() => generateImageCodes(model, prompt, { ...span, codebookSize: 30 }), /image ids \[40, 70\) are outside the model's 60 ids/);
  assert.throws(() => generateImageBatch(model, [prompt, new Int32Array(30)], span), /prompt of 30 tokens \+ 16 to generate exceeds the model's 40 positions/);
  assert.throws(() => generateImageBatch(model, [{ prompt, guidance: { uncondPrompt: new Int32Array(0), cfg: 2 } }], span), /the prompt is empty/);
  await assert.rejects(generateImageCodesAsync(model, prompt, span, { guidance: { uncondPrompt: Int32Array.of(7), cfg: 2, cdk: { k: 2, alpha: 0.1 } } }), /either a CFG scale or CD-K/);
});
