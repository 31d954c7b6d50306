/**
 * WebGPU kernels, part 2: the fused neural-network ops (softmax, layer norm, GELU gradient,
 * embedding, cross-entropy, AdamW, conv2d, nearest upsampling), with the semantics of the CPU
 * reference (src/backends/cpu/ref-nn.ts, ref-conv.ts). Row ops run one workgroup per row.
 */
import type { Kernels, View } from '../../tensor/backend.js';
import { sizeOf } from '../../tensor/shape.js';
import { groups2d, Params, threads1d, type Runtime } from './runtime.js';

type NnKernels = Pick<Kernels,
  'softmax' | 'softmaxBackward' | 'layerNorm' | 'layerNormBackward' | 'geluBackward' | 'embedding' | 'embeddingBackward' |
  'crossEntropy' | 'crossEntropyBackward' | 'adamw' | 'conv2d' | 'conv2dBackward' | 'upsampleNearest' | 'upsampleNearestBackward'>;

const lastDim = (v: View): number => v.shape[v.shape.length - 1] ?? 1;
const rowsOf = (v: View): number => { const c = lastDim(v); return c === 0 ? 0 : sizeOf(v.shape) / c; };
const outSize = (size: number, k: number, stride: number, pad: number): number => Math.floor((size + 2 * pad - k) / stride) + 1;

