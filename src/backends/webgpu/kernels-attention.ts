/**
 * WebGPU kernels, part 3: fused causal attention and its backward (flash-style, no T x T scores;
 * semantics of the CPU reference in src/backends/cpu/ref-nn.ts). The head dim D is compiled into
 * each pipeline (private arrays need a constant size), with KT keys staged per step so that the
 * shared-memory tiles stay at 8 KiB.
 */
import type { Kernels, View } from '../../tensor/backend.js';
import type { GpuBuf } from './buffers.js';
import { runMatmul, type Operand, type OutputLayout } from './matmul.js';
import { groups2d, Params, threads1d, type Runtime } from './runtime.js';

/**
 * How attention runs. 'fused': the flash-style kernels (one thread per query or key row: no T x T
 * memory, but long serial loops). 'matmul': scores and probabilities materialised per chunk of
 * (batch, head) pairs of at most `chunkElements` scores, the products on the matmul kernels
 * (much faster on GPUs at training lengths). 'auto' takes 'matmul' when a query block has at
 * least `minScores` scores (Tq * Tk) and one (batch) row of heads fits a chunk. Forward passes
 * with at most `decodeQueries` queries (decoding with a KV cache) use attention-decode.wgsl, which
 * spreads the keys over a workgroup instead of one thread's loop (in 'auto' and 'fused').
 */
export const attentionTuning: { mode: 'auto' | 'fused' | 'matmul'; minScores: number; chunkElements: number; decodeQueries: number } =
  { mode: 'auto', minScores: 128 * 128, chunkElements: 32 * 2 ** 20, decodeQueries: 4 };


/** (b, t, h, d) view -> per-(b, h) matrix operand over (t, d), or transposed over (d, t). */
function rows(x: View, b0: number, transposed = false): Operand {
  const [sb, st, sh, sd] = x.strides as [number, number, number, number];
  return { buf: x, offset: x.offset + b0 * sb, row: transposed ? sd : st, col: transposed ? st : sd, batch: sh, outer: sb };
}

/** A contiguous (Z, R, C) scratch buffer as an operand, or its per-entry transpose; inner = heads. */
function scratch(buf: GpuBuf, r: number, c: number, heads: number, transposed = false): Operand {
  return { buf, offset: 0, row: transposed ? 1 : c, col: transposed ? c : 1, batch: r * c, outer: heads * r * c };
}

/** Output layout that writes per-(b, h) (T, D) products straight into rows b0.. of a contiguous (B, T, H, D) buffer. */
function intoHeads(b0: number, t: number, h: number, d: number): OutputLayout {
  return { offset: b0 * t * h * d, row: h * d, inner: d, outer: t * h * d };
}

type CausalMode = 'scores' | 'keysSeen' | 'queriesSeeing';

/** The causal-product setting for runMatmul (see matmul-tiled.wgsl), or none without a mask. */
function causalMask(causal: boolean, tq: number, tk: number): (mode: CausalMode) => { causal?: { mode: CausalMode; shift: number } } {
  return (mode) => (causal ? { causal: { mode, shift: tk - tq } } : {});
}

function useMatmulPath(h: number, tq: number, tk: number): boolean {
  const t = attentionTuning;
  if (t.mode === 'fused') return false;
  const fits = h * tq * tk <= t.chunkElements;
  if (t.mode === 'matmul') return fits;
  return fits && tq * tk >= t.minScores;
}

export const MAX_HEAD_DIM = 256;
/** Batch rows per attention-decode dispatch with key starts: parameter words 24..63. */
const DECODE_ROWS = 40;

/** Words 0..17: sizes, scale, mask, and the strides of q, k, v over (b, t, h). */
function attentionParams(q: View, k: View, v: View, scale: number, causal: boolean): Params {
  const [b, tq, h] = q.shape as [number, number, number, number];
  const tk = k.shape[1]!;
  const s = (x: View): number[] => [x.offset, x.strides[0]!, x.strides[1]!, x.strides[2]!];
  return new Params().u(0, b).u(1, tq).u(2, tk).u(3, h).f32(4, scale).u(5, causal ? 1 : 0)
    .list(6, s(q)).list(10, s(k)).list(14, s(v));
}

function subsFor(op: string, d: number): { __D__: number; __KT__: number } {
  if (d > MAX_HEAD_DIM) throw new Error(`webgpu ${op}: head dim ${d} is not supported (at most ${MAX_HEAD_DIM})`);
  return { __D__: d, __KT__: Math.max(1, Math.min(32, Math.floor(1024 / d))) };
}

