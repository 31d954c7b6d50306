/**
 * The native fast paths: each kernel calls the addon for f32 data in the layouts it handles and
 * otherwise defers to the reference kernel of the same name, so results never depend on which
 * path ran beyond float rounding.
 */
import type { Kernels, View } from '../../tensor/backend.js';
import type { TypedArray } from '../../tensor/dtype.js';
import { contiguousStrides, sizeOf } from '../../tensor/shape.js';
import { BinaryCode, UnaryCode, type NativeAddon } from './native-api.js';
import type { BufferPool } from './pool.js';
import { outSize } from './ref-conv.js';

const f32 = (v: View): Float32Array => v.buf as Float32Array;
const i32 = (v: View): Int32Array => v.buf as Int32Array;
const isF32 = (...vs: View[]): boolean => vs.every((v) => v.dtype === 'f32');
const lastDim = (v: View): number => v.shape[v.shape.length - 1] ?? 1;

/**
 * The length of the contiguous block a broadcast view repeats (stride 0 on its leading dims, row-major
 * strides on the rest), or -1 when the view is not of that form.
 */
function period(v: View): number {
  // Leading dims broadcast (stride 0), trailing dims row-major among themselves.
  for (let cut = 0; cut <= v.shape.length; cut++) {
    const tail = v.shape.slice(cut);
    const ts = contiguousStrides(tail);
    const leadOk = v.shape.slice(0, cut).every((d, j) => d === 1 || v.strides[j] === 0);
    const tailOk = tail.every((d, j) => d === 1 || v.strides[cut + j] === ts[j]);
    if (leadOk && tailOk) return sizeOf(tail);
  }
  return -1;
}

/** (trans, ld) for reading a (rows x cols) matrix with strides (sRow, sCol), or null if the layout needs a copy. */
function gemmLayout(rows: number, cols: number, sRow: number, sCol: number): [boolean, number] | null {
  if ((sCol === 1 || cols === 1) && (rows === 1 || sRow >= cols)) return [false, rows === 1 ? Math.max(cols, 1) : sRow];
  if ((sRow === 1 || rows === 1) && (cols === 1 || sCol >= rows)) return [true, cols === 1 ? Math.max(rows, 1) : sCol];
  return null;
}

