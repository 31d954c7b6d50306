/**
 * Neural-network primitives with fused kernels: softmax/log-softmax, layer norm (no affine),
 * embedding gather, cross-entropy with an ignore index, fused causal attention, conv2d and
 * nearest upsampling; group norm is composed from layer norm. Each records one autograd node.
 */
import { record } from '../autograd.js';
import { isGradEnabled } from '../scope.js';
import { fmt, normAxis, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { checkFloat, checkInputs, contiguousData, wrap } from './core.js';
import { add, mul } from './elementwise.js';
import { permute, reshape } from './views.js';

function lastAxisOp(op: string, x: Tensor, axis: number, f: (x: Tensor) => Tensor): Tensor {
  const ax = normAxis(op, axis, x.rank);
  if (ax === x.rank - 1) return f(x);
  const perm = x.shape.map((_, i) => i);
  perm[ax] = x.rank - 1;
  perm[x.rank - 1] = ax;
  return permute(f(permute(x, perm)), perm);
}

function softmaxLast(x: Tensor, log: boolean): Tensor {
  const op = log ? 'logSoftmax' : 'softmax';
  const backend = checkInputs(op, [x], 'softmax');
  checkFloat(op, x);
  const src = contiguousData(x);
  const out = wrap(backend, backend.kernels.softmax(src, log), x.dtype, x.shape);
  if (src !== x) src.dispose();
  return record(op, [x], out);
}

export const softmax = (x: Tensor, axis = -1): Tensor => lastAxisOp('softmax', x, axis, (t) => softmaxLast(t, false));
export const logSoftmax = (x: Tensor, axis = -1): Tensor => lastAxisOp('logSoftmax', x, axis, (t) => softmaxLast(t, true));

/** LayerNorm over the last dimension without affine parameters (CM3leon's LayerNorm). */
export function layerNorm(x: Tensor, eps = 1e-5): Tensor {
  const backend = checkInputs('layerNorm', [x], 'layerNorm');
  checkFloat('layerNorm', x);
  if (x.rank === 0) throw new Error('layerNorm: needs rank >= 1');
  const src = contiguousData(x);
  const rows = x.size / x.shape[x.rank - 1]!;
  const r = backend.kernels.layerNorm(src, eps);
  const out = wrap(backend, r.y, x.dtype, x.shape);
  const mean = wrap(backend, r.mean, x.dtype, [rows]);
  const rstd = wrap(backend, r.rstd, x.dtype, [rows]);
  return record('layerNorm', [x], out, { x: src, mean, rstd });
}

/** Group normalisation of (N, C, ...) over C/groups channels and all spatial positions, with optional affine. */
export function groupNorm(x: Tensor, groups: number, weight?: Tensor, bias?: Tensor, eps = 1e-5): Tensor {
  if (x.rank < 2) throw new Error(`groupNorm: needs (N, C, ...), got ${fmt(x.shape)}`);
  const [n, c] = x.shape as [number, number];
  if (!Number.isInteger(groups) || groups <= 0 || c % groups !== 0) throw new Error(`groupNorm: ${c} channels do not split into ${groups} groups`);
  let y = reshape(layerNorm(reshape(x, [n, groups, -1]), eps), x.shape);
  const bshape = [1, c, ...x.shape.slice(2).map(() => 1)];
  if (weight) y = mul(y, reshape(weight, bshape));
  if (bias) y = add(y, reshape(bias, bshape));
  return y;
}

/** Gathers rows of w (V, C) at integer ids (any shape) -> (...ids.shape, C). */
export function embedding(w: Tensor, ids: Tensor): Tensor {
  const backend = checkInputs('embedding', [w, ids], 'embedding', w.dtype);
  if (ids.dtype !== 'i32') throw new Error(`embedding: ids must be i32, got ${ids.dtype} (shape ${fmt(ids.shape)})`);
  if (w.rank !== 2) throw new Error(`embedding: weight must be (V, C), got ${fmt(w.shape)}`);
  const idx = contiguousData(ids);
  checkIndices('embedding', idx, w.shape[0]!, null);
  const wc = contiguousData(w);
  const out = wrap(backend, backend.kernels.embedding(wc, idx), w.dtype, [...ids.shape, w.shape[1]!]);
  if (wc !== w) wc.dispose();
  return record('embedding', [w], out, { ids: idx });
}

/** Checks integer ids lie in [0, n) (or equal `ignore`); only where the backend reads synchronously. */
function checkIndices(op: string, ids: Tensor, n: number, ignore: number | null): void {
  const d = ids.backend.readSync(ids);
  if (d === null) return;
  for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
    if ((v < 0 || v >= n) && v !== ignore) throw new Error(`${op}: index ${v} at position ${i} is out of range [0, ${n})`);
  }
}

