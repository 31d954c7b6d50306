/**
 * Launching the matmul kernels: out (Z, M, N) contiguous = a (M, K) @ b (K, N) for each of Z batch
 * entries, operands read through strides (transposed views in place). A batch entry z may be
 * two-level, (z / inner, z % inner), each level with its own stride per operand: the attention
 * backward batches (B, T, H, D) views over (b, h) this way. Kernel choice and split K: see
 * `matmulTuning`.
 */
import type { GpuBuf } from './buffers.js';
import { Params, threads1d, type Runtime } from './runtime.js';
import type { View } from '../../tensor/backend.js';

/**
 * Matmul kernel choice. 'auto': the 128x128-tile kernel (matmul-tiled.wgsl, 8x8 outputs a thread)
 * when the output has at least `minTiles` of its tiles, or fewer but K is long enough to split
 * into parts of at least `minSplitK` (then about `splitTarget` workgroups run: two per SM of an
 * H100); products of at most `skinnyRows` (<= 16) rows, as in decoding, on matmul-skinny.wgsl
 * (K split over 32 lanes a column); else the 64x64 one (matmul.wgsl), which wastes less on small
 * or thin products. `bk` is the big kernel's K step. Benchmarks change these to compare; the defaults are
 * the measured best (BENCHMARKS.md).
 */
export const matmulTuning: { kernel: 'auto' | 'tile64' | 'tile128' | 'skinny'; bk: 8 | 16; minTiles: number; splitTarget: number; minSplitK: number; skinnyRows: number } =
  { kernel: 'auto', bk: 8, minTiles: 128, splitTarget: 264, minSplitK: 512, skinnyRows: 16 };

/** One matmul operand: a buffer (or view's buffer) with an offset and strides. */
export interface Operand {
  readonly buf: GpuBuf | View;
  readonly offset: number;
  /** Rows and columns of the (M, K) or (K, N) matrix. */
  readonly row: number;
  readonly col: number;
  /** Batch strides: inner level, and outer level (used when `inner` < batch count). */
  readonly batch: number;
  readonly outer?: number;
}

/** Where output element (row, col) of batch entry (outer, inner) goes: offset + outer * outer + inner * inner + row * row + col. */
export interface OutputLayout {
  readonly offset: number;
  readonly row: number;
  readonly inner: number;
  readonly outer: number;
}

export interface MatmulShape {
  m: number;
  n: number;
  k: number;
  /** Batch entries Z. */
  batches: number;
  /** Entries per outer step (default: all of them, a one-level batch). */
  inner?: number;
  /**
   * Causal attention products (see matmul-tiled.wgsl): 'scores' skips tiles above the diagonal,
   * 'keysSeen' ends K at row + shift, 'queriesSeeing' starts K at row - shift. shift = Tk - Tq.
   */
  causal?: { mode: 'scores' | 'keysSeen' | 'queriesSeeing'; shift: number };
}

/** Writes the product into `out`: Z * M * N contiguous elements, or as `layout` says (then K is not split); k > 0. */
export function runMatmul(rt: Runtime, a: Operand, b: Operand, out: GpuBuf, s: MatmulShape, layout?: OutputLayout): void {
  const { m, n, k, batches } = s;
  const inner = s.inner ?? batches;
  const o = layout ?? { offset: 0, row: n, inner: m * n, outer: inner * m * n };
  if (batches > 65535) throw new Error(`webgpu matmul: batch ${batches} exceeds 65535`);
  const p = new Params().u(0, m).u(1, n).u(2, k)
    .u(3, a.offset).u(4, a.batch).u(5, a.row).u(6, a.col)
    .u(7, b.offset).u(8, b.batch).u(9, b.row).u(10, b.col)
    .u(15, inner).u(16, a.outer ?? 0).u(17, b.outer ?? 0)
    .u(18, o.row).u(19, o.inner).u(20, o.outer).u(21, 0).u(22, o.offset)
    .u(23, s.causal ? { scores: 1, keysSeen: 2, queriesSeeing: 3 }[s.causal.mode] : 0).u(24, s.causal?.shift ?? 0);
  const tiles128 = Math.ceil(m / 128) * Math.ceil(n / 128) * batches;
  const t = matmulTuning;
  const fits = m >= 128 && n >= 128;
  // Few tiles but a long K (weight gradients): split K so that about `splitTarget` workgroups run.
  const splits = layout || t.kernel === 'tile64' || !fits || tiles128 >= t.minTiles ? 1
    : Math.max(1, Math.min(Math.ceil(t.splitTarget / tiles128), Math.floor(k / t.minSplitK)));
  const big = t.kernel === 'tile128' || (t.kernel === 'auto' && fits && (tiles128 >= t.minTiles || splits > 1));
  if (!s.causal && (t.kernel === 'skinny' ? m <= 16 : t.kernel === 'auto' && m <= Math.min(16, t.skinnyRows))) {
    rt.run('matmul-skinny', {}, [a.buf, b.buf, out], p, [Math.ceil(n / 8), 1, batches]);
    return;
  }
  if (!big) {
    rt.run('matmul', {}, [a.buf, b.buf, out], p, [Math.ceil(n / 64), Math.ceil(m / 64), batches]);
    return;
  }
  const kc = Math.ceil(k / splits / t.bk) * t.bk;
  const parts = Math.ceil(k / kc);
  if (batches * parts > 65535) throw new Error(`webgpu matmul: batch ${batches} x ${parts} K parts exceeds 65535`);
  p.u(11, a.col === 1 ? 1 : 0).u(12, b.col === 1 ? 1 : 0).u(13, kc).u(14, batches);
  // Split K: each part writes its own contiguous slice of a scratch buffer.
  if (parts > 1) p.u(18, n).u(19, m * n).u(20, inner * m * n).u(21, batches * m * n).u(22, 0);
  const dst = parts > 1 ? rt.alloc(parts * batches * m * n) : out;
  rt.run('matmul-tiled', { __BK__: t.bk }, [a.buf, b.buf, dst], p, [Math.ceil(n / 128), Math.ceil(m / 128), batches * parts]);
  if (parts > 1) {
    rt.run('matmul-split-sum', {}, [dst, out], new Params().u(0, batches * m * n).u(1, parts), threads1d(batches * m * n));
    rt.pool.release(dst);
  }
}
