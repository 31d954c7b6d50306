/** Property tests of the CM3 objective on thousands of random documents. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/tensor/index.js';
import { cm3Mask, cm3Restore, type Cm3Ids } from '../../src/model/cm3.js';

const special: Cm3Ids = { eos: 1, brk: 2, infill: 4, sentinels: Array.from({ length: 16 }, (_, i) => 5 + i) };
const isSentinel = (id: number): boolean => special.sentinels.includes(id);

/** A random document sequence: text and image segments joined by <break>, ending with <eos>; sometimes several documents. */
function randomDoc(rng: Rng): Int32Array {
  const out: number[] = [];
  const docs = 1 + rng.int(3);
  for (let d = 0; d < docs; d++) {
    const segs = 1 + rng.int(4);
    for (let s = 0; s < segs; s++) {
      if (s > 0) out.push(special.brk);
      const len = 1 + rng.int(s % 2 ? 64 : 12);
      for (let i = 0; i < len; i++) out.push(s % 2 ? 1000 + rng.int(500) : 32 + rng.int(900));
    }
    out.push(special.eos);
  }
  return Int32Array.from(out);
}

test('mask then restore gives back the input, spans are disjoint and never cross <break> or <eos>', () => {
  const rng = new Rng(42);
  let masked = 0;
  const spanCounts = new Map<number, number>();
  for (let trial = 0; trial < 3000; trial++) {
    const doc = randomDoc(rng);
    const out = cm3Mask(doc, special, rng, { maskProbability: 0.8 });
    assert.deepEqual([...cm3Restore(out, special)], [...doc], `trial ${trial}`);
    const infillAt = out.indexOf(special.infill);
    if (infillAt < 0) {
      assert.deepEqual([...out], [...doc]);
      continue;
    }
    masked++;
    const prefixSentinels = [...out.subarray(0, infillAt)].filter(isSentinel);
    const n = prefixSentinels.length;
    spanCounts.set(n, (spanCounts.get(n) ?? 0) + 1);
    assert.ok(n >= 1 && n <= 16, `span count ${n}`);
    // Sentinels appear in order 0..n-1 in the prefix and again in the tail.
    assert.deepEqual(prefixSentinels, special.sentinels.slice(0, n));
    const tail = [...out.subarray(infillAt + 1, out.length - 1)];
    assert.deepEqual(tail.filter(isSentinel), special.sentinels.slice(0, n));
    // No span contains a boundary token, and no span is empty.
    assert.ok(!tail.includes(special.brk) && !tail.includes(special.eos), 'a span crossed <break>/<eos>');
    for (let i = 0; i + 1 < tail.length; i++) if (isSentinel(tail[i]!)) assert.ok(!isSentinel(tail[i + 1]!), 'empty span');
    // Lengths: every original token kept once, plus 2n sentinels and one <infill>.
    assert.equal(out.length, doc.length + 2 * n + 1);
    assert.equal(out[out.length - 1], special.eos, 'the document still ends with <eos>');
    // A span never mixes text and image ids (they are separated by <break> in the input).
    let kind: string | null = null;
    for (const id of tail) {
      if (isSentinel(id)) { kind = null; continue; }
      const k = id >= 1000 ? 'image' : 'text';
      assert.ok(kind === null || kind === k, 'a span mixes modalities');
      kind = k;
    }
  }
  assert.ok(masked > 2000 && masked < 2800, `masked ${masked} of 3000 at p = 0.8`);
  // Poisson(1) clamped to >= 1: one span is the most common count, and several spans do occur.
  assert.ok((spanCounts.get(1) ?? 0) > (spanCounts.get(2) ?? 0) && (spanCounts.get(3) ?? 0) > 0);
});

test('the transform is deterministic for a seed and refuses already-masked input', () => {
  const doc = randomDoc(new Rng(1));
  const a = cm3Mask(doc, special, new Rng(9), { maskProbability: 1 });
  const b = cm3Mask(doc, special, new Rng(9), { maskProbability: 1 });
  assert.deepEqual([...a], [...b]);
  assert.throws(() => cm3Mask(a, special, new Rng(3), { maskProbability: 1 }), /already contains <infill> or a mask sentinel/);
});
