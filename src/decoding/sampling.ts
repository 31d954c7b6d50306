/**
 * Logits processors and samplers for one step over one row of logits (V). Processors rewrite a
 * Float32Array of logits in place (masking with -Infinity); samplers draw an id. Kept separate from
 * the model, in the shape of transformers.js's generation/ folder. Guidance and contrastive
 * decoding build on these (the decoding issue).
 */
import type { Rng } from '../tensor/index.js';

export interface SamplingOptions {
  /** >= 0; 1 leaves the distribution as is, 0 is greedy (argmax). */
  temperature?: number;
  /** Nucleus sampling mass in (0, 1]; 1 disables it. */
  topP?: number;
  /** Keep only the k most likely tokens; 0 disables it. */
  topK?: number;
}

export function checkSamplingOptions(o: SamplingOptions, vocab?: number): void {
  const { temperature = 1, topP = 1, topK = 0 } = o;
  if (!(Number.isFinite(temperature) && temperature >= 0)) throw new Error(`sampling: temperature must be >= 0 (0 = greedy), got ${temperature}`);
  if (!(topP > 0 && topP <= 1)) throw new Error(`sampling: top-p must be in (0, 1], got ${topP}`);
  if (!Number.isInteger(topK) || topK < 0) throw new Error(`sampling: top-k must be a non-negative integer, got ${topK}`);
  if (vocab !== undefined && topK > vocab) throw new Error(`sampling: top-k ${topK} exceeds the vocabulary size ${vocab}`);
}

/** Keeps ids in [start, end) (an image span keeps only image codes); everything else -> -inf. */
export function allowRange(logits: Float32Array, start: number, end: number): void {
  for (let i = 0; i < start; i++) logits[i] = -Infinity;
  for (let i = end; i < logits.length; i++) logits[i] = -Infinity;
}

export function forbid(logits: Float32Array, ids: Iterable<number>): void {
  for (const id of ids) if (id >= 0 && id < logits.length) logits[id] = -Infinity;
}

/** Softmax of logits / temperature in double precision; -inf entries get probability 0. */
export function probabilities(logits: Float32Array, temperature = 1): Float64Array {
  let m = -Infinity;
  for (const v of logits) if (v > m) m = v;
  const p = new Float64Array(logits.length);
  if (m === -Infinity) throw new Error('sampling: every token is masked');
  let s = 0;
  for (let i = 0; i < logits.length; i++) s += p[i] = Math.exp((logits[i]! - m) / temperature);
  for (let i = 0; i < p.length; i++) p[i]! /= s;
  return p;
}

/** Zeroes all but the smallest set of most likely tokens whose mass reaches topP (and the top k), renormalised. */
export function truncate(p: Float64Array, topP = 1, topK = 0): Float64Array {
  if (topP >= 1 && (topK === 0 || topK >= p.length)) return p;
  const order = [...p.keys()].filter((i) => p[i]! > 0).sort((a, b) => p[b]! - p[a]! || a - b);
  const keep = new Set<number>();
  let mass = 0;
  for (const i of order) {
    if (topK > 0 && keep.size >= topK) break;
    keep.add(i);
    mass += p[i]!;
    if (mass >= topP) break;
  }
  const out = new Float64Array(p.length);
  for (const i of keep) out[i] = p[i]! / mass;
  return out;
}

/** Draws an id from a distribution. */
export function sample(p: Float64Array, rng: Rng): number {
  let r = rng.uniform();
  let last = -1;
  for (let i = 0; i < p.length; i++) {
    if (p[i]! <= 0) continue;
    last = i;
    r -= p[i]!;
    if (r < 0) return i;
  }
  return last;
}

export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  return best;
}

/** One sampling step: temperature, top-k, top-p, draw. temperature 0 means greedy. */
export function sampleLogits(logits: Float32Array, o: SamplingOptions, rng: Rng): number {
  if (o.temperature === 0) return argmax(logits);
  return sample(truncate(probabilities(logits, o.temperature ?? 1), o.topP ?? 1, o.topK ?? 0), rng);
}