export function attentionKernels(rt: Runtime): Pick<Kernels, 'attention' | 'attentionBackward'> {
  return {
    attention(q, k, v, scale, causal, keyStarts) {
      const [b, tq, h, d] = q.shape as [number, number, number, number];
      const out = rt.alloc(b * tq * h * d);
      const lse = rt.alloc(b * h * tq);
      if (b * tq * h * d === 0) return { out, lse };
      const tk = k.shape[1]!;
      if (keyStarts) {
        // Left padding (batched decoding of prompts of different lengths): only attention-decode
        // takes per-row key starts, in its parameter block, DECODE_ROWS batch rows a dispatch.
        if (d > MAX_HEAD_DIM) throw new Error(`webgpu attention: head dim ${d} is not supported (at most ${MAX_HEAD_DIM})`);
        const threads = Math.max(1, Math.min(64, Math.floor(4096 / d)));
        for (let b0 = 0; b0 < b; b0 += DECODE_ROWS) {
          const rows = Math.min(DECODE_ROWS, b - b0);
          const p = attentionParams(q, k, v, scale, causal).u(22, b0).u(23, 1).list(24, [...keyStarts.subarray(b0, b0 + rows)]);
          rt.run('attention-decode', { __D__: d, __W__: threads }, [q, k, v, out, lse], p, [tq, rows * h, 1]);
        }
        return { out, lse };
      }
      if (useMatmulPath(h, tq, tk)) {
        // Per chunk of bc batch rows (Z = bc * H matrices): S = q k^T, softmax in place (P, lse), O = P v.
        const bcMax = Math.max(1, Math.floor(attentionTuning.chunkElements / (h * tq * tk)));
        for (let b0 = 0; b0 < b; b0 += bcMax) {
          const bc = Math.min(bcMax, b - b0);
          const z = bc * h;
          const sc = rt.alloc(z * tq * tk);
          const mask = causalMask(causal, tq, tk);
          runMatmul(rt, rows(q, b0), rows(k, b0, true), sc, { m: tq, n: tk, k: d, batches: z, inner: h, ...mask('scores') });
          rt.run('attention-softmax', {}, [sc, lse], new Params().u(0, z * tq).u(1, tq).u(2, tk).f32(3, scale).u(4, causal ? 1 : 0).u(5, b0 * h * tq), groups2d(z * tq));
          runMatmul(rt, scratch(sc, tq, tk, h), rows(v, b0), out, { m: tq, n: d, k: tk, batches: z, inner: h, ...mask('keysSeen') }, intoHeads(b0, tq, h, d));
          rt.pool.release(sc);
        }
        return { out, lse };
      }
      if (tq <= attentionTuning.decodeQueries && attentionTuning.mode !== 'matmul') {
        const threads = Math.max(1, Math.min(64, Math.floor(4096 / d)));
        if (d > MAX_HEAD_DIM) throw new Error(`webgpu attention: head dim ${d} is not supported (at most ${MAX_HEAD_DIM})`);
        rt.run('attention-decode', { __D__: d, __W__: threads }, [q, k, v, out, lse], attentionParams(q, k, v, scale, causal), [tq, b * h, 1]);
        return { out, lse };
      }
      const grid = [Math.ceil(tq / 64), b * h, 1] as const;
      rt.run('attention', subsFor('attention', d), [q, k, v, out, lse], attentionParams(q, k, v, scale, causal), grid);
      return { out, lse };
    },

    attentionBackward(q, k, v, out, lse, dOut, scale, causal) {
      const [b, tq, h, d] = q.shape as [number, number, number, number];
      const tk = k.shape[1]!;
      const dq = rt.alloc(b * tq * h * d);
      const dk = rt.alloc(b * tk * h * d);
      const dv = rt.alloc(b * tk * h * d);
      if (b * tq * h * d === 0) return { dq, dk, dv };
      const di = rt.alloc(b * h * tq);
      if (useMatmulPath(h, tq, tk)) {
        rt.run('attention-di', {}, [out, dOut, di], new Params().u(0, b * h * tq).u(1, tq).u(2, h).u(3, d).u(4, out.offset).u(5, dOut.offset), threads1d(b * h * tq));
        const bcMax = Math.max(1, Math.floor(attentionTuning.chunkElements / (h * tq * tk)));
        for (let b0 = 0; b0 < b; b0 += bcMax) {
          const bc = Math.min(bcMax, b - b0);
          const z = bc * h;
          const n = z * tq * tk;
          const shape = { batches: z, inner: h };
          const mask = causalMask(causal, tq, tk);
          // P = exp(scale q k^T - lse), masked; dV = P^T dOut; dS = P (dOut v^T - Di) scale; dQ = dS k; dK = dS^T q.
          const pr = rt.alloc(n);
          runMatmul(rt, rows(q, b0), rows(k, b0, true), pr, { m: tq, n: tk, k: d, ...shape, ...mask('scores') });
          rt.run('attention-probs', {}, [pr, lse], new Params().u(0, n).u(1, tq).u(2, tk).f32(3, scale).u(4, causal ? 1 : 0).u(5, lse.offset + b0 * h * tq), threads1d(n));
          runMatmul(rt, scratch(pr, tq, tk, h, true), rows(dOut, b0), dv, { m: tk, n: d, k: tq, ...shape, ...mask('queriesSeeing') }, intoHeads(b0, tk, h, d));
          const ds = rt.alloc(n);
          runMatmul(rt, rows(dOut, b0), rows(v, b0, true), ds, { m: tq, n: tk, k: d, ...shape, ...mask('scores') });
          rt.run('attention-dscores', {}, [pr, ds, di], new Params().u(0, n).u(1, tk).f32(2, scale).u(3, b0 * h * tq), threads1d(n));
          rt.pool.release(pr);
          runMatmul(rt, scratch(ds, tq, tk, h, true), rows(q, b0), dk, { m: tk, n: d, k: tq, ...shape, ...mask('queriesSeeing') }, intoHeads(b0, tk, h, d));
          runMatmul(rt, scratch(ds, tq, tk, h), rows(k, b0), dq, { m: tq, n: d, k: tk, ...shape, ...mask('keysSeen') }, intoHeads(b0, tq, h, d));
          rt.pool.release(ds);
        }
        rt.pool.release(di);
        return { dq, dk, dv };
      }
      const subs = subsFor('attentionBackward', d);
      const p = attentionParams(q, k, v, scale, causal).u(18, out.offset).u(19, lse.offset).u(20, dOut.offset).u(21, 0);
      rt.run('attention-backward-query', subs, [q, k, v, out, lse, dOut, dq, di], p, [Math.ceil(tq / 64), b * h, 1]);
      rt.run('attention-backward-key', subs, [q, k, v, lse, dOut, di, dk, dv], p, [Math.ceil(tk / 64), b * h, 1]);
      rt.pool.release(di);
      return { dq, dk, dv };
    },
  };
}