export function nativeKernels(addon: NativeAddon, ref: Kernels, pool: BufferPool): Kernels {
  const alloc = (n: number, zero = false): Float32Array => pool.alloc('f32', n, zero) as Float32Array;

  const matmulNative = (a: View, b: View): TypedArray => {
    const [ba, m, k] = a.shape as [number, number, number];
    const [bb, , n] = b.shape as [number, number, number];
    const la = gemmLayout(m, k, a.strides[1]!, a.strides[2]!);
    const lb = gemmLayout(k, n, b.strides[1]!, b.strides[2]!);
    if (!la || !lb) {
      const ac = la ? a : { ...a, buf: ref.copy(a), strides: contiguousStrides(a.shape), offset: 0 };
      const bc = lb ? b : { ...b, buf: ref.copy(b), strides: contiguousStrides(b.shape), offset: 0 };
      const out = matmulNative(ac, bc);
      if (ac !== a) pool.release(ac.buf as TypedArray, 'f32');
      if (bc !== b) pool.release(bc.buf as TypedArray, 'f32');
      return out;
    }
    const batch = Math.max(ba, bb);
    const out = alloc(batch * m * n);
    if (m * n === 0) return out;
    addon.gemm(la[0], lb[0], m, n, k, 1, f32(a), a.offset, la[1], ba === 1 ? 0 : a.strides[0]!,
      f32(b), b.offset, lb[1], bb === 1 ? 0 : b.strides[0]!, 0, out, 0, n, m * n, batch);
    return out;
  };

  const qkv = (v: View): [Float32Array, number, number[]] => [f32(v), v.offset, [v.strides[0]!, v.strides[1]!, v.strides[2]!]];

  return {
    ...ref,

    unary(op, x) {
      if (!isF32(x)) return ref.unary(op, x);
      const n = sizeOf(x.shape);
      const out = alloc(n);
      addon.unary(UnaryCode[op], f32(x), x.offset, out, n);
      return out;
    },

    binary(op, a, b, outShape) {
      if (op === 'greater' || !isF32(a, b)) return ref.binary(op, a, b, outShape);
      const n = sizeOf(outShape);
      const [na, nb] = [period(a), period(b)];
      if (na <= 0 || nb <= 0 || n === 0) return ref.binary(op, a, b, outShape);
      const out = alloc(n);
      addon.binary(BinaryCode[op], f32(a), a.offset, na, f32(b), b.offset, nb, out, n);
      return out;
    },

    reduce(op, x, axes) {
      if (op !== 'sum' || !isF32(x) || axes.length === 0) return ref.reduce(op, x, axes);
      const r = x.shape.length;
      const isSuffix = axes.every((a, i) => a === r - axes.length + i);
      const isPrefix = axes.every((a, i) => a === i);
      if (!isSuffix && !isPrefix) return ref.reduce(op, x, axes);
      const inner = sizeOf(isSuffix ? x.shape.slice(r - axes.length) : x.shape.slice(axes.length));
      const outer = sizeOf(x.shape) / (inner || 1);
      if (isSuffix) {
        const out = alloc(outer);
        addon.sumRows(f32(x), x.offset, outer, inner, out);
        return out;
      }
      const out = alloc(inner);
      addon.sumCols(f32(x), x.offset, outer, inner, out);
      return out;
    },

    matmul(a, b) {
      return isF32(a, b) ? matmulNative(a, b) : ref.matmul(a, b);
    },

    softmax(x, log) {
      if (!isF32(x)) return ref.softmax(x, log);
      const cols = lastDim(x);
      const rows = sizeOf(x.shape) / cols;
      const out = alloc(rows * cols);
      addon.softmaxForward(f32(x), x.offset, out, rows, cols, log);
      return out;
    },

    softmaxBackward(y, dy, log) {
      if (!isF32(y, dy) || y.offset !== 0 || dy.offset !== 0) return ref.softmaxBackward(y, dy, log);
      const cols = lastDim(y);
      const rows = sizeOf(y.shape) / cols;
      const out = alloc(rows * cols);
      addon.softmaxBackward(f32(y), f32(dy), out, rows, cols, log);
      return out;
    },

    layerNorm(x, eps) {
      if (!isF32(x)) return ref.layerNorm(x, eps);
      const cols = lastDim(x);
      const rows = sizeOf(x.shape) / cols;
      const [y, mean, rstd] = [alloc(rows * cols), alloc(rows), alloc(rows)];
      addon.layerNormForward(f32(x), x.offset, y, mean, rstd, rows, cols, eps);
      return { y, mean, rstd };
    },

    layerNormBackward(x, dy, mean, rstd) {
      if (!isF32(x, dy) || dy.offset !== 0 || mean.offset !== 0 || rstd.offset !== 0) return ref.layerNormBackward(x, dy, mean, rstd);
      const cols = lastDim(x);
      const rows = sizeOf(x.shape) / cols;
      const out = alloc(rows * cols);
      addon.layerNormBackward(f32(x), x.offset, f32(dy), f32(mean), f32(rstd), out, rows, cols);
      return out;
    },

    geluBackward(x, dy) {
      if (!isF32(x, dy) || x.offset !== 0 || dy.offset !== 0) return ref.geluBackward(x, dy);
      const n = sizeOf(x.shape);
      const out = alloc(n);
      addon.geluBackward(f32(x), f32(dy), out, n);
      return out;
    },

    embedding(w, ids) {
      if (!isF32(w) || w.offset !== 0 || ids.offset !== 0) return ref.embedding(w, ids);
      const c = w.shape[1]!;
      const n = sizeOf(ids.shape);
      const out = alloc(n * c);
      addon.embeddingForward(f32(w), i32(ids), out, n, c);
      return out;
    },

    embeddingBackward(ids, dy, vocab) {
      if (!isF32(dy) || ids.offset !== 0 || dy.offset !== 0) return ref.embeddingBackward(ids, dy, vocab);
      const c = lastDim(dy);
      const out = alloc(vocab * c, true);
      addon.embeddingBackward(i32(ids), f32(dy), out, sizeOf(ids.shape), c);
      return out;
    },

    crossEntropy(logits, targets, ignoreIndex) {
      if (!isF32(logits) || logits.offset !== 0 || targets.offset !== 0) return ref.crossEntropy(logits, targets, ignoreIndex);
      const [rows, v] = logits.shape as [number, number];
      const t = i32(targets);
      let count = 0;
      for (let r = 0; r < rows; r++) if (t[r] !== ignoreIndex) count++;
      const lse = alloc(rows);
      const total = addon.crossEntropyForward(f32(logits), t, lse, rows, v, ignoreIndex);
      const loss = alloc(1);
      loss[0] = total / count;
      const cnt = alloc(1);
      cnt[0] = count;
      return { loss, lse, count: cnt };
    },

    crossEntropyBackward(logits, targets, lse, count, gy, ignoreIndex) {
      if (!isF32(logits) || logits.offset !== 0 || targets.offset !== 0 || lse.offset !== 0) {
        return ref.crossEntropyBackward(logits, targets, lse, count, gy, ignoreIndex);
      }
      const [rows, v] = logits.shape as [number, number];
      const out = alloc(rows * v);
      const scale = f32(gy)[gy.offset]! / f32(count)[count.offset]!;
      addon.crossEntropyBackward(f32(logits), i32(targets), f32(lse), out, rows, v, ignoreIndex, scale);
      return out;
    },

    attention(q, k, v, scale, causal, keyStarts) {
      const [b, t, h, d] = q.shape as [number, number, number, number];
      const tk = k.shape[1]!;
      // Equal query and key lengths (training, a prompt's prefill): the flash kernel. A KV-cache step
      // (Tk > Tq) or left padding: the one-query-at-a-time kernel (the reference where an addon
      // built before it lacks it: rebuild with `npm run build:native`).
      const flash = t === tk && !keyStarts;
      if (!isF32(q, k, v) || (!flash && typeof addon.attentionKv !== 'function')) return ref.attention(q, k, v, scale, causal, keyStarts);
      const out = alloc(b * t * h * d);
      const lse = alloc(b * h * t);
      if (flash) addon.attentionForward(...qkv(q), ...qkv(k), ...qkv(v), out, lse, b, t, h, d, scale, causal);
      else addon.attentionKv(...qkv(q), ...qkv(k), ...qkv(v), out, lse, b, t, h, d, scale, causal, tk, keyStarts ?? new Int32Array(0));
      return { out, lse };
    },

    attentionBackward(q, k, v, out, lse, dOut, scale, causal) {
      if (!isF32(q, k, v, out, dOut) || out.offset !== 0 || lse.offset !== 0 || dOut.offset !== 0 || q.shape[1] !== k.shape[1]) {
        return ref.attentionBackward(q, k, v, out, lse, dOut, scale, causal);
      }
      const [b, t, h, d] = q.shape as [number, number, number, number];
      const n = b * t * h * d;
      const [dq, dk, dv] = [alloc(n), alloc(n), alloc(n)];
      addon.attentionBackward(...qkv(q), ...qkv(k), ...qkv(v), f32(out), f32(lse), f32(dOut), dq, dk, dv, b, t, h, d, scale, causal);
      return { dq, dk, dv };
    },

    conv2d(x, w, stride, pad) {
      if (!isF32(x, w)) return ref.conv2d(x, w, stride, pad);
      const [n, c, h, wd] = x.shape as [number, number, number, number];
      const [o, , kh, kw] = w.shape as [number, number, number, number];
      const [oh, ow] = [outSize(h, kh, stride, pad), outSize(wd, kw, stride, pad)];
      const ckk = c * kh * kw;
      const l = oh * ow;
      const cols = alloc(ckk * l);
      const out = alloc(n * o * l);
      for (let i = 0; i < n; i++) {
        addon.im2col(f32(x), x.offset + i * c * h * wd, c, h, wd, kh, kw, stride, pad, cols);
        // out[i] (O, L) = W (O, CKK) @ cols (CKK, L)
        addon.gemm(false, false, o, l, ckk, 1, f32(w), w.offset, ckk, 0, cols, 0, l, 0, 0, out, i * o * l, l, 0, 1);
      }
      pool.release(cols, 'f32');
      return out;
    },

    conv2dBackward(x, w, gy, stride, pad) {
      if (!isF32(x, w, gy)) return ref.conv2dBackward(x, w, gy, stride, pad);
      const [n, c, h, wd] = x.shape as [number, number, number, number];
      const [o, , kh, kw] = w.shape as [number, number, number, number];
      const [oh, ow] = [outSize(h, kh, stride, pad), outSize(wd, kw, stride, pad)];
      const ckk = c * kh * kw;
      const l = oh * ow;
      const cols = alloc(ckk * l);
      const dcols = alloc(ckk * l);
      const dx = alloc(n * c * h * wd, true);
      const dw = alloc(o * ckk, true);
      for (let i = 0; i < n; i++) {
        const gOff = gy.offset + i * o * l;
        addon.im2col(f32(x), x.offset + i * c * h * wd, c, h, wd, kh, kw, stride, pad, cols);
        // dW (O, CKK) += gy[i] (O, L) @ cols^T (L, CKK)
        addon.gemm(false, true, o, ckk, l, 1, f32(gy), gOff, l, 0, cols, 0, l, 0, 1, dw, 0, ckk, 0, 1);
        // dcols (CKK, L) = W^T (CKK, O) @ gy[i] (O, L)
        addon.gemm(true, false, ckk, l, o, 1, f32(w), w.offset, ckk, 0, f32(gy), gOff, l, 0, 0, dcols, 0, l, 0, 1);
        addon.col2im(dcols, c, h, wd, kh, kw, stride, pad, dx, i * c * h * wd);
      }
      pool.release(cols, 'f32');
      pool.release(dcols, 'f32');
      return { dx, dw };
    },

    adamw(p, g, m, v, hp) {
      if (!isF32(p, g, m, v) || p.offset !== 0 || g.offset !== 0 || m.offset !== 0 || v.offset !== 0) return ref.adamw(p, g, m, v, hp);
      addon.adamw(f32(p), f32(g), f32(m), f32(v), sizeOf(p.shape), hp.lr, hp.beta1, hp.beta2, hp.eps, hp.weightDecay, hp.bc1, hp.bc2);
    },
  };
}
