/**
 * WebGPU kernels, part 1: layout (copy, cast, assign, full), elementwise, reductions and matmul.
 * Each wrapper computes the parameter block and grid for one WGSL kernel (wgsl/*.wgsl); the
 * semantics are those of the CPU reference kernels (src/backends/cpu/ref-basic.ts).
 */
import type { BinaryOp, Kernels, UnaryOp } from '../../tensor/backend.js';
import { contiguousStrides, sizeOf } from '../../tensor/shape.js';
import type { GpuBuf } from './buffers.js';
import { runMatmul } from './matmul.js';
import { checkRank, collapse, groups2d, Params, threads1d, type Runtime } from './runtime.js';

const unaryCodes: Record<UnaryOp, number> = { neg: 0, exp: 1, log: 2, sqrt: 3, tanh: 4, sigmoid: 5, relu: 6, gelu: 7, abs: 8 };
const binaryCodes: Record<BinaryOp, number> = { add: 0, sub: 1, mul: 2, div: 3, maximum: 4, greater: 5 };
const NEG_INF_F32_BITS = 0xff800000;
const MIN_I32_BITS = 0x80000000;


export function basicKernels(rt: Runtime): Pick<Kernels, 'copy' | 'cast' | 'assign' | 'full' | 'unary' | 'binary' | 'reduce' | 'matmul'> {
  return {
    copy(x) {
      const n = sizeOf(x.shape);
      const out = rt.alloc(n);
      const c = collapse(x.shape, [x.strides]);
      checkRank('copy', c.shape);
      const p = new Params().u(0, n).u(1, c.shape.length).u(2, x.offset).list(8, c.shape).list(16, c.strides[0]!);
      rt.run('copy', {}, [x, out], p, threads1d(n));
      return out;
    },

    cast(x, dtype) {
      const n = sizeOf(x.shape);
      const out = rt.alloc(n);
      const ty = (d: string): string => (d === 'i32' ? 'i32' : 'f32');
      if (dtype === 'f64') throw new Error('webgpu cast: f64 is not supported on WebGPU');
      rt.run('cast', { SRC: ty(x.dtype), DST: ty(dtype) }, [x, out], new Params().u(0, n).u(1, x.offset), threads1d(n));
      return out;
    },

    assign(dst, src) {
      const n = sizeOf(dst.shape);
      if (n === 0) return;
      if (dst.buf === src.buf) {
        // Same buffer: stage the source so no element is read after it was overwritten.
        const tmp = this.copy(src) as GpuBuf;
        const shape = src.shape;
        this.assign(dst, { buf: tmp, dtype: src.dtype, shape, strides: contiguousStrides(shape), offset: 0 });
        rt.pool.release(tmp);
        return;
      }
      const c = collapse(dst.shape, [dst.strides, src.strides]);
      checkRank('assign', c.shape);
      const p = new Params().u(0, n).u(1, c.shape.length).u(2, dst.offset).u(3, src.offset)
        .list(8, c.shape).list(16, c.strides[0]!).list(24, c.strides[1]!);
      rt.run('assign', {}, [src, dst], p, threads1d(n));
    },

    full(dtype, size, value) {
      if (dtype === 'f64') throw new Error('webgpu full: f64 is not supported on WebGPU');
      return rt.fill(dtype, size, value);
    },

    unary(op, x) {
      const n = sizeOf(x.shape);
      const out = rt.alloc(n);
      rt.run('unary', {}, [x, out], new Params().u(0, n).u(1, x.offset).u(2, unaryCodes[op]), threads1d(n));
      return out;
    },

    binary(op, a, b, outShape) {
      const n = sizeOf(outShape);
      const out = rt.alloc(n);
      const c = collapse(outShape, [a.strides, b.strides, contiguousStrides(outShape)]);
      checkRank(op, c.shape);
      const contiguous = c.shape.length === 0 || (c.shape.length === 1 && c.strides[0]![0] === 1 && c.strides[1]![0] === 1) ? 1 : 0;
      const p = new Params().u(0, n).u(1, c.shape.length).u(2, a.offset).u(3, b.offset).u(4, binaryCodes[op]).u(5, contiguous)
        .list(8, c.shape).list(16, c.strides[0]!).list(24, c.strides[1]!);
      rt.run('binary', { T: a.dtype === 'i32' ? 'i32' : 'f32' }, [a, b, out], p, threads1d(n));
      return out;
    },

    reduce(op, x, axes) {
      const strides = contiguousStrides(x.shape);
      const keptAxes = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
      const kept = collapse(keptAxes.map((i) => x.shape[i]!), [keptAxes.map((i) => strides[i]!)]);
      const red = collapse(axes.map((i) => x.shape[i]!), [axes.map((i) => strides[i]!)]);
      checkRank(op, kept.shape);
      checkRank(op, red.shape);
      const outN = sizeOf(kept.shape);
      const out = rt.alloc(outN);
      const init = op === 'sum' ? 0 : x.dtype === 'i32' ? MIN_I32_BITS : NEG_INF_F32_BITS;
      const p = new Params().u(0, outN).u(1, kept.shape.length).u(2, red.shape.length).u(3, sizeOf(red.shape))
        .u(4, op === 'sum' ? 0 : 1).u(5, x.offset).u(6, init)
        .list(8, kept.shape).list(16, kept.strides[0]!).list(24, red.shape).list(32, red.strides[0]!);
      const subs = { T: x.dtype === 'i32' ? 'i32' : 'f32' };
      const count = sizeOf(red.shape);
      if (outN >= 4096 && count <= 256) {
        // Many short reductions: a thread each.
        rt.run('reduce-thread', subs, [x, out], p, threads1d(outN));
        return out;
      }
      // Few long reductions: split each into parts of >= 16K elements, then reduce the partials.
      const parts = outN >= 1024 ? 1 : Math.min(1024, Math.floor(count / 16384));
      if (parts <= 1) {
        rt.run('reduce', subs, [x, out], p.u(40, 1).u(41, count), groups2d(outN));
        return out;
      }
      const chunk = Math.ceil(count / parts);
      const partial = rt.alloc(outN * parts);
      rt.run('reduce', subs, [x, partial], p.u(40, parts).u(41, chunk), groups2d(outN * parts));
      const q = new Params().u(0, outN).u(1, 1).u(2, 1).u(3, parts).u(4, op === 'sum' ? 0 : 1).u(5, 0).u(6, init)
        .list(8, [outN]).list(16, [parts]).list(24, [parts]).list(32, [1]).u(40, 1).u(41, parts);
      rt.run('reduce', subs, [partial, out], q, groups2d(outN));
      rt.pool.release(partial);
      return out;
    },

    matmul(a, b) {
      const [ba, m, k] = a.shape as [number, number, number];
      const [bb, , n] = b.shape as [number, number, number];
      const batch = Math.max(ba, bb);
      const out = rt.alloc(batch * m * n);
      if (batch * m * n === 0) return out;
      if (k === 0) {
        rt.pool.release(out);
        return rt.fill('f32', batch * m * n, 0);
      }
      runMatmul(rt, { buf: a, offset: a.offset, batch: ba === 1 ? 0 : a.strides[0]!, row: a.strides[1]!, col: a.strides[2]! },
        { buf: b, offset: b.offset, batch: bb === 1 ? 0 : b.strides[0]!, row: b.strides[1]!, col: b.strides[2]! }, out, { m, n, k, batches: batch });
      return out;
    },
  };
}
