/**
 * The CM3 causal-masked objective (Aghajanyan et al. 2022, as used by CM3leon): pick
 * n ~ clamp(Poisson(1), 1, 16) spans, replace each by a numbered sentinel `<mask:i>`, and move the
 * spans to the end after `<infill>`; the model is trained with plain next-token loss on the whole
 * result, so it learns to generate left to right and to infill. Spans never cross `<break>` (or
 * `<eos>`), so a span is all text or all image.
 *
 *   input:   a b c <break> i1 i2 i3 i4 <eos>
 *   output:  a <mask:0> <break> i1 i2 <mask:1> <infill> <mask:0> b c <mask:1> i3 i4 <eos>
 *
 * The document's final `<eos>` stays last, so documents still end where the model expects.
 *
 * Deliberately not here: tokenisation (tokenizers/) and batching (train/).
 */
import { Rng } from '../tensor/index.js';

export interface Cm3Ids {
  eos: number;
  brk: number;
  infill: number;
  /** Ids of `<mask:0>` .. `<mask:K-1>`. */
  sentinels: readonly number[];
}

export interface Cm3Options {
  /** Mean of the Poisson number of spans (paper: 1). */
  meanSpans?: number;
  /** Most spans per sequence (paper: 16; at most the number of sentinels). */
  maxSpans?: number;
  /**
   * Probability that a sequence is masked at all; the rest stay plain causal documents, which is
   * what text-to-image prompting (`caption <break>` -> image) continues from. Default 0.5.
   */
  maskProbability?: number;
}

/** Maximal runs of maskable tokens: positions between `<break>`/`<eos>` boundaries. */
function segments(ids: Int32Array, ids0: Cm3Ids): [number, number][] {
  const out: [number, number][] = [];
  let start = 0;
  for (let i = 0; i <= ids.length; i++) {
    if (i === ids.length || ids[i] === ids0.brk || ids[i] === ids0.eos) {
      if (i > start) out.push([start, i]);
      start = i + 1;
    }
  }
  return out;
}

/** Applies the CM3 transform; returns the input unchanged when it is not masked this time. */
export function cm3Mask(ids: Int32Array, special: Cm3Ids, rng: Rng, o: Cm3Options = {}): Int32Array {
  const maxSpans = Math.min(o.maxSpans ?? 16, special.sentinels.length);
  if (rng.uniform() >= (o.maskProbability ?? 0.5)) return ids;
  for (const id of ids) {
    if (id === special.infill || special.sentinels.includes(id)) throw new Error('cm3Mask: input already contains <infill> or a mask sentinel');
  }
  const segs = segments(ids, special);
  const total = segs.reduce((s, [a, b]) => s + b - a, 0);
  if (total === 0) return ids;
  const n = Math.max(1, Math.min(maxSpans, rng.poisson(o.meanSpans ?? 1)));
  const spans: [number, number][] = [];
  for (let tries = 0; spans.length < n && tries < 20 * n; tries++) {
    // A segment with probability proportional to its length, then two uniform cut points in it.
    let r = rng.int(total);
    const seg = segs.find(([a, b]) => (r -= b - a) < 0)!;
    const len = seg[1] - seg[0];
    const x = seg[0] + rng.int(len);
    const y = seg[0] + rng.int(len);
    const span: [number, number] = [Math.min(x, y), Math.max(x, y) + 1];
    // Disjoint and not adjacent, so restoring is unambiguous and spans stay distinct.
    if (spans.some(([a, b]) => span[0] <= b && a <= span[1])) continue;
    spans.push(span);
  }
  spans.sort((p, q) => p[0] - q[0]);
  const hasEos = ids.length > 0 && ids[ids.length - 1] === special.eos;
  const body = hasEos ? ids.length - 1 : ids.length;
  const out: number[] = [];
  let at = 0;
  spans.forEach(([a, b], i) => {
    for (let j = at; j < a; j++) out.push(ids[j]!);
    out.push(special.sentinels[i]!);
    at = b;
  });
  for (let j = at; j < body; j++) out.push(ids[j]!);
  out.push(special.infill);
  spans.forEach(([a, b], i) => {
    out.push(special.sentinels[i]!);
    for (let j = a; j < b; j++) out.push(ids[j]!);
  });
  if (hasEos) out.push(special.eos);
  return Int32Array.from(out);
}

/** Inverse of cm3Mask: puts every span back in place of its sentinel. Unmasked input is returned as is. */
export function cm3Restore(ids: Int32Array, special: Cm3Ids): Int32Array {
  const infillAt = ids.indexOf(special.infill);
  if (infillAt < 0) return ids;
  const hasEos = ids[ids.length - 1] === special.eos;
  const tailEnd = hasEos ? ids.length - 1 : ids.length;
  const sentinelIndex = new Map(special.sentinels.map((s, i) => [s, i]));
  const spans = new Map<number, number[]>();
  let current = -1;
  for (let j = infillAt + 1; j < tailEnd; j++) {
    const s = sentinelIndex.get(ids[j]!);
    if (s !== undefined) {
      current = s;
      spans.set(s, []);
    } else {
      if (current < 0) throw new Error(`cm3Restore: token at ${j} after <infill> precedes any sentinel`);
      spans.get(current)!.push(ids[j]!);
    }
  }
  const out: number[] = [];
  for (let j = 0; j < infillAt; j++) {
    const s = sentinelIndex.get(ids[j]!);
    if (s === undefined) out.push(ids[j]!);
    else {
      const span = spans.get(s);
      if (!span) throw new Error(`cm3Restore: sentinel ${s} at ${j} has no span after <infill>`);
      out.push(...span);
    }
  }
  if (hasEos) out.push(special.eos);
  return Int32Array.from(out);
}
