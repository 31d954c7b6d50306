/**
 * Reference kernels, part 3: 2-D convolution (direct loops, zero padding, square stride) and
 * nearest-neighbour upsampling, with their adjoints. Contiguous NCHW inputs.
 */
import type { Kernels } from '../../tensor/backend.js';
import type { DType, TypedArray } from '../../tensor/dtype.js';
import { arr } from './ref-basic.js';
import type { BufferPool } from './pool.js';

type ConvKernels = Pick<Kernels, 'conv2d' | 'conv2dBackward' | 'upsampleNearest' | 'upsampleNearestBackward'>;

export function outSize(size: number, k: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - k) / stride) + 1;
}

export function convKernels(pool: BufferPool): ConvKernels {
  const alloc = (dtype: DType, n: number, zero = false): TypedArray => pool.alloc(dtype, n, zero);

  return {
    conv2d(x, w, stride, pad) {
      const [n, c, h, wd] = x.shape as [number, number, number, number];
      const [o, , kh, kw] = w.shape as [number, number, number, number];
      const [oh, ow] = [outSize(h, kh, stride, pad), outSize(wd, kw, stride, pad)];
      const [xa, wa] = [arr(x), arr(w)];
      const out = alloc(x.dtype, n * o * oh * ow);
      for (let ni = 0; ni < n; ni++) for (let oi = 0; oi < o; oi++) for (let y = 0; y < oh; y++) for (let xx = 0; xx < ow; xx++) {
        let s = 0;
        for (let ci = 0; ci < c; ci++) for (let i = 0; i < kh; i++) {
          const iy = y * stride - pad + i;
          if (iy < 0 || iy >= h) continue;
          for (let j = 0; j < kw; j++) {
            const ix = xx * stride - pad + j;
            if (ix < 0 || ix >= wd) continue;
            s += xa[x.offset + ((ni * c + ci) * h + iy) * wd + ix]! * wa[w.offset + ((oi * c + ci) * kh + i) * kw + j]!;
          }
        }
        out[((ni * o + oi) * oh + y) * ow + xx] = s;
      }
      return out;
    },

    conv2dBackward(x, w, gy, stride, pad) {
      const [n, c, h, wd] = x.shape as [number, number, number, number];
      const [o, , kh, kw] = w.shape as [number, number, number, number];
      const [oh, ow] = [outSize(h, kh, stride, pad), outSize(wd, kw, stride, pad)];
      const [xa, wa, ga] = [arr(x), arr(w), arr(gy)];
      const dx = new Float64Array(n * c * h * wd);
      const dw = new Float64Array(o * c * kh * kw);
      for (let ni = 0; ni < n; ni++) for (let oi = 0; oi < o; oi++) for (let y = 0; y < oh; y++) for (let xx = 0; xx < ow; xx++) {
        const g = ga[gy.offset + ((ni * o + oi) * oh + y) * ow + xx]!;
        for (let ci = 0; ci < c; ci++) for (let i = 0; i < kh; i++) {
          const iy = y * stride - pad + i;
          if (iy < 0 || iy >= h) continue;
          for (let j = 0; j < kw; j++) {
            const ix = xx * stride - pad + j;
            if (ix < 0 || ix >= wd) continue;
            const xi = ((ni * c + ci) * h + iy) * wd + ix;
            const wi = ((oi * c + ci) * kh + i) * kw + j;
            dx[xi]! += g * wa[w.offset + wi]!;
            dw[wi]! += g * xa[x.offset + xi]!;
          }
        }
      }
      const dxo = alloc(x.dtype, dx.length);
      const dwo = alloc(w.dtype, dw.length);
      dxo.set(dx);
      dwo.set(dw);
      return { dx: dxo, dw: dwo };
    },

    upsampleNearest(x, f) {
      const [n, c, h, w] = x.shape as [number, number, number, number];
      const xa = arr(x);
      const out = alloc(x.dtype, n * c * h * f * w * f);
      const ow = w * f;
      for (let p = 0; p < n * c; p++) for (let y = 0; y < h * f; y++) for (let xx = 0; xx < ow; xx++) {
        out[(p * h * f + y) * ow + xx] = xa[x.offset + (p * h + Math.floor(y / f)) * w + Math.floor(xx / f)]!;
      }
      return out;
    },

    upsampleNearestBackward(gy, f) {
      const [n, c, hf, wf] = gy.shape as [number, number, number, number];
      const [h, w] = [hf / f, wf / f];
      const ga = arr(gy);
      const out = alloc(gy.dtype, n * c * h * w, true);
      for (let p = 0; p < n * c; p++) for (let y = 0; y < hf; y++) for (let xx = 0; xx < wf; xx++) {
        out[(p * h + Math.floor(y / f)) * w + Math.floor(xx / f)]! += ga[gy.offset + (p * hf + y) * wf + xx]!;
      }
      return out;
    },
  };
}
