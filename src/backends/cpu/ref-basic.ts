/**
 * Reference kernels, part 1: layout, elementwise, reductions and matmul. These define what each
 * op computes; they favour clarity and accumulate in double precision. They serve f64 (gradient
 * checks), i32, and f32 wherever the native addon is absent or declines a layout.
 */
import type { BinaryOp, Kernels, ReduceOp, UnaryOp, View } from '../../tensor/backend.js';
import type { DType, TypedArray } from '../../tensor/dtype.js';
import { contiguousStrides, isContiguous, sizeOf, type Shape } from '../../tensor/shape.js';
import { gelu } from './math.js';
import type { BufferPool } from './pool.js';
import { offsetsOf } from './strided.js';

export const arr = (v: View): TypedArray => v.buf as TypedArray;

const unaryFns: Record<UnaryOp, (x: number) => number> = {
  neg: (x) => -x,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  tanh: Math.tanh,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  relu: (x) => (x > 0 ? x : Number.isNaN(x) ? x : 0),
  gelu,
  abs: Math.abs,
};

const binaryFns: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  maximum: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b)),
  greater: (a, b) => (a > b ? 1 : 0),
};

export function basicKernels(pool: BufferPool): Pick<Kernels, 'copy' | 'cast' | 'assign' | 'full' | 'unary' | 'binary' | 'reduce' | 'matmul'> {
  const alloc = (dtype: DType, n: number, zero = false): TypedArray => pool.alloc(dtype, n, zero);

  return {
    copy(x) {
      const src = arr(x);
      const n = sizeOf(x.shape);
      const out = alloc(x.dtype, n);
      if (isContiguous(x.shape, x.strides)) {
        out.set(src.subarray(x.offset, x.offset + n));
        return out;
      }
      const off = offsetsOf(x);
      for (let i = 0; i < off.length; i++) out[i] = src[off[i]!]!;
      return out;
    },

    cast(x, dtype) {
      const src = arr(x);
      const n = sizeOf(x.shape);
      const out = alloc(dtype, n);
      if (dtype === 'i32') for (let i = 0; i < n; i++) out[i] = Math.trunc(src[x.offset + i]!);
      else for (let i = 0; i < n; i++) out[i] = src[x.offset + i]!;
      return out;
    },

    assign(dst, src) {
      const d = arr(dst);
      const s = arr(src);
      const od = offsetsOf(dst);
      const os = offsetsOf(src);
      for (let i = 0; i < od.length; i++) d[od[i]!] = s[os[i]!]!;
    },

    full(dtype, size, value) {
      const out = alloc(dtype, size);
      out.fill(value);
      return out;
    },

    unary(op, x) {
      const f = unaryFns[op];
      const src = arr(x);
      const n = sizeOf(x.shape);
      const out = alloc(x.dtype, n);
      for (let i = 0; i < n; i++) out[i] = f(src[x.offset + i]!);
      return out;
    },

    binary(op, a, b, outShape) {
      const f = binaryFns[op];
      const n = sizeOf(outShape);
      const out = alloc(a.dtype, n);
      const oa = offsetsOf(a);
      const ob = offsetsOf(b);
      const da = arr(a);
      const db = arr(b);
      for (let i = 0; i < n; i++) out[i] = f(da[oa[i]!]!, db[ob[i]!]!);
      return out;
    },

    reduce(op, x, axes) {
      return reduceRef(op, x, axes, alloc);
    },

    matmul(a, b) {
      const [ba, m, k] = a.shape as [number, number, number];
      const [bb, , n] = b.shape as [number, number, number];
      const batch = Math.max(ba, bb);
      const out = alloc(a.dtype, batch * m * n);
      const da = arr(a);
      const db = arr(b);
      const row = new Float64Array(n);
      for (let p = 0; p < batch; p++) {
        const aBase = a.offset + (ba === 1 ? 0 : p * a.strides[0]!);
        const bBase = b.offset + (bb === 1 ? 0 : p * b.strides[0]!);
        for (let i = 0; i < m; i++) {
          row.fill(0);
          for (let q = 0; q < k; q++) {
            const aiq = da[aBase + i * a.strides[1]! + q * a.strides[2]!]!;
            const bRow = bBase + q * b.strides[1]!;
            for (let j = 0; j < n; j++) row[j]! += aiq * db[bRow + j * b.strides[2]!]!;
          }
          const o = (p * m + i) * n;
          for (let j = 0; j < n; j++) out[o + j] = row[j]!;
        }
      }
      return out;
    },
  };
}

/** Reduction over sorted axes of a contiguous view; the output drops those axes. */
function reduceRef(op: ReduceOp, x: View, axes: readonly number[], alloc: (d: DType, n: number) => TypedArray): TypedArray {
  const shape = x.shape;
  const keptShape: Shape = shape.filter((_, i) => !axes.includes(i));
  const outN = sizeOf(keptShape);
  const keptStrides = contiguousStrides(keptShape);
  // Output offset of each input element: kept axes use the output's strides, reduced axes stride 0.
  let j = 0;
  const mapStrides = shape.map((_, i) => (axes.includes(i) ? 0 : keptStrides[j++]!));
  const target = offsetsOf({ shape, strides: mapStrides, offset: 0 });
  const src = arr(x);
  const acc = new Float64Array(outN).fill(op === 'sum' ? 0 : -Infinity);
  if (op === 'sum') {
    for (let i = 0; i < target.length; i++) acc[target[i]!]! += src[x.offset + i]!;
  } else {
    for (let i = 0; i < target.length; i++) {
      const v = src[x.offset + i]!;
      const t = target[i]!;
      if (v > acc[t]! || Number.isNaN(v)) acc[t] = v;
      else if (Number.isNaN(acc[t]!)) continue;
    }
  }
  const out = alloc(x.dtype, outN);
  for (let i = 0; i < outN; i++) out[i] = acc[i]!;
  return out;
}
