/**
 * The decoder's KV-cache path gives the same logits as the full forward pass; rows of different
 * lengths share a left-padded cache and get the logits they get alone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/index.js';
import { Decoder, KvCache } from '../../src/model/decoder.js';
import { assertClose, testBackends } from '../helpers.js';

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

/**
 * Rows of different lengths in one left-padded cache: prompts of 5, 2 and 3 tokens, then 4 decoding
 * steps of one token per row. Reference: each prompt alone in a batch-1 cache. Logits (R, V) per step.
 */
const padConfig = { vocabSize: 50, dim: 32, heads: 4, layers: 2, maxPositions: 24, initStd: 0.1, zeroOutputLayers: false, seed: 3 };
const padPrompts = [Int32Array.of(5, 6, 7, 8, 9), Int32Array.of(11, 12), Int32Array.of(13, 14, 15)];
const padSteps = [[20, 21, 22], [23, 24, 25], [26, 27, 28], [29, 30, 31]];

/** Each row alone: [prompt's last logits, step 1, ..., step 4] per row. */
function unbatched(model: Decoder): Float32Array[][] {
  return padPrompts.map((p, r) => {
    const cache = new KvCache(padConfig, 1, 20);
    const out = [Float32Array.from(T.tidy(() => T.slice(model.forwardCached(T.tensor(p, [1, p.length], { dtype: 'i32' }), cache), 1, p.length - 1, p.length).dataSync()))];
    for (const s of padSteps) out.push(Float32Array.from(T.tidy(() => model.forwardCached(T.tensor(Int32Array.of(s[r]!), [1, 1], { dtype: 'i32' }), cache).dataSync())));
    cache.dispose();
    return out;
  });
}

/** The three rows batched: `first` fills the cache and returns (3, 1, V); then batched steps. */
function batched(model: Decoder, first: (cache: KvCache) => T.Tensor): Float32Array[][] {
  const cache = new KvCache(padConfig, 3, 20);
  const v = padConfig.vocabSize;
  const split = (d: Float32Array): Float32Array[] => [0, 1, 2].map((r) => d.slice(r * v, (r + 1) * v));
  const steps = [split(Float32Array.from(T.tidy(() => first(cache).dataSync())))];
  assert.equal(cache.length, 5);
  assert.deepEqual([...cache.starts], [0, 3, 2], 'each row left-padded to the longest prompt');
  for (const s of padSteps) steps.push(split(Float32Array.from(T.tidy(() => model.forwardCached(T.tensor(Int32Array.from(s), [3, 1], { dtype: 'i32' }), cache).dataSync()))));
  cache.dispose();
  return [0, 1, 2].map((r) => steps.map((s) => s[r]!));
}

test('a left-padded batch (one padded forward, then batched steps) gives each row the logits it gets alone', () => {
  for (const backend of ['cpu-ref', ...testBackends()]) {
    T.setBackend(backend);
    try {
      const model = new Decoder(padConfig);
      const want = unbatched(model);
      // One forward over (3, 5) ids, left-padded with pad = [0, 3, 2] (padding id 0, masked).
      const got = batched(model, (cache) => {
        const ids = new Int32Array(15);
        const pad = padPrompts.map((p) => 5 - p.length);
        padPrompts.forEach((p, r) => ids.set(p, r * 5 + pad[r]!));
        return T.slice(model.forwardCached(T.tensor(ids, [3, 5], { dtype: 'i32' }), cache, { pad }), 1, 4, 5);
      });
      got.forEach((row, r) => row.forEach((l, i) => assertClose(l, want[r]![i]!, 1e-5, `${backend}: row ${r}, step ${i}`)));
      T.dispose(model.parameters());
    } finally {
      T.setBackend('cpu');
    }
  }
});

test('prefillRows (one row at a time into the padded layout) then batched steps: bit-identical to the unbatched rows', () => {
  for (const backend of ['cpu-ref', ...testBackends()]) {
    T.setBackend(backend);
    try {
      const model = new Decoder(padConfig);
      const want = unbatched(model);
      const got = batched(model, (cache) => model.prefillRows(padPrompts, cache));
      got.forEach((row, r) => row.forEach((l, i) => assert.deepEqual(l, want[r]![i]!, `${backend}: row ${r}, step ${i}`)));
      T.dispose(model.parameters());
    } finally {
      T.setBackend('cpu');
    }
  }
});

test('padding and row views are checked', () => {
  const model = new Decoder(padConfig);
  const cache = new KvCache(padConfig, 2, 10);
  const ids = T.tensor(Int32Array.of(1, 2, 3, 4, 5, 6), [2, 3], { dtype: 'i32' });
  assert.throws(() => model.forwardCached(ids, cache, { pad: [0] }), /pad has 1 entries for a batch of 2/);
  assert.throws(() => model.forwardCached(ids, cache, { pad: [0, 3] }), /pad\[1\] = 3 must be an integer in \[0, 2\] \(each row keeps at least one real token\)/);
  model.forwardCached(ids, cache, { pad: [0, 1] });
  assert.throws(() => model.forwardCached(ids, cache, { pad: [0, 1] }), /left padding \(pad\) goes with a cache's first call; this cache holds 3 tokens/);
  assert.throws(() => model.prefillRows([Int32Array.of(1)], cache), /prefillRows needs an empty cache; this one holds 3 tokens/);
  cache.reset();
  assert.deepEqual([...cache.starts], [0, 0]);
  assert.throws(() => model.prefillRows([Int32Array.of(1), Int32Array.of(2), Int32Array.of(3)], cache), /3 prompts for a cache of 2 rows/);
  assert.throws(() => model.prefillRows([Int32Array.of(1), new Int32Array(0)], cache), /prompt 1 is empty/);
  assert.throws(() => model.prefillRows([new Int32Array(11)], cache), /a prompt of 11 tokens exceeds the cache length 10/);
  assert.throws(() => cache.rows(1, 2, 0), /rows \[1, 3\) from slot 0 are outside a cache of 2 rows and 10 slots/);
  assert.throws(() => cache.rows(0, 1, 10), /from slot 10 are outside/);
  cache.dispose();
  ids.dispose();
});
