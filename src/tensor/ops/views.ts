/**
 * Layout ops. reshape/permute/transpose/slice/expand return views sharing the input's buffer (no
 * copy; reshape copies only when the input's strides make a view impossible); contiguous and
 * concat materialise. All are differentiable.
 */
import { record } from '../autograd.js';
import { broadcastStrides, fmt, isContiguous, normAxis, sizeOf, viewStrides, type Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { checkInputs, contiguousData, wrap } from './core.js';

function resolveShape(op: string, x: Tensor, shape: readonly number[]): number[] {
  const out = [...shape];
  const infer = out.indexOf(-1);
  if (infer !== out.lastIndexOf(-1)) throw new Error(`${op}: only one dimension can be -1 in ${fmt(shape)}`);
  if (infer >= 0) {
    const known = sizeOf(out.filter((_, i) => i !== infer));
    if (known === 0 || x.size % known !== 0) throw new Error(`${op}: cannot reshape ${fmt(x.shape)} to ${fmt(shape)}`);
    out[infer] = x.size / known;
  }
  if (out.some((d) => !Number.isInteger(d) || d < 0) || sizeOf(out) !== x.size) {
    throw new Error(`${op}: cannot reshape ${fmt(x.shape)} (${x.size} elements) to ${fmt(shape)}`);
  }
  return out;
}

export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  checkInputs('reshape', [x]);
  const target = resolveShape('reshape', x, shape);
  const strides = viewStrides(x.shape, x.strides, target);
  if (strides) return record('reshape', [x], x.view(target, strides, x.offset));
  const src = contiguousData(x);
  const out = src.view(target);
  if (src !== x) src.dispose();
  return record('reshape', [x], out);
}

/** Reorders dimensions: out.shape[i] = x.shape[axes[i]]. A view. */
export function permute(x: Tensor, axes: readonly number[]): Tensor {
  checkInputs('permute', [x]);
  if (axes.length !== x.rank) throw new Error(`permute: ${axes.length} axes for a tensor of shape ${fmt(x.shape)}`);
  const norm = axes.map((a) => normAxis('permute', a, x.rank));
  if (new Set(norm).size !== norm.length) throw new Error(`permute: repeated axis in [${axes.join(', ')}]`);
  const out = x.view(norm.map((a) => x.shape[a]!), norm.map((a) => x.strides[a]!), x.offset);
  return record('permute', [x], out, { axes: norm });
}

/** Swaps two dimensions (default: the last two). A view. */
export function transpose(x: Tensor, a = -2, b = -1): Tensor {
  if (x.rank < 2) throw new Error(`transpose: needs rank >= 2, got shape ${fmt(x.shape)}`);
  const axes = x.shape.map((_, i) => i);
  const ia = normAxis('transpose', a, x.rank);
  const ib = normAxis('transpose', b, x.rank);
  axes[ia] = ib;
  axes[ib] = ia;
  return permute(x, axes);
}

/** x[start:end] along one axis (end exclusive, negative indices count from the end). A view. */
export function slice(x: Tensor, axis: number, start: number, end?: number): Tensor {
  checkInputs('slice', [x]);
  const ax = normAxis('slice', axis, x.rank);
  const n = x.shape[ax]!;
  const s = start < 0 ? start + n : start;
  const e = end === undefined ? n : end < 0 ? end + n : end;
  if (!Number.isInteger(s) || !Number.isInteger(e) || s < 0 || e > n || s > e) {
    throw new Error(`slice: range [${start}, ${end ?? n}) out of bounds for axis ${axis} of shape ${fmt(x.shape)}`);
  }
  const shape = [...x.shape];
  shape[ax] = e - s;
  const out = x.view(shape, x.strides, x.offset + s * x.strides[ax]!);
  return record('slice', [x], out, { axis: ax, start: s });
}

/** Broadcasts x to shape (NumPy rules). A view with stride 0 on broadcast dimensions. */
export function expand(x: Tensor, shape: Shape): Tensor {
  checkInputs('expand', [x]);
  if (shape.length < x.rank) throw new Error(`expand: cannot expand ${fmt(x.shape)} to ${fmt(shape)}`);
  x.shape.forEach((d, i) => {
    const t = shape[shape.length - x.rank + i]!;
    if (d !== 1 && d !== t) throw new Error(`expand: cannot expand ${fmt(x.shape)} to ${fmt(shape)}`);
  });
  const out = x.view(shape, broadcastStrides(x.shape, x.strides, shape), x.offset);
  return record('expand', [x], out);
}

export function unsqueeze(x: Tensor, axis: number): Tensor {
  const ax = normAxis('unsqueeze', axis, x.rank + 1);
  const shape = [...x.shape];
  shape.splice(ax, 0, 1);
  return reshape(x, shape);
}

export function squeeze(x: Tensor, axis: number): Tensor {
  const ax = normAxis('squeeze', axis, x.rank);
  if (x.shape[ax] !== 1) throw new Error(`squeeze: axis ${axis} of shape ${fmt(x.shape)} is not 1`);
  return reshape(x, x.shape.filter((_, i) => i !== ax));
}

/** A contiguous copy (or x itself, re-wrapped, when already contiguous). */
export function contiguous(x: Tensor): Tensor {
  checkInputs('contiguous', [x]);
  const out = isContiguous(x.shape, x.strides) ? x.view(x.shape, x.strides, x.offset) : wrap(x.backend, x.backend.kernels.copy(x), x.dtype, x.shape);
  return record('contiguous', [x], out);
}

export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new Error('concat: no tensors given');
  const backend = checkInputs('concat', xs, 'assign');
  const first = xs[0]!;
  const ax = normAxis('concat', axis, first.rank);
  for (const t of xs) {
    if (t.dtype !== first.dtype || t.rank !== first.rank || t.shape.some((d, i) => i !== ax && d !== first.shape[i])) {
      throw new Error(`concat: shapes ${xs.map((u) => fmt(u.shape)).join(', ')} (${xs.map((u) => u.dtype).join(', ')}) do not match outside axis ${axis}`);
    }
  }
  const shape = [...first.shape];
  shape[ax] = xs.reduce((s, t) => s + t.shape[ax]!, 0);
  const out = wrap(backend, backend.kernels.full(first.dtype, sizeOf(shape), 0), first.dtype, shape);
  let at = 0;
  for (const t of xs) {
    const n = t.shape[ax]!;
    if (n > 0) {
      const dstShape = [...shape];
      dstShape[ax] = n;
      backend.kernels.assign({ buf: out.buf, dtype: out.dtype, shape: dstShape, strides: out.strides, offset: at * out.strides[ax]! }, t);
    }
    at += n;
  }
  return record('concat', xs, out, { axis: ax, sizes: xs.map((t) => t.shape[ax]!) });
}

export function stack(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new Error('stack: no tensors given');
  return concat(xs.map((t) => unsqueeze(t, axis < 0 ? axis + t.rank + 1 : axis)), axis);
}
