/** The decoder's KV-cache path gives the same logits as the full forward pass. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/index.js';
import { Decoder, KvCache } from '../../src/model/decoder.js';
import { assertClose } from '../helpers.js';

test('cached decoding (prefill + one token at a time) matches the full forward pass', () => {
  const config = { vocabSize: 40, dim: 32, heads: 4, layers: 2, maxPositions: 16, initStd: 0.05, zeroOutputLayers: false, seed: 1 };
  const model = new Decoder(config);
  const ids = T.randint([2, 12], 40, { seed: 4 });
  const full = model.forward(ids).dataSync();
  const cache = new KvCache(config, 2);
  const steps: Float32Array[] = [];
  steps.push(model.forwardCached(T.slice(ids, 1, 0, 5), cache).dataSync() as Float32Array);
  for (let t = 5; t < 12; t++) steps.push(model.forwardCached(T.contiguous(T.slice(ids, 1, t, t + 1)), cache).dataSync() as Float32Array);
  assert.equal(cache.length, 12);
  // Reassemble (B, T, V) from the per-step (B, t, V) pieces.
  const v = 40;
  const got = new Float32Array(2 * 12 * v);
  let t0 = 0;
  for (const s of steps) {
    const tn = s.length / (2 * v);
    for (let b = 0; b < 2; b++) got.set(s.subarray(b * tn * v, (b + 1) * tn * v), (b * 12 + t0) * v);
    t0 += tn;
  }
  assertClose(got, full, 1e-5, 'cached logits');
  assert.throws(() => model.forwardCached(T.randint([2, 5], 40), cache), /12 cached \+ 5 new tokens exceed the cache length 16/);
  cache.dispose();
});