export interface CrossEntropyOptions {
  ignoreIndex?: number;
}

/** Mean cross-entropy of logits (..., V) against integer targets (...), skipping ignoreIndex (-100). */
export function crossEntropy(logits: Tensor, targets: Tensor, o: CrossEntropyOptions = {}): Tensor {
  const ignoreIndex = o.ignoreIndex ?? -100;
  const backend = checkInputs('crossEntropy', [logits, targets], 'crossEntropy', logits.dtype);
  checkFloat('crossEntropy', logits);
  if (targets.dtype !== 'i32') throw new Error(`crossEntropy: targets must be i32, got ${targets.dtype}`);
  const v = logits.shape[logits.rank - 1]!;
  if (logits.rank < 1 || sizeOf(targets.shape) * v !== logits.size || fmt(targets.shape) !== fmt(logits.shape.slice(0, -1))) {
    throw new Error(`crossEntropy: logits ${fmt(logits.shape)} and targets ${fmt(targets.shape)} do not match (expected targets ${fmt(logits.shape.slice(0, -1))})`);
  }
  const rows = targets.size;
  const l2 = contiguousData(logits);
  const t = contiguousData(targets);
  checkIndices('crossEntropy', t, v, ignoreIndex);
  const flat = { buf: l2.buf, dtype: l2.dtype, shape: [rows, v], strides: [v, 1], offset: l2.offset };
  const tv = { buf: t.buf, dtype: t.dtype, shape: [rows], strides: [1], offset: t.offset };
  const r = backend.kernels.crossEntropy(flat, tv, ignoreIndex);
  const out = wrap(backend, r.loss, logits.dtype, []);
  const lse = wrap(backend, r.lse, logits.dtype, [rows]);
  const count = wrap(backend, r.count, logits.dtype, []);
  return record('crossEntropy', [logits], out, { logits: l2, targets: t, lse, count, ignoreIndex });
}

export interface AttentionOptions {
  causal?: boolean;
  /** Score scale; default 1/sqrt(D). */
  scale?: number;
  /**
   * Left padding, one entry per batch row (B): row b's keys [0, keyStarts[b]) are padding that no
   * query sees, so rows of different lengths can share one (B, Tk, H, D) KV cache aligned at the
   * end. A query that sees no key at all (a padding query) gets output 0. Inference only: the op
   * refuses inputs that need gradients.
   */
  keyStarts?: ArrayLike<number>;
}

/** Rows of D must be unit-stride for the fused kernel; other layouts are copied first. */
function unitLast(t: Tensor): Tensor {
  return t.strides[t.rank - 1] === 1 || t.shape[t.rank - 1] === 1 ? t : contiguousData(t);
}

