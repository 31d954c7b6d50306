/**
 * Creating tensors: from arrays, filled, ranges, and seeded random initialisers. Random numbers
 * are drawn on the host (deterministic for a seed on every backend) and uploaded.
 */
import { dtypeOf, typedArrayFor, type DType, type TypedArray } from '../dtype.js';
import { Rng } from '../random.js';
import { checkShape, fmt, sizeOf, type Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { defaultBackend, wrap } from './core.js';

export interface CreateOptions {
  dtype?: DType;
  backend?: string;
  requiresGrad?: boolean;
}

function finish(t: Tensor, o: CreateOptions): Tensor {
  if (o.requiresGrad) t.requiresGrad = true;
  return t;
}

/** A tensor from a typed array or (nested) number array; shape defaults to the data's length. */
export function tensor(data: TypedArray | number[] | number, shape?: Shape, o: CreateOptions = {}): Tensor {
  let arr: TypedArray;
  if (typeof data === 'number') {
    arr = typedArrayFor(o.dtype ?? 'f32', 1);
    arr[0] = data;
    shape ??= [];
  } else if (Array.isArray(data)) {
    const flat = (data as unknown[]).flat(Infinity as 1) as number[];
    arr = typedArrayFor(o.dtype ?? 'f32', flat.length);
    arr.set(flat);
  } else {
    arr = o.dtype && o.dtype !== dtypeOf(data) ? (() => { const a = typedArrayFor(o.dtype!, data.length); a.set(data); return a; })() : data;
  }
  shape ??= [arr.length];
  checkShape('tensor', shape);
  if (sizeOf(shape) !== arr.length) throw new Error(`tensor: ${arr.length} values do not fill shape ${fmt(shape)}`);
  const backend = defaultBackend(o.backend);
  return finish(wrap(backend, backend.fromArray(arr), dtypeOf(arr), shape), o);
}

export function full(shape: Shape, value: number, o: CreateOptions = {}): Tensor {
  checkShape('full', shape);
  const backend = defaultBackend(o.backend);
  const dtype = o.dtype ?? 'f32';
  return finish(wrap(backend, backend.kernels.full(dtype, sizeOf(shape), value), dtype, shape), o);
}

export const zeros = (shape: Shape, o: CreateOptions = {}): Tensor => full(shape, 0, o);
export const ones = (shape: Shape, o: CreateOptions = {}): Tensor => full(shape, 1, o);

export function fullLike(t: Tensor, value: number): Tensor {
  return full(t.shape, value, { dtype: t.dtype, backend: t.backend.name });
}
export const zerosLike = (t: Tensor): Tensor => fullLike(t, 0);
export const onesLike = (t: Tensor): Tensor => fullLike(t, 1);

export function arange(n: number, o: CreateOptions = {}): Tensor {
  const a = typedArrayFor(o.dtype ?? 'i32', n);
  for (let i = 0; i < n; i++) a[i] = i;
  return tensor(a, [n], o);
}

export interface RandomOptions extends CreateOptions {
  rng?: Rng;
  seed?: number;
}

function random(shape: Shape, o: RandomOptions, draw: (rng: Rng) => number): Tensor {
  checkShape('random', shape);
  const rng = o.rng ?? new Rng(o.seed ?? 0);
  const a = typedArrayFor(o.dtype ?? 'f32', sizeOf(shape));
  for (let i = 0; i < a.length; i++) a[i] = draw(rng);
  return tensor(a, shape, o);
}

export const randn = (shape: Shape, o: RandomOptions = {}): Tensor => random(shape, o, (r) => r.normal());
export const rand = (shape: Shape, o: RandomOptions = {}): Tensor => random(shape, o, (r) => r.uniform());
/** Normal(0, std) truncated to [-cut*std, cut*std] by redrawing (the paper: std 0.006, cut 3). */
export const truncatedNormal = (shape: Shape, std: number, cut = 3, o: RandomOptions = {}): Tensor =>
  random(shape, o, (r) => r.truncatedNormal(std, cut));
export const randint = (shape: Shape, high: number, o: RandomOptions = {}): Tensor =>
  random(shape, { ...o, dtype: o.dtype ?? 'i32' }, (r) => Math.floor(r.uniform() * high));
