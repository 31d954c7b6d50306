/**
 * WebGPU kernels, part 3: fused causal attention and its backward (flash-style, no T x T scores;
 * semantics of the CPU reference in src/backends/cpu/ref-nn.ts). The head dim D is compiled into
 * each pipeline (private arrays need a constant size), with KT keys staged per step so that the
 * shared-memory tiles stay at 8 KiB.
 */
import type { Kernels, View } from '../../tensor/backend.js';
import { Params, type Runtime } from './runtime.js';

export const MAX_HEAD_DIM = 256;

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
    attention(q, k, v, scale, causal) {
      const [b, tq, h, d] = q.shape as [number, number, number, number];
      const out = rt.alloc(b * tq * h * d);
      const lse = rt.alloc(b * h * tq);
      if (b * tq * h * d === 0) return { out, lse };
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
      const subs = subsFor('attentionBackward', d);
      const p = attentionParams(q, k, v, scale, causal).u(18, out.offset).u(19, lse.offset).u(20, dOut.offset).u(21, 0);
      rt.run('attention-backward-query', subs, [q, k, v, out, lse, dOut, dq, di], p, [Math.ceil(tq / 64), b * h, 1]);
      rt.run('attention-backward-key', subs, [q, k, v, lse, dOut, di, dk, dv], p, [Math.ceil(tk / 64), b * h, 1]);
      rt.pool.release(di);
      return { dq, dk, dv };
    },
  };
}
