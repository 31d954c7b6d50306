/**
 * The gradient table: for every recorded op, how the upstream gradient gy of its output becomes
 * gradients of its inputs (null where an input gets none). One entry per op name; the
 * `satisfies` clause makes a missing entry a compile error. Runs under noGrad, with ordinary ops.
 */
import type { GradNode } from './autograd.js';
import {
  bmm, div, expand, greater, mul, neg, permute, reshape, slice, sub, sum, sumTo, transpose, zeros,
} from './ops/index.js';
import type { Tensor } from './tensor.js';
import { contiguousData, wrap } from './ops/core.js';

export type GradFn = (node: GradNode, gy: Tensor, out: Tensor) => (Tensor | null)[];

const s = <T>(node: GradNode, key: string): T => node.saved[key] as T;
const input = (node: GradNode, i: number): Tensor => node.inputs[i]!;

/** x's shape with the reduced axes kept as 1 (the shape of a keepDims reduction). */
function keptShape(x: Tensor, axes: number[]): number[] {
  return x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

/** A (B, R, C) view whose rows are strided and columns contiguous in memory the other way round. */
function isTransposed(t: Tensor): boolean {
  return t.strides[1] === 1 && t.shape[1]! > 1 && t.strides[2] !== 1;
}

function bmmInputGrad(g: Tensor, inputBatch: number): Tensor {
  return inputBatch === 1 && g.shape[0] !== 1 ? sum(g, 0, true) : g;
}

export const gradients = {
  reshape: (n, gy) => [reshape(gy, input(n, 0).shape)],
  permute: (n, gy) => {
    const axes = s<number[]>(n, 'axes');
    const inv = new Array<number>(axes.length);
    axes.forEach((a, i) => (inv[a] = i));
    return [permute(gy, inv)];
  },
  slice: (n, gy) => {
    const x = input(n, 0);
    const g = zeros(x.shape, { dtype: gy.dtype, backend: gy.backend.name });
    const axis = s<number>(n, 'axis');
    const dst = slice(g, axis, s<number>(n, 'start'), s<number>(n, 'start') + gy.shape[axis]!);
    g.backend.kernels.assign(dst, gy);
    dst.dispose();
    return [g];
  },
  expand: (n, gy) => [sumTo(gy, input(n, 0).shape)],
  contiguous: (_n, gy) => [gy],
  concat: (n, gy) => {
    const axis = s<number>(n, 'axis');
    let at = 0;
    return s<number[]>(n, 'sizes').map((size) => slice(gy, axis, at, (at += size)));
  },
  neg: (_n, gy) => [neg(gy)],
  exp: (_n, gy, out) => [mul(gy, out)],
  log: (n, gy) => [div(gy, input(n, 0))],
  sqrt: (_n, gy, out) => [div(gy, mul(out, 2))],
  tanh: (_n, gy, out) => [mul(gy, sub(1, mul(out, out)))],
  sigmoid: (_n, gy, out) => [mul(gy, mul(out, sub(1, out)))],
  relu: (n, gy) => [mul(gy, greater(input(n, 0), 0))],
  abs: (n, gy) => [mul(gy, sub(greater(input(n, 0), 0), greater(0, input(n, 0))))],
  gelu: (n, gy) => {
    const x = contiguousData(input(n, 0));
    const g = contiguousData(gy);
    return [wrap(g.backend, g.backend.kernels.geluBackward(x, g), g.dtype, g.shape)];
  },
  add: (n, gy) => [sumTo(gy, input(n, 0).shape), sumTo(gy, input(n, 1).shape)],
  sub: (n, gy) => [sumTo(gy, input(n, 0).shape), sumTo(neg(gy), input(n, 1).shape)],
  mul: (n, gy) => [sumTo(mul(gy, input(n, 1)), input(n, 0).shape), sumTo(mul(gy, input(n, 0)), input(n, 1).shape)],
  div: (n, gy, out) => [sumTo(div(gy, input(n, 1)), input(n, 0).shape), sumTo(neg(div(mul(gy, out), input(n, 1))), input(n, 1).shape)],
  maximum: (n, gy) => {
    // Ties send the gradient to the first operand.
    const bWins = greater(input(n, 1), input(n, 0));
    return [sumTo(mul(gy, sub(1, bWins)), input(n, 0).shape), sumTo(mul(gy, bWins), input(n, 1).shape)];
  },
  sum: (n, gy) => {
    const x = input(n, 0);
    return [expand(reshape(gy, keptShape(x, s<number[]>(n, 'axes'))), x.shape)];
  },
  max: (n, gy, out) => {
    // Like amax: the gradient is shared equally among all positions that attain the maximum.
    const x = input(n, 0);
    const shape = keptShape(x, s<number[]>(n, 'axes'));
    const m = reshape(out, shape);
    const mask = sub(1, greater(m, x));
    const count = sum(mask, s<number[]>(n, 'axes'), true);
    return [div(mul(reshape(gy, shape), mask), count)];
  },
  bmm: (n, gy) => {
    // An operand read transposed in place (x W^T: W is stored (out, in)) gets its gradient in its
    // own storage order, so the parameter's gradient comes out contiguous with no copy.
    const [a, b] = [input(n, 0), input(n, 1)];
    const ga = isTransposed(a) ? transpose(bmm(b, transpose(gy))) : bmm(gy, transpose(b));
    const gb = isTransposed(b) ? transpose(bmm(transpose(gy), a)) : bmm(transpose(a), gy);
    return [bmmInputGrad(ga, a.shape[0]!), bmmInputGrad(gb, b.shape[0]!)];
  },
  softmax: (_n, gy, out) => {
    const g = contiguousData(gy);
    return [wrap(g.backend, g.backend.kernels.softmaxBackward(out, g, false), g.dtype, g.shape)];
  },
  logSoftmax: (_n, gy, out) => {
    const g = contiguousData(gy);
    return [wrap(g.backend, g.backend.kernels.softmaxBackward(out, g, true), g.dtype, g.shape)];
  },
  layerNorm: (n, gy) => {
    const g = contiguousData(gy);
    const dx = g.backend.kernels.layerNormBackward(s<Tensor>(n, 'x'), g, s<Tensor>(n, 'mean'), s<Tensor>(n, 'rstd'));
    return [wrap(g.backend, dx, g.dtype, g.shape)];
  },
  embedding: (n, gy) => {
    const w = input(n, 0);
    const c = w.shape[1]!;
    const g = contiguousData(gy);
    const flat = { buf: g.buf, dtype: g.dtype, shape: [g.size / c, c], strides: [c, 1], offset: g.offset };
    return [wrap(g.backend, g.backend.kernels.embeddingBackward(s<Tensor>(n, 'ids'), flat, w.shape[0]!), w.dtype, w.shape)];
  },
  crossEntropy: (n, gy) => {
    const logits = s<Tensor>(n, 'logits');
    const v = logits.shape[logits.rank - 1]!;
    const flat = { buf: logits.buf, dtype: logits.dtype, shape: [logits.size / v, v], strides: [v, 1], offset: logits.offset };
    const k = logits.backend.kernels;
    const g = k.crossEntropyBackward(flat, s<Tensor>(n, 'targets'), s<Tensor>(n, 'lse'), s<Tensor>(n, 'count'), contiguousData(gy), s<number>(n, 'ignoreIndex'));
    return [wrap(logits.backend, g, logits.dtype, logits.shape)];
  },
  attention: (n, gy, out) => {
    const g = contiguousData(gy);
    const r = g.backend.kernels.attentionBackward(
      s<Tensor>(n, 'q'), s<Tensor>(n, 'k'), s<Tensor>(n, 'v'), out, s<Tensor>(n, 'lse'), g, s<number>(n, 'scale'), s<boolean>(n, 'causal'));
    const kShape = input(n, 1).shape;
    return [wrap(g.backend, r.dq, g.dtype, g.shape), wrap(g.backend, r.dk, g.dtype, kShape), wrap(g.backend, r.dv, g.dtype, kShape)];
  },
  conv2d: (n, gy) => {
    const [x, w] = [s<Tensor>(n, 'x'), s<Tensor>(n, 'w')];
    const g = contiguousData(gy);
    const r = g.backend.kernels.conv2dBackward(x, w, g, s<number>(n, 'stride'), s<number>(n, 'pad'));
    return [wrap(g.backend, r.dx, g.dtype, x.shape), wrap(g.backend, r.dw, g.dtype, w.shape)];
  },
  upsampleNearest2d: (n, gy) => {
    const g = contiguousData(gy);
    return [wrap(g.backend, g.backend.kernels.upsampleNearestBackward(g, s<number>(n, 'factor')), g.dtype, input(n, 0).shape)];
  },
} satisfies Record<string, GradFn>;

export type OpName = keyof typeof gradients;
