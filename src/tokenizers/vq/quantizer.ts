/**
 * The codebook: l2-normalised codes and lookups (ViT-VQGAN's cosine-similarity codebook), the
 * codebook and commitment losses, a straight-through estimator, usage statistics and restarts of
 * dead codes. Nearest-code search is one matmul of normalised vectors (N, D) @ (D, K) followed by
 * an argmax over the host copy, ties to the lowest code, so encoding is deterministic.
 *
 * Why restarts: a code that no encoder output is nearest to gets no gradient and stays dead
 * forever. Every `restartEvery` steps, codes used fewer than `minUses` times in the window are moved
 * onto encoder outputs from the current batch, the ones farthest from their current code first.
 */
import { Module, assignData, parameter } from '../../nn/index.js';
import {
  add, div, embedding, matmul, mean, mul, noGrad, permute, reshape, sqrt, sub, sum, tensor, tidy, transpose, Rng, type Tensor,
} from '../../tensor/index.js';

/** x (..., D) / ||x|| over the last axis. */
export function l2Normalize(x: Tensor): Tensor {
  return div(x, sqrt(add(sum(mul(x, x), -1, true), 1e-12)));
}

/** mean over rows of ||a - b||^2, for (N, D) operands (2 - 2 cos for unit rows). */
function meanSquaredDistance(a: Tensor, b: Tensor): Tensor {
  const d = sub(a, b);
  return sum(mean(mul(d, d), 0));
}

export interface QuantizeResult {
  /** Quantised vectors with straight-through gradients to z: (B, D, h, w). */
  zq: Tensor;
  /** Code index per position, row-major (b, y, x): B*h*w entries. */
  ids: Int32Array;
  /** mean ||sg(zn) - q||^2 (moves the codes). */
  codebookLoss: Tensor;
  /** mean ||zn - sg(q)||^2 (keeps the encoder near its codes). */
  commitLoss: Tensor;
  /** Normalised encoder outputs on the host, (N, D) row-major, for restarts. */
  zHost: Float32Array;
  /** Cosine similarity of each position to its code. */
  bestSim: Float32Array;
}

/** Row-wise argmax of a (N, K) score matrix, ties to the lowest index. */
export function argmaxRows(scores: Float32Array, n: number, k: number): { ids: Int32Array; best: Float32Array } {
  const ids = new Int32Array(n);
  const best = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let bi = 0;
    let bv = scores[i * k]!;
    for (let j = 1; j < k; j++) {
      const v = scores[i * k + j]!;
      if (v > bv) { bv = v; bi = j; }
    }
    ids[i] = bi;
    best[i] = bv;
  }
  return { ids, best };
}

export class Quantizer extends Module {
  readonly codebook: Tensor; // (K, D), normalised on use

  constructor(readonly size: number, readonly dim: number, rng: Rng) {
    super();
    const a = new Float32Array(size * dim);
    for (let i = 0; i < a.length; i++) a[i] = rng.normal();
    this.codebook = parameter(tensor(a, [size, dim]));
  }

  /** Nearest codes of z (B, D, h, w): ids (B*h*w) and the normalised rows (N, D) on the host. */
  nearest(z: Tensor): { ids: Int32Array; best: Float32Array; zn: Tensor; cn: Tensor } {
    const [b, d, h, w] = z.shape as [number, number, number, number];
    const n = b * h * w;
    const zn = l2Normalize(reshape(permute(z, [0, 2, 3, 1]), [n, d])); // (N, D)
    const cn = l2Normalize(this.codebook); // (K, D)
    const scores = noGrad(() => matmul(zn, transpose(cn))); // (N, K) cosine similarities
    const { ids, best } = argmaxRows(scores.dataSync() as Float32Array, n, this.size);
    scores.dispose();
    return { ids, best, zn, cn };
  }

  /**
   * Code ids of z (B, D, h, w), row-major (b, y, x), on any backend: the same search as `nearest`
   * with an asynchronous read of the scores (WebGPU reads only so).
   */
  async nearestIdsAsync(z: Tensor): Promise<Int32Array> {
    const [b, d, h, w] = z.shape as [number, number, number, number];
    const n = b * h * w;
    const scores = tidy(() => noGrad(() => {
      const zn = l2Normalize(reshape(permute(z, [0, 2, 3, 1]), [n, d])); // (N, D)
      return matmul(zn, transpose(l2Normalize(this.codebook))); // (N, K)
    }));
    try {
      return argmaxRows((await scores.data()) as Float32Array, n, this.size).ids;
    } finally {
      scores.dispose();
    }
  }

