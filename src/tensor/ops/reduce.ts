/** Reductions: sum and max are primitives; mean, logsumexp, sumTo are composed from them. */
import { record } from '../autograd.js';
import type { ReduceOp } from '../backend.js';
import { noGrad } from '../scope.js';
import { fmt, normAxis, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { checkFloat, checkInputs, contiguousData, wrap } from './core.js';
import { add, exp, log, maximum, mul, neg, sub } from './elementwise.js';
import { reshape } from './views.js';

const F32_MAX = 3.4028234663852886e38;

export type Axes = number | readonly number[] | undefined;

function normAxes(op: string, x: Tensor, axes: Axes): number[] {
  if (axes === undefined) return x.shape.map((_, i) => i);
  const list = typeof axes === 'number' ? [axes] : [...axes];
  const norm = [...new Set(list.map((a) => normAxis(op, a, x.rank)))].sort((p, q) => p - q);
  return norm;
}

function keptShape(x: Tensor, axes: readonly number[], keepDims: boolean): number[] {
  return keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
}

function reduce(op: ReduceOp, x: Tensor, axes0: Axes, keepDims: boolean): Tensor {
  const backend = checkInputs(op, [x], 'reduce');
  const axes = normAxes(op, x, axes0);
  if (op === 'max' && axes.some((a) => x.shape[a] === 0)) throw new Error(`max: cannot reduce an empty axis of shape ${fmt(x.shape)}`);
  const src = contiguousData(x);
  const out = wrap(backend, backend.kernels.reduce(op, src, axes), x.dtype, keptShape(x, axes, keepDims));
  if (src !== x) src.dispose();
  return record(op === 'sum' ? 'sum' : 'max', [x], out, { axes, keepDims });
}

export const sum = (x: Tensor, axes?: Axes, keepDims = false): Tensor => reduce('sum', x, axes, keepDims);
export const max = (x: Tensor, axes?: Axes, keepDims = false): Tensor => reduce('max', x, axes, keepDims);

export function mean(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  checkFloat('mean', x);
  const ax = normAxes('mean', x, axes);
  const n = sizeOf(ax.map((a) => x.shape[a]!));
  return mul(sum(x, ax, keepDims), 1 / n);
}

/** log(sum(exp(x))) over axes, stable: the max is subtracted first (and not differentiated through). */
export function logsumexp(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  checkFloat('logsumexp', x);
  const ax = normAxes('logsumexp', x, axes);
  // Clamped to the finite range so an all -inf (or +inf) slice gives -inf (+inf), not NaN from inf - inf.
  const m = noGrad(() => neg(maximum(neg(maximum(max(x, ax, true), -F32_MAX)), -F32_MAX)));
  const shifted = sub(x, m);
  const s = log(sum(exp(shifted), ax, true));
  const r = add(s, m);
  return keepDims ? r : reshape(r, keptShape(x, ax, false));
}

/** Sums a broadcast gradient back to `shape` (the inverse of broadcasting). */
export function sumTo(x: Tensor, shape: readonly number[]): Tensor {
  if (x.shape.length === shape.length && x.shape.every((d, i) => d === shape[i])) return x;
  const lead = x.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < x.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && x.shape[i] !== 1)) axes.push(i);
  }
  const s = axes.length > 0 ? sum(x, axes, true) : x;
  return reshape(s, shape);
}