export function nnKernels(rt: Runtime): NnKernels {
  /** conv2d's shared parameters (words 1..10). */
  const convParams = (x: View, w: View, stride: number, pad: number): { p: Params; dims: number[] } => {
    const [n, c, h, wd] = x.shape as [number, number, number, number];
    const [o, , kh, kw] = w.shape as [number, number, number, number];
    const [oh, ow] = [outSize(h, kh, stride, pad), outSize(wd, kw, stride, pad)];
    return { p: new Params().list(1, [c, h, wd, o, kh, kw, oh, ow, stride, pad]), dims: [n, c, h, wd, o, kh, kw, oh, ow] };
  };

  return {
    softmax(x, log) {
      const [rows, cols] = [rowsOf(x), lastDim(x)];
      const out = rt.alloc(rows * cols);
      rt.run('softmax', {}, [x, out], new Params().u(0, rows).u(1, cols).u(2, x.offset).u(3, log ? 1 : 0), groups2d(rows));
      return out;
    },

    softmaxBackward(y, dy, log) {
      const [rows, cols] = [rowsOf(y), lastDim(y)];
      const out = rt.alloc(rows * cols);
      const p = new Params().u(0, rows).u(1, cols).u(2, y.offset).u(3, dy.offset).u(4, log ? 1 : 0);
      rt.run('softmax-backward', {}, [y, dy, out], p, groups2d(rows));
      return out;
    },

    layerNorm(x, eps) {
      const [rows, cols] = [rowsOf(x), lastDim(x)];
      const y = rt.alloc(rows * cols);
      const mean = rt.alloc(rows);
      const rstd = rt.alloc(rows);
      rt.run('layer-norm', {}, [x, y, mean, rstd], new Params().u(0, rows).u(1, cols).u(2, x.offset).f32(3, eps), groups2d(rows));
      return { y, mean, rstd };
    },

    layerNormBackward(x, dy, mean, rstd) {
      const [rows, cols] = [rowsOf(x), lastDim(x)];
      const out = rt.alloc(rows * cols);
      const p = new Params().u(0, rows).u(1, cols).u(2, x.offset).u(3, dy.offset).u(4, mean.offset).u(5, rstd.offset);
      rt.run('layer-norm-backward', {}, [x, dy, mean, rstd, out], p, groups2d(rows));
      return out;
    },

    geluBackward(x, dy) {
      const n = sizeOf(x.shape);
      const out = rt.alloc(n);
      rt.run('gelu-backward', {}, [x, dy, out], new Params().u(0, n).u(1, x.offset).u(2, dy.offset), threads1d(n));
      return out;
    },

    embedding(w, ids) {
      const c = w.shape[1]!;
      const n = sizeOf(ids.shape) * c;
      const out = rt.alloc(n);
      rt.run('embedding', {}, [w, ids, out], new Params().u(0, n).u(1, c).u(2, w.offset).u(3, ids.offset), threads1d(n));
      return out;
    },

    embeddingBackward(ids, dy, vocab) {
      const c = lastDim(dy);
      const n = sizeOf(ids.shape) * c;
      const out = rt.fill('f32', vocab * c, 0);
      rt.run('embedding-backward', {}, [ids, dy, out], new Params().u(0, n).u(1, c).u(2, ids.offset).u(3, dy.offset), threads1d(n));
      return out;
    },

    crossEntropy(logits, targets, ignoreIndex) {
      const [rows, v] = logits.shape as [number, number];
      const lse = rt.alloc(rows);
      const perRow = rt.alloc(2 * rows);
      const loss = rt.alloc(1);
      const count = rt.alloc(1);
      const p = new Params().u(0, rows).u(1, v).u(2, logits.offset).u(3, targets.offset).i32(4, ignoreIndex);
      rt.run('cross-entropy', {}, [logits, targets, lse, perRow], p, groups2d(rows));
      rt.run('cross-entropy-total', {}, [perRow, loss, count], new Params().u(0, rows).u(1, 0x7fc00000), [1, 1, 1]);
      rt.pool.release(perRow);
      return { loss, lse, count };
    },

    crossEntropyBackward(logits, targets, lse, count, gy, ignoreIndex) {
      const [rows, v] = logits.shape as [number, number];
      const out = rt.alloc(rows * v);
      const p = new Params().u(0, rows * v).u(1, v).u(2, logits.offset).u(3, targets.offset).u(4, lse.offset)
        .u(5, count.offset).u(6, gy.offset).i32(7, ignoreIndex);
      rt.run('cross-entropy-backward', {}, [logits, targets, lse, count, gy, out], p, threads1d(rows * v));
      return out;
    },

    adamw(p, g, m, v, hp) {
      const n = sizeOf(p.shape);
      const params = new Params().u(0, n).u(1, p.offset).u(2, g.offset).u(3, m.offset).u(4, v.offset)
        .f32(8, hp.lr).f32(9, hp.beta1).f32(10, hp.beta2).f32(11, hp.eps).f32(12, hp.weightDecay).f32(13, hp.bc1).f32(14, hp.bc2);
      rt.run('adamw', {}, [g, p, m, v], params, threads1d(n));
    },

    conv2d(x, w, stride, pad) {
      const { p, dims } = convParams(x, w, stride, pad);
      const [n, , , , o, , , oh, ow] = dims as [number, number, number, number, number, number, number, number, number];
      const total = n * o * oh * ow;
      const out = rt.alloc(total);
      rt.run('conv2d', {}, [x, w, out], p.u(0, total).u(11, x.offset).u(12, w.offset), threads1d(total));
      return out;
    },

    conv2dBackward(x, w, gy, stride, pad) {
      const { p, dims } = convParams(x, w, stride, pad);
      const [n, c, h, wd, o, kh, kw] = dims as [number, number, number, number, number, number, number];
      const dx = rt.alloc(n * c * h * wd);
      const dw = rt.alloc(o * c * kh * kw);
      const pdx = new Params().list(0, [...p.words]).u(0, n * c * h * wd).u(11, gy.offset).u(12, w.offset);
      rt.run('conv2d-backward-input', {}, [gy, w, dx], pdx, threads1d(n * c * h * wd));
      const pdw = new Params().list(0, [...p.words]).u(0, o * c * kh * kw).u(11, x.offset).u(12, gy.offset).u(13, n);
      rt.run('conv2d-backward-weight', {}, [x, gy, dw], pdw, threads1d(o * c * kh * kw));
      return { dx, dw };
    },

    upsampleNearest(x, f) {
      const [n, c, h, w] = x.shape as [number, number, number, number];
      const total = n * c * h * f * w * f;
      const out = rt.alloc(total);
      rt.run('upsample', {}, [x, out], new Params().u(0, total).u(1, h).u(2, w).u(3, f).u(4, x.offset).u(5, 0), threads1d(total));
      return out;
    },

    upsampleNearestBackward(gy, f) {
      const [n, c, hf, wf] = gy.shape as [number, number, number, number];
      const total = n * c * (hf / f) * (wf / f);
      const out = rt.alloc(total);
      rt.run('upsample', {}, [gy, out], new Params().u(0, total).u(1, hf / f).u(2, wf / f).u(3, f).u(4, gy.offset).u(5, 1), threads1d(total));
      return out;
    },
  };
}