/**
 * Fused multi-head attention on (B, T, H, D) views: softmax(scale q k^T [causal mask]) v, without
 * materialising the T x T scores. Output (B, T, H, D) contiguous, so reshaping to (B, T, C) is free.
 * Keys may be longer than queries (a KV cache): the Tq queries are then the last Tq positions, and
 * the causal mask lets query t see keys up to t + Tk - Tq.
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, o: AttentionOptions = {}): Tensor {
  const backend = checkInputs('attention', [q, k, v], 'attention');
  checkFloat('attention', q, k, v);
  if (q.rank !== 4 || k.rank !== 4 || fmt(k.shape) !== fmt(v.shape) || q.shape[0] !== k.shape[0] || q.shape[2] !== k.shape[2] || q.shape[3] !== k.shape[3] || k.shape[1]! < q.shape[1]!) {
    throw new Error(`attention: q (B, Tq, H, D) and k, v (B, Tk, H, D) with Tk >= Tq expected, got ${fmt(q.shape)}, ${fmt(k.shape)}, ${fmt(v.shape)}`);
  }
  const causal = o.causal ?? true;
  const scale = o.scale ?? 1 / Math.sqrt(q.shape[3]!);
  let keyStarts: Int32Array | undefined;
  if (o.keyStarts !== undefined) {
    const tk = k.shape[1]!;
    if (o.keyStarts.length !== q.shape[0]) throw new Error(`attention: keyStarts has ${o.keyStarts.length} entries for a batch of ${q.shape[0]}`);
    keyStarts = Int32Array.from(o.keyStarts);
    keyStarts.forEach((s, b) => {
      if (!Number.isInteger(o.keyStarts![b]) || s < 0 || s > tk) throw new Error(`attention: keyStarts[${b}] = ${o.keyStarts![b]} is not an integer in [0, ${tk}]`);
    });
    if (isGradEnabled() && [q, k, v].some((t) => t.requiresGrad)) throw new Error('attention: keyStarts (left padding) is for inference; it has no gradient (run under noGrad)');
  }
  const [qc, kc, vc] = [unitLast(q), unitLast(k), unitLast(v)];
  const r = backend.kernels.attention(qc, kc, vc, scale, causal, keyStarts);
  const [b, t, h] = q.shape as [number, number, number, number];
  const out = wrap(backend, r.out, q.dtype, q.shape);
  const lse = wrap(backend, r.lse, q.dtype, [b, h, t]);
  return record('attention', [q, k, v], out, { q: qc, k: kc, v: vc, lse, scale, causal });
}

export interface Conv2dOptions {
  stride?: number;
  padding?: number;
}

/** x (N, C, H, W) * w (O, C, kh, kw) -> (N, O, oh, ow), zero padding, no bias (add it separately). */
export function conv2d(x: Tensor, w: Tensor, o: Conv2dOptions = {}): Tensor {
  const backend = checkInputs('conv2d', [x, w], 'conv2d');
  checkFloat('conv2d', x, w);
  const stride = o.stride ?? 1;
  const pad = o.padding ?? 0;
  if (x.rank !== 4 || w.rank !== 4 || x.shape[1] !== w.shape[1]) {
    throw new Error(`conv2d: expected x (N, C, H, W) and w (O, C, kh, kw) with equal C, got ${fmt(x.shape)} and ${fmt(w.shape)}`);
  }
  if (!Number.isInteger(stride) || stride < 1 || !Number.isInteger(pad) || pad < 0) throw new Error(`conv2d: invalid stride ${stride} or padding ${pad}`);
  const [n, , hh, ww] = x.shape as [number, number, number, number];
  const [oc, , kh, kw] = w.shape as [number, number, number, number];
  const oh = Math.floor((hh + 2 * pad - kh) / stride) + 1;
  const ow = Math.floor((ww + 2 * pad - kw) / stride) + 1;
  if (oh < 1 || ow < 1) throw new Error(`conv2d: kernel ${kh}x${kw} larger than padded input ${fmt(x.shape)} (padding ${pad})`);
  const xc = contiguousData(x);
  const wc = contiguousData(w);
  const out = wrap(backend, backend.kernels.conv2d(xc, wc, stride, pad), x.dtype, [n, oc, oh, ow]);
  return record('conv2d', [x, w], out, { x: xc, w: wc, stride, pad });
}

/** Nearest-neighbour upsampling of (N, C, H, W) by an integer factor. */
export function upsampleNearest2d(x: Tensor, factor = 2): Tensor {
  const backend = checkInputs('upsampleNearest2d', [x], 'upsampleNearest');
  checkFloat('upsampleNearest2d', x);
  if (x.rank !== 4) throw new Error(`upsampleNearest2d: expected (N, C, H, W), got ${fmt(x.shape)}`);
  if (!Number.isInteger(factor) || factor < 1) throw new Error(`upsampleNearest2d: factor must be a positive integer, got ${factor}`);
  const xc = contiguousData(x);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const out = wrap(backend, backend.kernels.upsampleNearest(xc, factor), x.dtype, [n, c, h * factor, w * factor]);
  if (xc !== x) xc.dispose();
  return record('upsampleNearest2d', [x], out, { factor });
}
