/**
 * Elementwise ops: unary math and broadcasting binary arithmetic. Numbers are accepted wherever a
 * tensor operand is, as 0-d tensors of the other operand's dtype.
 */
import { record } from '../autograd.js';
import type { BinaryOp, UnaryOp } from '../backend.js';
import { broadcastShapes, broadcastStrides } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { checkFloat, checkInputs, checkSameDtype, contiguousData, wrap } from './core.js';
import { tensor } from './create.js';

export type Operand = Tensor | number;

function unary(op: UnaryOp, x: Tensor): Tensor {
  checkFloat(op, x);
  const backend = checkInputs(op, [x], 'unary');
  const src = contiguousData(x);
  const out = wrap(backend, backend.kernels.unary(op, src), x.dtype, x.shape);
  if (src !== x) src.dispose();
  return record(op, [x], out);
}

export const neg = (x: Tensor): Tensor => unary('neg', x);
export const exp = (x: Tensor): Tensor => unary('exp', x);
export const log = (x: Tensor): Tensor => unary('log', x);
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x);
export const tanh = (x: Tensor): Tensor => unary('tanh', x);
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x);
export const relu = (x: Tensor): Tensor => unary('relu', x);
/** GELU, exact erf form: 0.5 x (1 + erf(x / sqrt 2)) (PyTorch's default). */
export const gelu = (x: Tensor): Tensor => unary('gelu', x);
export const abs = (x: Tensor): Tensor => unary('abs', x);

function asTensor(v: Operand, like: Tensor): Tensor {
  return typeof v === 'number' ? tensor(v, [], { dtype: like.dtype, backend: like.backend.name }) : v;
}

function binary(op: BinaryOp, a0: Operand, b0: Operand): Tensor {
  if (typeof a0 === 'number' && typeof b0 === 'number') throw new TypeError(`${op}: at least one operand must be a Tensor`);
  const a = asTensor(a0, (typeof a0 === 'number' ? b0 : a0) as Tensor);
  const b = asTensor(b0, a);
  const backend = checkInputs(op, [a, b], 'binary');
  checkSameDtype(op, a, b);
  const shape = broadcastShapes(op, a.shape, b.shape);
  const va = { buf: a.buf, dtype: a.dtype, shape, strides: broadcastStrides(a.shape, a.strides, shape), offset: a.offset };
  const vb = { buf: b.buf, dtype: b.dtype, shape, strides: broadcastStrides(b.shape, b.strides, shape), offset: b.offset };
  const out = wrap(backend, backend.kernels.binary(op, va, vb, shape), a.dtype, shape);
  if (op !== 'greater') record(op, [a, b], out);
  // Scalars made from numbers here are owned here, unless the autograd graph now holds them.
  if (!out.node) {
    if (a !== a0) a.dispose();
    if (b !== b0) b.dispose();
  }
  return out;
}

export const add = (a: Operand, b: Operand): Tensor => binary('add', a, b);
export const sub = (a: Operand, b: Operand): Tensor => binary('sub', a, b);
export const mul = (a: Operand, b: Operand): Tensor => binary('mul', a, b);
export const div = (a: Operand, b: Operand): Tensor => binary('div', a, b);
export const maximum = (a: Operand, b: Operand): Tensor => binary('maximum', a, b);

export const square = (x: Tensor): Tensor => mul(x, x);

/** Casts to another dtype (not differentiable). */
export function cast(x: Tensor, dtype: 'f32' | 'i32' | 'f64'): Tensor {
  const backend = checkInputs('cast', [x], 'cast');
  const src = contiguousData(x);
  const out = wrap(backend, backend.kernels.cast(src, dtype), dtype, x.shape);
  if (src !== x) src.dispose();
  return out;
}

/** 1 where a > b, else 0 (same dtype as the operands). A mask: no gradient flows through it. */
export const greater = (a: Operand, b: Operand): Tensor => binary('greater', a, b);