  forward(z: Tensor): QuantizeResult {
    const [b, d, h, w] = z.shape as [number, number, number, number];
    const { ids, best, zn, cn } = this.nearest(z);
    const idT = tensor(ids, [ids.length], { dtype: 'i32' });
    const q = embedding(cn, idT); // (N, D)
    const znConst = noGrad(() => mul(zn, 1));
    const qConst = noGrad(() => mul(q, 1));
    const codebookLoss = meanSquaredDistance(q, znConst);
    const commitLoss = meanSquaredDistance(zn, qConst);
    const st = add(zn, noGrad(() => sub(q, zn))); // value q, gradient to zn
    const zq = permute(reshape(st, [b, h, w, d]), [0, 3, 1, 2]);
    return { zq, ids, codebookLoss, commitLoss, zHost: znConst.dataSync() as Float32Array, bestSim: best };
  }

  /** Normalised code vectors for ids (N) -> (B, D, h, w). Throws on a code outside [0, K). */
  lookup(ids: Int32Array, b: number, h: number, w: number): Tensor {
    const cn = l2Normalize(this.codebook);
    const q = embedding(cn, tensor(ids, [ids.length], { dtype: 'i32' }));
    return permute(reshape(q, [b, h, w, this.dim]), [0, 3, 1, 2]);
  }

  /** Moves the codes listed in `dead` onto rows of `candidates`; returns how many moved. */
  restart(dead: readonly number[], candidates: Float32Array, order: readonly number[]): number {
    if (dead.length === 0) return 0;
    const data = this.codebook.dataSync() as Float32Array;
    const next = restartCodes(data, this.dim, dead, candidates, order);
    assignData(this.codebook, next);
    return Math.min(dead.length, order.length);
  }
}

/**
 * Pure host-side restart: a copy of `codebook` (K*D) where dead code dead[i] becomes candidate row
 * order[i] (rows of `candidates`, (N, D)). Extra dead codes beyond the candidates stay as they are.
 */
export function restartCodes(codebook: Float32Array, dim: number, dead: readonly number[], candidates: Float32Array, order: readonly number[]): Float32Array {
  const out = codebook.slice();
  const count = Math.min(dead.length, order.length);
  for (let i = 0; i < count; i++) {
    const src = order[i]! * dim;
    out.set(candidates.subarray(src, src + dim), dead[i]! * dim);
  }
  return out;
}

/**
 * Usage statistics over a window of steps, and the choice of codes to restart: those used fewer
 * than `minUses` times; candidates are the batch rows least well served by their code (lowest
 * cosine similarity), distinct, with a seeded shuffle among equals.
 */
export class CodeUsage {
  counts: Float64Array;
  total: Float64Array;

  constructor(readonly size: number) {
    this.counts = new Float64Array(size);
    this.total = new Float64Array(size);
  }

  add(ids: Int32Array): void {
    for (let i = 0; i < ids.length; i++) {
      this.counts[ids[i]!]! += 1;
      this.total[ids[i]!]! += 1;
    }
  }

  /** Codes with fewer than minUses uses in the current window. */
  dead(minUses = 1): number[] {
    const out: number[] = [];
    for (let k = 0; k < this.size; k++) if (this.counts[k]! < minUses) out.push(k);
    return out;
  }

  resetWindow(): void {
    this.counts.fill(0);
  }
}

/** Rows ordered worst-served first (lowest similarity to their code), at most `max`, ties shuffled by rng. */
export function restartCandidates(bestSim: Float32Array, max: number, rng: Rng): number[] {
  const idx = Array.from(bestSim, (_, i) => i);
  const jitter = Float64Array.from(idx, () => rng.uniform() * 1e-6);
  idx.sort((a, b) => bestSim[a]! + jitter[a]! - (bestSim[b]! + jitter[b]!));
  return idx.slice(0, max);
}

/** Perplexity exp(H) of a code histogram and the fraction of codes used at least once. */
export function codebookUsage(counts: ArrayLike<number>): { perplexity: number; used: number; usedFraction: number } {
  let total = 0;
  let used = 0;
  for (let k = 0; k < counts.length; k++) {
    total += counts[k]!;
    if (counts[k]! > 0) used++;
  }
  let h = 0;
  for (let k = 0; k < counts.length; k++) {
    const p = counts[k]! / Math.max(1, total);
    if (p > 0) h -= p * Math.log(p);
  }
  return { perplexity: Math.exp(h), used, usedFraction: used / counts.length };
}
