/**
 * Reference kernels, part 2: the fused neural-network ops (softmax, layer norm, GELU gradient,
 * embedding, cross-entropy, attention, AdamW). Row-at-a-time, double-precision accumulation.
 * Inputs documented contiguous in tensor/backend.ts arrive contiguous (offset may be non-zero).
 */
import type { Kernels, View } from '../../tensor/backend.js';
import type { DType, TypedArray } from '../../tensor/dtype.js';
import { sizeOf } from '../../tensor/shape.js';
import { arr } from './ref-basic.js';
import { geluGrad } from './math.js';
import type { BufferPool } from './pool.js';

type NnKernels = Pick<Kernels,
  'softmax' | 'softmaxBackward' | 'layerNorm' | 'layerNormBackward' | 'geluBackward' | 'embedding' | 'embeddingBackward' |
  'crossEntropy' | 'crossEntropyBackward' | 'attention' | 'attentionBackward' | 'adamw'>;

const lastDim = (v: View): number => v.shape[v.shape.length - 1] ?? 1;

/** log(sum(exp(row))) computed stably, in double precision. */
function rowLse(x: TypedArray, off: number, n: number): number {
  let m = -Infinity;
  for (let j = 0; j < n; j++) m = Math.max(m, x[off + j]!);
  if (m === -Infinity || Number.isNaN(m)) return m;
  if (m === Infinity) return Infinity;
  let s = 0;
  for (let j = 0; j < n; j++) s += Math.exp(x[off + j]! - m);
  return m + Math.log(s);
}

