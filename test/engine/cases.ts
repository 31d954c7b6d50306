/**
 * The conformance cases: every differentiable op on random inputs, including broadcasting, odd and
 * unit sizes, transposed and sliced views. Each case is a function of fresh input tensors; the
 * suite runs it on every backend and checks values and gradients against the f64 reference.
 */
import * as T from '../../src/index.js';
import type { Tensor } from '../../src/index.js';

export interface InputSpec {
  shape: number[];
  /** Integer input (ids/targets), values in [0, high); some may be set to -100 with `ignore`. */
  int?: { high: number; ignore?: boolean };
  /** Value range for float inputs (default: standard normal). */
  range?: [number, number];
  /** No gradient for this input. */
  noGrad?: boolean;
}

export interface Case {
  name: string;
  inputs: InputSpec[];
  f: (...xs: Tensor[]) => Tensor;
  /** Relative tolerance for f32 backends vs the f64 reference (default 2e-5). */
  tol?: number;
  /** Skip the finite-difference check (non-smooth or integer-only). */
  noFd?: boolean;
}

const sq = (a: Tensor): Tensor => T.mul(a, a);
const pos: [number, number] = [0.2, 3];

export const cases: Case[] = [
  // Elementwise unary.
  ...(['neg', 'exp', 'tanh', 'sigmoid', 'gelu'] as const).map((op): Case => ({ name: op, inputs: [{ shape: [3, 7] }], f: (x) => T[op](x) })),
  { name: 'log', inputs: [{ shape: [5, 3], range: pos }], f: (x) => T.log(x) },
  { name: 'sqrt', inputs: [{ shape: [4, 1, 3], range: pos }], f: (x) => T.sqrt(x) },
  { name: 'relu', inputs: [{ shape: [33] }], f: (x) => T.relu(x) },
  { name: 'abs', inputs: [{ shape: [2, 9] }], f: (x) => T.abs(x) },
  { name: 'gelu wide range', inputs: [{ shape: [257], range: [-9, 9] }], f: (x) => T.gelu(x) },
  // Broadcasting binary.
  ...(['add', 'sub', 'mul', 'maximum'] as const).flatMap((op): Case[] => [
    { name: `${op} same shape`, inputs: [{ shape: [3, 5] }, { shape: [3, 5] }], f: (a, b) => T[op](a, b) },
    { name: `${op} row broadcast`, inputs: [{ shape: [2, 3, 17] }, { shape: [17] }], f: (a, b) => T[op](a, b) },
    { name: `${op} two-sided broadcast`, inputs: [{ shape: [2, 1, 5] }, { shape: [1, 3, 1] }], f: (a, b) => T[op](a, b) },
    { name: `${op} scalar`, inputs: [{ shape: [4, 3] }, { shape: [] }], f: (a, b) => T[op](b, a) },
  ]),
  { name: 'div', inputs: [{ shape: [3, 4] }, { shape: [4], range: pos }], f: (a, b) => T.div(a, b) },
  { name: 'div scalar number', inputs: [{ shape: [6] }], f: (a) => T.div(T.add(a, 1.5), 0.5) },
  { name: 'binary on transposed views', inputs: [{ shape: [4, 6] }, { shape: [6, 4] }], f: (a, b) => T.mul(T.transpose(a), b) },
  // Reductions.
  { name: 'sum all', inputs: [{ shape: [3, 4, 5] }], f: (x) => T.sum(x) },
  { name: 'sum last axis', inputs: [{ shape: [3, 4, 5] }], f: (x) => T.sum(x, -1) },
  { name: 'sum leading axes keepDims', inputs: [{ shape: [3, 4, 5] }], f: (x) => T.sum(x, [0, 1], true) },
  { name: 'sum middle axis', inputs: [{ shape: [3, 4, 5] }], f: (x) => T.sum(x, 1) },
  { name: 'mean', inputs: [{ shape: [6, 7] }], f: (x) => T.mean(x, 0) },
  { name: 'max last axis', inputs: [{ shape: [5, 8] }], f: (x) => T.max(x, -1) },
  { name: 'max axis 0 keepDims', inputs: [{ shape: [5, 8] }], f: (x) => T.max(x, 0, true) },
  { name: 'logsumexp', inputs: [{ shape: [4, 9] }], f: (x) => T.logsumexp(x, -1) },
  // Views.
  { name: 'reshape', inputs: [{ shape: [4, 6] }], f: (x) => sq(T.reshape(x, [2, -1, 3])) },
  { name: 'permute + reshape (copies)', inputs: [{ shape: [2, 3, 4] }], f: (x) => T.reshape(sq(T.permute(x, [2, 0, 1])), [4, 6]) },
  { name: 'reshape of a transposed view (a view, no copy)', inputs: [{ shape: [1, 4, 3] }], f: (x) => sq(T.reshape(T.unsqueeze(T.reshape(T.transpose(x), [3, 4]), 0), [3, 1, 4])) },
  { name: 'slice', inputs: [{ shape: [5, 6] }], f: (x) => sq(T.slice(T.slice(x, 1, 1, 5), 0, -3)) },
  { name: 'expand', inputs: [{ shape: [3, 1] }], f: (x) => sq(T.expand(x, [2, 3, 4])) },
  { name: 'concat', inputs: [{ shape: [2, 3] }, { shape: [2, 5] }, { shape: [2, 1] }], f: (a, b, c) => sq(T.concat([a, b, c], 1)) },
  { name: 'stack', inputs: [{ shape: [3, 2] }, { shape: [3, 2] }], f: (a, b) => sq(T.stack([a, b], 1)) },
  { name: 'contiguous of transposed', inputs: [{ shape: [3, 5] }], f: (x) => sq(T.contiguous(T.transpose(x))) },
  // Matmul family.
  { name: 'matmul 2-D', inputs: [{ shape: [5, 7] }, { shape: [7, 3] }], f: (a, b) => T.matmul(a, b) },
  { name: 'matmul unit sizes', inputs: [{ shape: [1, 1] }, { shape: [1, 1] }], f: (a, b) => T.matmul(a, b) },
  { name: 'matmul vector-like', inputs: [{ shape: [1, 9] }, { shape: [9, 1] }], f: (a, b) => T.matmul(a, b) },
  { name: 'matmul A^T', inputs: [{ shape: [7, 5] }, { shape: [7, 3] }], f: (a, b) => T.matmul(T.transpose(a), b) },
  { name: 'matmul B^T (Linear)', inputs: [{ shape: [2, 5, 6] }, { shape: [4, 6] }], f: (x, w) => T.matmul(x, T.transpose(w)) },
  { name: 'matmul A^T B^T', inputs: [{ shape: [6, 5] }, { shape: [3, 6] }], f: (a, b) => T.matmul(T.transpose(a), T.transpose(b)) },
  { name: 'batched matmul', inputs: [{ shape: [2, 3, 4, 5] }, { shape: [2, 3, 5, 6] }], f: (a, b) => T.matmul(a, b) },
  { name: 'batched matmul broadcast', inputs: [{ shape: [2, 1, 4, 5] }, { shape: [3, 5, 2] }], f: (a, b) => T.matmul(a, b) },
  { name: 'matmul on sliced view', inputs: [{ shape: [6, 8] }, { shape: [5, 3] }], f: (a, b) => T.matmul(T.slice(a, 1, 2, 7), b) },
  { name: 'matmul odd sizes', inputs: [{ shape: [17, 33] }, { shape: [33, 31] }], f: (a, b) => T.matmul(a, b) },
  // Fused NN ops.
  { name: 'softmax', inputs: [{ shape: [4, 7] }], f: (x) => T.softmax(x) },
  { name: 'softmax axis 0', inputs: [{ shape: [4, 7] }], f: (x) => T.softmax(x, 0) },
  { name: 'logSoftmax', inputs: [{ shape: [3, 2, 11], range: [-20, 20] }], f: (x) => T.logSoftmax(x) },
  { name: 'layerNorm', inputs: [{ shape: [3, 4, 16] }], f: (x) => T.layerNorm(x) },
  { name: 'layerNorm odd width', inputs: [{ shape: [5, 37] }], f: (x) => T.layerNorm(x, 1e-5) },
  { name: 'groupNorm affine', inputs: [{ shape: [2, 6, 3, 3] }, { shape: [6] }, { shape: [6] }], f: (x, w, b) => T.groupNorm(x, 3, w, b) },
  { name: 'embedding', inputs: [{ shape: [11, 6] }, { shape: [2, 5], int: { high: 11 } }], f: (w, ids) => T.embedding(w, ids) },
  { name: 'crossEntropy with ignore', inputs: [{ shape: [2, 6, 13] }, { shape: [2, 6], int: { high: 13, ignore: true } }], f: (l, t) => T.crossEntropy(l, t) },
  { name: 'crossEntropy large logits', inputs: [{ shape: [5, 29], range: [-60, 60] }, { shape: [5], int: { high: 29 } }], f: (l, t) => T.crossEntropy(l, t) },
  { name: 'attention causal', inputs: [{ shape: [2, 7, 3, 4] }, { shape: [2, 7, 3, 4] }, { shape: [2, 7, 3, 4] }], f: (q, k, v) => T.attention(q, k, v) },
  { name: 'attention non-causal', inputs: [{ shape: [1, 5, 2, 8] }, { shape: [1, 5, 2, 8] }, { shape: [1, 5, 2, 8] }], f: (q, k, v) => T.attention(q, k, v, { causal: false }) },
  { name: 'attention T=1', inputs: [{ shape: [2, 1, 2, 4] }, { shape: [2, 1, 2, 4] }, { shape: [2, 1, 2, 4] }], f: (q, k, v) => T.attention(q, k, v) },
  {
    name: 'attention on packed qkv views',
    inputs: [{ shape: [2, 9, 3, 2, 8] }],
    f: (qkv) => {
      const part = (i: number): Tensor => T.reshape(T.slice(qkv, 2, i, i + 1), [2, 9, 2, 8]);
      return T.attention(part(0), part(1), part(2), { scale: 0.3 });
    },
  },
  { name: 'attention with longer keys (KV cache)', inputs: [{ shape: [2, 3, 2, 4] }, { shape: [2, 7, 2, 4] }, { shape: [2, 7, 2, 4] }], f: (q, k, v) => T.attention(q, k, v) },
  { name: 'attention one query over a cache', inputs: [{ shape: [1, 1, 2, 8] }, { shape: [1, 9, 2, 8] }, { shape: [1, 9, 2, 8] }], f: (q, k, v) => T.attention(q, k, v) },
  // Left padding (keyStarts): rows of different lengths in one KV cache. Inference only (no gradients).
  { name: 'attention keyStarts: one query per row over a left-padded cache', inputs: [{ shape: [3, 1, 2, 8], noGrad: true }, { shape: [3, 9, 2, 8], noGrad: true }, { shape: [3, 9, 2, 8], noGrad: true }], f: (q, k, v) => T.attention(q, k, v, { keyStarts: [0, 4, 8] }), noFd: true },
  { name: 'attention keyStarts: left-padded prefill (padding queries give 0)', inputs: [{ shape: [2, 6, 2, 4], noGrad: true }, { shape: [2, 6, 2, 4], noGrad: true }, { shape: [2, 6, 2, 4], noGrad: true }], f: (q, k, v) => T.attention(q, k, v, { keyStarts: [0, 3] }), noFd: true },
  { name: 'attention keyStarts: non-causal, D = 20', inputs: [{ shape: [2, 2, 2, 20], noGrad: true }, { shape: [2, 11, 2, 20], noGrad: true }, { shape: [2, 11, 2, 20], noGrad: true }], f: (q, k, v) => T.attention(q, k, v, { causal: false, keyStarts: [5, 10] }), noFd: true },
  { name: 'attention keyStarts: 300 keys, D = 64', inputs: [{ shape: [2, 1, 4, 64], noGrad: true }, { shape: [2, 300, 4, 64], noGrad: true }, { shape: [2, 300, 4, 64], noGrad: true }], f: (q, k, v) => T.attention(q, k, v, { keyStarts: [0, 37] }), noFd: true },
  { name: 'attention long odd T', inputs: [{ shape: [1, 67, 1, 16] }, { shape: [1, 67, 1, 16] }, { shape: [1, 67, 1, 16] }], f: (q, k, v) => T.attention(q, k, v) },
  { name: 'conv2d stride 1 pad 1', inputs: [{ shape: [2, 3, 6, 5] }, { shape: [4, 3, 3, 3] }], f: (x, w) => T.conv2d(x, w, { padding: 1 }) },
  { name: 'conv2d stride 2', inputs: [{ shape: [1, 2, 7, 7] }, { shape: [3, 2, 4, 4] }], f: (x, w) => T.conv2d(x, w, { stride: 2, padding: 1 }) },
  { name: 'conv2d 1x1', inputs: [{ shape: [2, 5, 3, 3] }, { shape: [2, 5, 1, 1] }], f: (x, w) => T.conv2d(x, w) },
  { name: 'upsampleNearest2d', inputs: [{ shape: [2, 3, 3, 4] }], f: (x) => sq(T.upsampleNearest2d(x, 2)) },
  // A composite the model uses: pre-LN block pieces chained.
  {
    name: 'chain: layerNorm -> Linear -> gelu -> Linear -> residual',
    inputs: [{ shape: [2, 3, 8] }, { shape: [16, 8] }, { shape: [8, 16] }],
    f: (x, w1, w2) => T.add(x, T.matmul(T.gelu(T.matmul(T.layerNorm(x), T.transpose(w1))), T.transpose(w2))),
  },
];