export function nnKernels(pool: BufferPool): NnKernels {
  const alloc = (dtype: DType, n: number, zero = false): TypedArray => pool.alloc(dtype, n, zero);

  return {
    softmax(x, log) {
      const cols = lastDim(x);
      const rows = sizeOf(x.shape) / cols;
      const src = arr(x);
      const out = alloc(x.dtype, rows * cols);
      for (let r = 0; r < rows; r++) {
        const off = x.offset + r * cols;
        let m = -Infinity;
        for (let j = 0; j < cols; j++) m = Math.max(m, src[off + j]!);
        let s = 0;
        for (let j = 0; j < cols; j++) s += Math.exp(src[off + j]! - m);
        const ls = Math.log(s);
        for (let j = 0; j < cols; j++) {
          const z = src[off + j]! - m;
          out[r * cols + j] = log ? z - ls : Math.exp(z) / s;
        }
      }
      return out;
    },

    softmaxBackward(y, dy, log) {
      const cols = lastDim(y);
      const rows = sizeOf(y.shape) / cols;
      const ya = arr(y);
      const ga = arr(dy);
      const out = alloc(y.dtype, rows * cols);
      for (let r = 0; r < rows; r++) {
        const oy = y.offset + r * cols;
        const og = dy.offset + r * cols;
        let s = 0;
        for (let j = 0; j < cols; j++) s += log ? ga[og + j]! : ga[og + j]! * ya[oy + j]!;
        for (let j = 0; j < cols; j++) {
          out[r * cols + j] = log ? ga[og + j]! - Math.exp(ya[oy + j]!) * s : ya[oy + j]! * (ga[og + j]! - s);
        }
      }
      return out;
    },

    layerNorm(x, eps) {
      const cols = lastDim(x);
      const rows = sizeOf(x.shape) / cols;
      const src = arr(x);
      const y = alloc(x.dtype, rows * cols);
      const mean = alloc(x.dtype, rows);
      const rstd = alloc(x.dtype, rows);
      for (let r = 0; r < rows; r++) {
        const off = x.offset + r * cols;
        let s = 0;
        for (let j = 0; j < cols; j++) s += src[off + j]!;
        const mu = s / cols;
        let v = 0;
        for (let j = 0; j < cols; j++) v += (src[off + j]! - mu) ** 2;
        const rs = 1 / Math.sqrt(v / cols + eps);
        mean[r] = mu;
        rstd[r] = rs;
        for (let j = 0; j < cols; j++) y[r * cols + j] = (src[off + j]! - mu) * rs;
      }
      return { y, mean, rstd };
    },

    layerNormBackward(x, dy, mean, rstd) {
      const cols = lastDim(x);
      const rows = sizeOf(x.shape) / cols;
      const [xa, ga, ma, ra] = [arr(x), arr(dy), arr(mean), arr(rstd)];
      const out = alloc(x.dtype, rows * cols);
      for (let r = 0; r < rows; r++) {
        const ox = x.offset + r * cols;
        const og = dy.offset + r * cols;
        const mu = ma[mean.offset + r]!;
        const rs = ra[rstd.offset + r]!;
        let sg = 0;
        let sgx = 0;
        for (let j = 0; j < cols; j++) {
          const g = ga[og + j]!;
          sg += g;
          sgx += g * (xa[ox + j]! - mu) * rs;
        }
        sg /= cols;
        sgx /= cols;
        for (let j = 0; j < cols; j++) out[r * cols + j] = rs * (ga[og + j]! - sg - (xa[ox + j]! - mu) * rs * sgx);
      }
      return out;
    },

    geluBackward(x, dy) {
      const n = sizeOf(x.shape);
      const [xa, ga] = [arr(x), arr(dy)];
      const out = alloc(x.dtype, n);
      for (let i = 0; i < n; i++) out[i] = ga[dy.offset + i]! * geluGrad(xa[x.offset + i]!);
      return out;
    },

    embedding(w, ids) {
      const c = w.shape[1]!;
      const n = sizeOf(ids.shape);
      const [wa, ia] = [arr(w), arr(ids)];
      const out = alloc(w.dtype, n * c);
      for (let i = 0; i < n; i++) {
        const row = w.offset + ia[ids.offset + i]! * c;
        for (let j = 0; j < c; j++) out[i * c + j] = wa[row + j]!;
      }
      return out;
    },

    embeddingBackward(ids, dy, vocab) {
      const c = lastDim(dy);
      const n = sizeOf(ids.shape);
      const [ia, ga] = [arr(ids), arr(dy)];
      const out = alloc(dy.dtype, vocab * c, true);
      for (let i = 0; i < n; i++) {
        const row = ia[ids.offset + i]! * c;
        for (let j = 0; j < c; j++) out[row + j]! += ga[dy.offset + i * c + j]!;
      }
      return out;
    },

    crossEntropy(logits, targets, ignoreIndex) {
      const [rows, v] = logits.shape as [number, number];
      const [la, ta] = [arr(logits), arr(targets)];
      const lse = alloc(logits.dtype, rows);
      let total = 0;
      let count = 0;
      for (let r = 0; r < rows; r++) {
        const off = logits.offset + r * v;
        const l = rowLse(la, off, v);
        lse[r] = l;
        const t = ta[targets.offset + r]!;
        if (t === ignoreIndex) continue;
        total += l - la[off + t]!;
        count++;
      }
      const loss = alloc(logits.dtype, 1);
      loss[0] = total / count;
      const cnt = alloc(logits.dtype, 1);
      cnt[0] = count;
      return { loss, lse, count: cnt };
    },

    crossEntropyBackward(logits, targets, lse, count, gy, ignoreIndex) {
      const [rows, v] = logits.shape as [number, number];
      const [la, ta, sa] = [arr(logits), arr(targets), arr(lse)];
      const scale = arr(gy)[gy.offset]! / arr(count)[count.offset]!;
      const out = alloc(logits.dtype, rows * v, true);
      for (let r = 0; r < rows; r++) {
        const t = ta[targets.offset + r]!;
        if (t === ignoreIndex) continue;
        const off = logits.offset + r * v;
        const l = sa[lse.offset + r]!;
        for (let j = 0; j < v; j++) out[r * v + j] = scale * Math.exp(la[off + j]! - l);
        out[r * v + t]! -= scale;
      }
      return out;
    },

    attention(q, k, v, scale, causal, keyStarts) {
      const [b, t, h, d] = q.shape as [number, number, number, number];
      const tk = k.shape[1]!;
      const [qa, ka, va] = [arr(q), arr(k), arr(v)];
      const out = alloc(q.dtype, b * t * h * d);
      const lse = alloc(q.dtype, b * h * t);
      const s = new Float64Array(tk);
      const acc = new Float64Array(d);
      const at = (x: View, bi: number, ti: number, hi: number): number => x.offset + bi * x.strides[0]! + ti * x.strides[1]! + hi * x.strides[2]!;
      for (let bi = 0; bi < b; bi++) for (let hi = 0; hi < h; hi++) for (let ti = 0; ti < t; ti++) {
        const qo = at(q, bi, ti, hi);
        // Queries are the last t of tk positions: query ti sees keys up to ti + tk - t, from the
        // row's first real key (keyStarts: left padding before it).
        const last = causal ? ti + tk - t : tk - 1;
        const first = keyStarts ? keyStarts[bi]! : 0;
        const oo = ((bi * t + ti) * h + hi) * d;
        if (first > last) {
          // A padding query sees no key: output 0, lse -inf.
          for (let e = 0; e < d; e++) out[oo + e] = 0;
          lse[(bi * h + hi) * t + ti] = -Infinity;
          continue;
        }
        let m = -Infinity;
        for (let si = first; si <= last; si++) {
          const ko = at(k, bi, si, hi);
          let dot = 0;
          for (let e = 0; e < d; e++) dot += qa[qo + e]! * ka[ko + e]!;
          s[si] = dot * scale;
          m = Math.max(m, s[si]!);
        }
        let sum = 0;
        for (let si = first; si <= last; si++) sum += (s[si] = Math.exp(s[si]! - m));
        acc.fill(0);
        for (let si = first; si <= last; si++) {
          const vo = at(v, bi, si, hi);
          const p = s[si]! / sum;
          for (let e = 0; e < d; e++) acc[e]! += p * va[vo + e]!;
        }
        for (let e = 0; e < d; e++) out[oo + e] = acc[e]!;
        lse[(bi * h + hi) * t + ti] = m + Math.log(sum);
      }
      return { out, lse };
    },

    attentionBackward(q, k, v, out, lse, dOut, scale, causal) {
      const [b, t, h, d] = q.shape as [number, number, number, number];
      const tk = k.shape[1]!;
      const [qa, ka, va, oa, la, ga] = [arr(q), arr(k), arr(v), arr(out), arr(lse), arr(dOut)];
      const dq = alloc(q.dtype, b * t * h * d, true);
      const dk = alloc(q.dtype, b * tk * h * d, true);
      const dv = alloc(q.dtype, b * tk * h * d, true);
      const at = (x: View, bi: number, ti: number, hi: number): number => x.offset + bi * x.strides[0]! + ti * x.strides[1]! + hi * x.strides[2]!;
      const ct = (bi: number, ti: number, hi: number): number => ((bi * t + ti) * h + hi) * d;
      const ck = (bi: number, si: number, hi: number): number => ((bi * tk + si) * h + hi) * d;
      for (let bi = 0; bi < b; bi++) for (let hi = 0; hi < h; hi++) for (let ti = 0; ti < t; ti++) {
        const qo = at(q, bi, ti, hi);
        const go = dOut.offset + ct(bi, ti, hi);
        const oo = out.offset + ct(bi, ti, hi);
        const l = la[lse.offset + (bi * h + hi) * t + ti]!;
        let dsum = 0; // D = dOut . out
        for (let e = 0; e < d; e++) dsum += ga[go + e]! * oa[oo + e]!;
        const last = causal ? ti + tk - t : tk - 1;
        for (let si = 0; si <= last; si++) {
          const ko = at(k, bi, si, hi);
          const vo = at(v, bi, si, hi);
          let dot = 0;
          let dp = 0;
          for (let e = 0; e < d; e++) {
            dot += qa[qo + e]! * ka[ko + e]!;
            dp += ga[go + e]! * va[vo + e]!;
          }
          const p = Math.exp(dot * scale - l);
          const ds = p * (dp - dsum) * scale;
          const kc = ck(bi, si, hi);
          const qc = ct(bi, ti, hi);
          for (let e = 0; e < d; e++) {
            dv[kc + e]! += p * ga[go + e]!;
            dq[qc + e]! += ds * ka[ko + e]!;
            dk[kc + e]! += ds * qa[qo + e]!;
          }
        }
      }
      return { dq, dk, dv };
    },

    adamw(p, g, m, v, hp) {
      const n = sizeOf(p.shape);
      const [pa, ga, ma, va] = [arr(p), arr(g), arr(m), arr(v)];
      const { lr, beta1, beta2, eps, weightDecay, bc1, bc2 } = hp;
      for (let i = 0; i < n; i++) {
        const gi = ga[g.offset + i]!;
        const mi = (ma[m.offset + i] = beta1 * ma[m.offset + i]! + (1 - beta1) * gi);
        const vi = (va[v.offset + i] = beta2 * va[v.offset + i]! + (1 - beta2) * gi * gi);
        const pi = pa[p.offset + i]! * (1 - lr * weightDecay);
        pa[p.offset + i] = pi - (lr * (mi / bc1)) / (Math.sqrt(vi / bc2) + eps);
      }
    },
  };
}
